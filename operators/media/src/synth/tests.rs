//! Tests of the synthetic videos: determinism, decoded frame counts, and the content-score margins that make the
//! ground truth hold for a PySceneDetect-style detector (cuts well above 27, flashing shots 18..27, normal under 8).

use std::ops::ControlFlow;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;

use super::plan::plan_video;
use super::render::Renderer;
use super::*;
use crate::decode::{VideoDecoder, packed_row};

/// PySceneDetect's ContentDetector cut threshold.
const THRESHOLD: f64 = 27.0;

/// OpenCV's 8-bit HSV of each RGB pixel, through the scene detector's bit-exact conversion.
fn hsv(rgb: &[u8]) -> Vec<[i16; 3]> {
    rgb.chunks_exact(3)
        .map(|p| {
            let (h, s, v) = crate::scene::hsv::bgr_pixel_to_hsv(p[2], p[1], p[0]);
            [i16::from(h), i16::from(s), i16::from(v)]
        })
        .collect()
}

/// ContentDetector's frame score: mean over pixels and the H, S, V channels of |a - b|.
fn content_score(a: &[[i16; 3]], b: &[[i16; 3]]) -> f64 {
    let total: i64 = a.iter().zip(b).map(|(p, q)| (0..3).map(|c| i64::from((p[c] - q[c]).abs())).sum::<i64>()).sum();
    total as f64 / (3.0 * a.len() as f64)
}

/// Per-frame scores (index i = score between frame i - 1 and i; 0 for frame 0) of a sequence of RGB frames.
fn scores(frames: impl Iterator<Item = Vec<u8>>) -> Vec<f64> {
    let mut previous: Option<Vec<[i16; 3]>> = None;
    frames
        .map(|rgb| {
            let current = hsv(&rgb);
            let score = previous.as_ref().map_or(0.0, |p| content_score(p, &current));
            previous = Some(current);
            score
        })
        .collect()
}

/// The score bands a video must keep.
struct Bands {
    /// Every cut scores above this.
    cut_min: f64,
    /// Per-frame scores inside a still shot stay at or under this.
    still_max: f64,
    /// A normal shot's mean is at least this (clearly not still) and no frame reaches `normal_max`.
    normal_mean_min: f64,
    normal_max: f64,
    /// A flashing shot's mean lies in this range; no frame reaches 27 - 1.
    flashing_mean: (f64, f64),
}

/// The margins of rendered (uncompressed) frames.
const RENDERED_BANDS: Bands = Bands {
    cut_min: THRESHOLD + 10.0,
    still_max: 0.0,
    normal_mean_min: 0.5,
    normal_max: 8.0,
    flashing_mean: (20.0, 23.0),
};

/// Checks the score margins of one video against its ground truth.
fn check_margins(truth: &SynthVideo, scores: &[f64], bands: &Bands) {
    assert_eq!(scores.len() as u64, truth.frames);
    for &cut in &truth.cut_frames {
        let score = scores[cut as usize];
        assert!(score > bands.cut_min, "{}: cut at {cut} scores {score}", truth.video);
    }
    for shot in &truth.shots {
        let inner = &scores[shot.start_frame as usize + 1..shot.end_frame as usize];
        let max = inner.iter().copied().fold(0.0, f64::max);
        let mean = inner.iter().sum::<f64>() / inner.len() as f64;
        let what =
            format!("{} {:?} shot {}..{} ({})", truth.video, shot.kind, shot.start_frame, shot.end_frame, shot.caption);
        match shot.kind {
            ShotKind::Still => assert!(max <= bands.still_max, "{what}: still shot scores up to {max}"),
            ShotKind::Normal => {
                assert!(max < bands.normal_max, "{what}: normal shot scores up to {max}");
                assert!(mean >= bands.normal_mean_min, "{what}: normal shot mean {mean}");
            }
            ShotKind::Flashing => {
                let (low, high) = bands.flashing_mean;
                assert!(mean > low && mean < high, "{what}: flashing mean {mean}");
                assert!(max < THRESHOLD - 1.0, "{what}: flashing shot reaches {max}");
            }
        }
    }
}

fn rendered_scores(plan: &VideoPlan) -> Vec<f64> {
    let mut renderer = Renderer::new(plan);
    scores((0..plan.truth.frames).map(|frame| {
        let mut rgb = Vec::new();
        renderer.render(frame, &mut rgb);
        rgb
    }))
}

#[test]
fn rendered_frames_keep_the_score_margins() {
    let spec = SynthSpec { width: 128, height: 96, ..SynthSpec::default() };
    let mut kinds = std::collections::HashSet::new();
    for seed in 0..6 {
        for index in 0..4 {
            let plan = plan_video(&SynthSpec { seed, ..spec.clone() }, index);
            kinds.extend(plan.truth.shots.iter().map(|s| s.kind));
            check_margins(&plan.truth, &rendered_scores(&plan), &RENDERED_BANDS);
        }
    }
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}

#[test]
fn retakes_repeat_a_caption_and_keep_the_cuts() {
    let spec = SynthSpec { width: 128, height: 96, repeat_ratio: 0.6, ..SynthSpec::default() };
    let mut retakes = 0;
    for seed in 0..4 {
        for index in 0..4 {
            let plan = plan_video(&SynthSpec { seed, ..spec.clone() }, index);
            let shots = &plan.truth.shots;
            retakes += (2..shots.len()).filter(|&i| shots[i].caption == shots[i - 2].caption).count();
            for pair in shots.windows(2) {
                assert_ne!(pair[0].caption, pair[1].caption, "adjacent shots differ");
            }
            check_margins(&plan.truth, &rendered_scores(&plan), &RENDERED_BANDS);
            let plain = plan_video(&SynthSpec { seed, repeat_ratio: 0.0, ..spec.clone() }, index);
            assert_eq!(plain.truth.shots[..2], plan.truth.shots[..2], "no retake draw before the third shot");
        }
    }
    assert!(retakes >= 10, "{retakes} retakes");
}

#[test]
fn ground_truth_is_consistent() {
    let spec = SynthSpec::default();
    for seed in 0..20 {
        for index in 0..3 {
            let truth = plan_video(&SynthSpec { seed, ..spec.clone() }, index).truth;
            assert!((3..=8).contains(&truth.shots.len()), "{}", truth.shots.len());
            assert_eq!(truth.shots[0].start_frame, 0);
            assert_eq!(truth.shots.last().map(|s| s.end_frame), Some(truth.frames));
            for pair in truth.shots.windows(2) {
                assert_eq!(pair[0].end_frame, pair[1].start_frame);
            }
            let starts: Vec<u64> = truth.shots.iter().skip(1).map(|s| s.start_frame).collect();
            assert_eq!(truth.cut_frames, starts);
            for shot in &truth.shots {
                let frames = shot.end_frame - shot.start_frame;
                assert!((62..=200).contains(&frames), "shot of {frames} frames");
                assert!(shot.caption.starts_with("a ") && shot.caption.contains(" background"), "{}", shot.caption);
            }
            assert_eq!((truth.width, truth.height, truth.fps), (320, 240, 25));
        }
    }
}

#[test]
fn same_seed_same_dataset() {
    let spec =
        SynthSpec { seed: 7, videos: 2, width: 96, height: 64, max_shots: 3, max_shot_s: 3.0, ..SynthSpec::default() };
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    // One worker and three (more than videos): the same ground truth and frames.
    let videos = write_dataset(&spec, &a, 1).expect("first");
    assert_eq!(write_dataset(&spec, &b, 3).expect("second"), videos);
    let text = |dir: &std::path::Path| std::fs::read_to_string(dir.join(GROUND_TRUTH_FILE)).expect("read");
    assert_eq!(text(&a), text(&b));
    assert_eq!(text(&a).lines().count(), 2);
    assert_eq!(read_ground_truth(&a.join(GROUND_TRUTH_FILE)).expect("parse"), videos);
    let line: serde_json::Value = serde_json::from_str(text(&a).lines().next().expect("line")).expect("json");
    assert_eq!(line["video"], "synth-0000");
    assert_eq!(line["path"], "synth-0000.mp4");
    assert_eq!(line["fps"], 25);
    assert!(line["shots"][0]["kind"].is_string() && line["cut_frames"].is_array());
    let first_frame = |path: &std::path::Path| {
        let mut decoder = VideoDecoder::open(path, 1).expect("open");
        let mut rgb = Vec::new();
        decoder
            .for_each_converted(Pixel::RGB24, 96, 64, scaling::Flags::POINT, |f| {
                rgb = (0..64).flat_map(|y| packed_row(f.frame, y, 3).to_vec()).collect();
                ControlFlow::Break(())
            })
            .expect("decode");
        rgb
    };
    // The plan renders the same frames every time; the encodes are only close (libx264 is not
    // bit-reproducible here, see spec.rs), so each decoded first frame is checked against the rendering.
    for (index, video) in videos.iter().enumerate() {
        let (plan, again) = (plan_video(&spec, index), plan_video(&spec, index));
        let last = video.shots.last().expect("shots").end_frame - 1;
        let mut rendered = (Vec::new(), Vec::new());
        for frame in [0, last / 2, last] {
            plan.render_frame(frame, &mut rendered.0);
            again.render_frame(frame, &mut rendered.1);
            assert_eq!(rendered.0, rendered.1, "{} frame {frame}", video.video);
        }
        plan.render_frame(0, &mut rendered.0);
        for dir in [&a, &b] {
            let decoded = first_frame(&dir.join(&video.path));
            assert_eq!(decoded.len(), rendered.0.len());
            let error: u64 = decoded.iter().zip(&rendered.0).map(|(&x, &y)| u64::from(x.abs_diff(y))).sum();
            let mean = error as f64 / decoded.len() as f64;
            assert!(mean < 8.0, "{}: decoded first frame {mean:.2} from the rendering", video.video);
        }
    }
    // Another seed, another dataset.
    let other = plan_video(&SynthSpec { seed: 8, ..spec.clone() }, 0).truth;
    assert_ne!(other, videos[0]);
}

#[test]
fn decoded_video_matches_ground_truth() {
    // A full-size video holding every shot kind; the margins must survive H.264 compression.
    let spec = SynthSpec { max_shot_s: 3.5, ..SynthSpec::default() };
    let (seed, plan) = (0..200)
        .map(|seed| (seed, plan_video(&SynthSpec { seed, ..spec.clone() }, 0)))
        .find(|(_, plan)| {
            let kinds: std::collections::HashSet<_> = plan.truth.shots.iter().map(|s| s.kind).collect();
            kinds.len() == 3 && plan.truth.shots.len() <= 5
        })
        .expect("a seed with all shot kinds");
    let spec = SynthSpec { seed, ..spec };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(&plan.truth.path);
    write_video(&plan, &spec, &path).expect("write");
    let info = crate::probe::probe(&path).expect("probe");
    assert_eq!((info.width, info.height), (320, 240));
    assert!((info.fps - 25.0).abs() < 1e-6);
    let mut decoder = VideoDecoder::open(&path, 0).expect("open");
    let mut frames = Vec::new();
    decoder
        .for_each_converted(Pixel::RGB24, 320, 240, scaling::Flags::POINT, |f| {
            frames.push((0..240).flat_map(|y| packed_row(f.frame, y, 3).to_vec()).collect::<Vec<u8>>());
            ControlFlow::Continue(())
        })
        .expect("decode");
    assert_eq!(frames.len() as u64, plan.truth.frames);
    // Compression adds a little noise everywhere: still shots stay near 0 (the default still filter drops clips
    // under 0.2, the dynamic filter those over 18), the rest keep their bands.
    let bands = Bands {
        cut_min: THRESHOLD + 8.0,
        still_max: 0.2,
        normal_mean_min: 0.4,
        normal_max: 8.0,
        flashing_mean: (18.5, 25.0),
    };
    check_margins(&plan.truth, &scores(frames.into_iter()), &bands);
}
