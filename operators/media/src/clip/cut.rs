//! `cut_clips`: the clip stage's entry point: one output file per span, written by the configured cut mode.

use std::path::{Path, PathBuf};

use clipstream_schemas::config::{CutConfig, CutMode, FramesConfig};

use crate::clip::{cut_keyframe, cut_precise};
use crate::error::MediaError;
use crate::frames::{ClipFrames, FineSampling, FrameSampler};
use crate::span::ClipSpan;

/// Where clip `index` of a video goes: `out_dir/{index:04}.mp4`.
pub fn clip_path(out_dir: &Path, index: usize) -> PathBuf {
    out_dir.join(format!("{index:04}.mp4"))
}

/// Cuts every span of the video at `path` into `out_dir/{i:04}.mp4` (i = the span's position in `spans`) reading
/// the video once, and returns the paths in span order. `keyframe` copies the streams (a clip may start up to one
/// GOP early and end a few frames late), `precise` re-encodes exactly the span's frames, `none` writes nothing and
/// returns no path. With a `sampler`, every frame the cut decodes goes to it too; the flag says whether the cut
/// decoded (precise cutting, or keyframe mode falling back to it), i.e. whether `sampler` saw the video and needs
/// no pass of its own.
pub fn cut_clips(
    path: &Path,
    spans: &[ClipSpan],
    config: &CutConfig,
    out_dir: &Path,
    sampler: Option<&mut FrameSampler>,
) -> Result<(Vec<PathBuf>, bool), MediaError> {
    if config.mode == CutMode::None || spans.is_empty() {
        return Ok((Vec::new(), false));
    }
    if let Some(bad) = spans
        .iter()
        .find(|s| s.end_frame <= s.start_frame || s.end_s.partial_cmp(&s.start_s) != Some(std::cmp::Ordering::Greater))
    {
        return Err(MediaError::Invalid(format!("empty clip span {bad:?}")));
    }
    std::fs::create_dir_all(out_dir).map_err(|source| MediaError::Io { path: out_dir.to_path_buf(), source })?;
    let paths: Vec<PathBuf> = (0..spans.len()).map(|i| clip_path(out_dir, i)).collect();
    let sampled = sampler.is_some();
    match config.mode {
        CutMode::Keyframe => match cut_keyframe(path, spans, &paths) {
            // The stream cannot be copied into mp4 (e.g. MS-MPEG4 from AVI): re-encode instead of losing the video.
            Err(MediaError::CopyRefused { .. }) => {
                tracing::debug!(path = %path.display(), "stream copy into mp4 refused; cutting precisely");
                cut_precise(path, spans, &paths, config, sampler)?;
                Ok((paths, sampled))
            }
            other => other.map(|()| (paths, false)),
        },
        CutMode::Precise => {
            cut_precise(path, spans, &paths, config, sampler)?;
            Ok((paths, sampled))
        }
        CutMode::None => Ok((paths, false)),
    }
}

/// [`cut_clips`] that also samples the spans' frames (`frames`, `fine`: see [`FrameSampler`]) when the cut decodes
/// the video anyway (precise cutting, or keyframe mode falling back to it): the frames then, `None` when they need
/// a pass of their own.
pub fn cut_clips_sampling(
    path: &Path,
    spans: &[ClipSpan],
    config: &CutConfig,
    out_dir: &Path,
    frames: &FramesConfig,
    fine: Option<FineSampling>,
) -> Result<(Vec<PathBuf>, Option<Vec<ClipFrames>>), MediaError> {
    let mut sampler = FrameSampler::new(spans, frames, fine)?;
    let (files, sampled) = cut_clips(path, spans, config, out_dir, Some(&mut sampler))?;
    let frames = if sampled { Some(sampler.finish(path)?) } else { None };
    Ok((files, frames))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::fixtures::{barcode_video, read_barcodes};
    use crate::probe::probe;
    use clipstream_schemas::error::StageError;

    const FPS: f64 = 25.0;

    fn spans() -> Vec<ClipSpan> {
        vec![
            ClipSpan::from_frames(0, 40, FPS, 1.0),
            ClipSpan::from_frames(37, 90, FPS, 1.0),
            // Overlaps the previous one: both muxers/encoders are open at once.
            ClipSpan::from_frames(60, 75, FPS, 1.0),
            ClipSpan::from_frames(130, 200, FPS, 1.0),
        ]
    }

    #[test]
    fn precise_clips_hold_exactly_their_frames() {
        let dir = tempfile::tempdir().expect("tempdir");
        let video = dir.path().join("in.mp4");
        barcode_video(&video, 200, Some(25), false).expect("fixture");
        let config = CutConfig { mode: CutMode::Precise, crf: 20, preset: "ultrafast".into() };
        let paths = cut_clips(&video, &spans(), &config, &dir.path().join("clips"), None).expect("cut").0;
        assert_eq!(paths.len(), 4);
        assert_eq!(paths[3], dir.path().join("clips/0003.mp4"));
        for (span, path) in spans().iter().zip(&paths) {
            let codes = read_barcodes(path);
            let expected: Vec<u64> = (span.start_frame..span.end_frame).collect();
            assert_eq!(codes, expected, "{}", path.display());
            let info = probe(path).expect("probe");
            assert!((info.duration_s - span.duration_s()).abs() < 0.05, "{} vs {:?}", info.duration_s, span);
            assert_eq!(info.audio_codec, None);
        }
    }

    #[test]
    fn a_precise_cut_samples_the_frames_of_a_frames_pass() {
        use clipstream_schemas::config::FramesConfig;

        use crate::frames::{FineSampling, sample_frames};
        let dir = tempfile::tempdir().expect("tempdir");
        let video = dir.path().join("in.mp4");
        barcode_video(&video, 200, Some(25), false).expect("fixture");
        let frames = FramesConfig { count: 4, short_side: 48, jpeg_quality: 90 };
        let fine = Some(FineSampling { fps: 2.0, max_frames: 5 });
        let alone = sample_frames(&video, &spans(), &frames, fine).expect("frames pass");
        let bytes = |clips: &[crate::frames::ClipFrames]| -> Vec<Vec<u8>> {
            let all =
                clips.iter().flat_map(|c| std::iter::once(&c.middle_jpeg).chain(&c.frames_jpeg).chain(&c.fine_jpeg));
            all.map(|jpeg| jpeg.bytes().expect("read back").into_owned()).collect()
        };
        let precise = CutConfig { mode: CutMode::Precise, crf: 20, preset: "ultrafast".into() };
        let mut sampler = FrameSampler::new(&spans(), &frames, fine).expect("sampler");
        let (paths, sampled) =
            cut_clips(&video, &spans(), &precise, &dir.path().join("p"), Some(&mut sampler)).expect("cut");
        assert_eq!((paths.len(), sampled), (4, true));
        assert_eq!(bytes(&sampler.finish(&video).expect("every frame seen")), bytes(&alone));
        // A stream copy decodes nothing: the sampler is left to a pass of its own.
        let keyframe = CutConfig { mode: CutMode::Keyframe, ..CutConfig::default() };
        let mut sampler = FrameSampler::new(&spans(), &frames, fine).expect("sampler");
        let (_, sampled) =
            cut_clips(&video, &spans(), &keyframe, &dir.path().join("k"), Some(&mut sampler)).expect("cut");
        assert!(!sampled);
        assert_eq!(sampler.finish(&video).expect_err("nothing seen").code(), "decode.missing_frames");
    }

    #[test]
    fn keyframe_clips_start_at_the_keyframe_before_the_span() {
        let dir = tempfile::tempdir().expect("tempdir");
        let video = dir.path().join("in.mp4");
        let gop = 25u64;
        barcode_video(&video, 200, Some(gop as u32), false).expect("fixture");
        let config = CutConfig { mode: CutMode::Keyframe, ..CutConfig::default() };
        let paths = cut_clips(&video, &spans(), &config, &dir.path().join("clips"), None).expect("cut").0;
        for (span, path) in spans().iter().zip(&paths) {
            let codes = read_barcodes(path);
            let first = codes[0];
            assert!(first <= span.start_frame && first + gop >= span.start_frame, "{first} for {span:?}");
            // Consecutive frames from the keyframe through the span's last frame, plus at most a few reordered ones.
            assert_eq!(codes[..(span.end_frame - first) as usize], (first..span.end_frame).collect::<Vec<_>>()[..]);
            assert!(codes.len() as u64 <= span.end_frame - first + 3, "{} frames for {span:?}", codes.len());
            let info = probe(path).expect("probe");
            let expected_s = (span.end_frame - first) as f64 / FPS;
            assert!(info.duration_s >= expected_s - 0.05 && info.duration_s < expected_s + 0.2, "{}", info.duration_s);
        }
    }

    #[test]
    fn keyframe_mode_copies_audio_when_present() {
        let dir = tempfile::tempdir().expect("tempdir");
        let video = dir.path().join("av.mp4");
        // The fixture with audio comes from the ffmpeg program; skip where it is not installed.
        let made = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25:duration=6", "-f", "lavfi"])
            .args(["-i", "sine=frequency=440:duration=6", "-c:v", "libx264", "-g", "25", "-c:a", "aac", "-shortest"])
            .arg(&video)
            .status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("ffmpeg program not available; skipping");
            return;
        }
        let spans = [ClipSpan::from_frames(30, 80, FPS, 1.0), ClipSpan::from_frames(100, 150, FPS, 1.0)];
        let config = CutConfig { mode: CutMode::Keyframe, ..CutConfig::default() };
        let paths = cut_clips(&video, &spans, &config, dir.path(), None).expect("cut").0;
        for path in &paths {
            let info = probe(path).expect("probe");
            assert_eq!(info.audio_codec.as_deref(), Some("aac"));
            assert!(info.duration_s > 1.9 && info.duration_s < 3.2, "{}", info.duration_s);
        }
    }

    #[test]
    fn none_mode_and_bad_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = CutConfig { mode: CutMode::None, ..CutConfig::default() };
        let missing = dir.path().join("missing.mp4");
        assert!(cut_clips(&missing, &spans(), &config, dir.path(), None).expect("none").0.is_empty());
        let keyframe = CutConfig::default();
        assert_eq!(
            cut_clips(&missing, &spans(), &keyframe, dir.path(), None).expect_err("missing").code(),
            "probe.not_a_video"
        );
        let empty = [ClipSpan::from_frames(5, 5, FPS, 0.0)];
        assert_eq!(
            cut_clips(&missing, &empty, &keyframe, dir.path(), None).expect_err("empty").code(),
            "media.invalid"
        );
        let video = dir.path().join("in.mp4");
        barcode_video(&video, 50, None, false).expect("fixture");
        let late = [ClipSpan::from_frames(40, 80, FPS, 0.0)];
        let precise = CutConfig { mode: CutMode::Precise, ..CutConfig::default() };
        let err = cut_clips(&video, &late, &precise, &dir.path().join("p"), None).expect_err("past the end");
        assert_eq!(err.code(), "decode.missing_frames");
    }
}
