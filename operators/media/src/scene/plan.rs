//! `plan_clips`: turns a video's scenes into the clips to cut — drops scenes shorter than the minimum duration,
//! splits long ones into equal pieces no longer than the maximum, and drops still and over-dynamic clips by their
//! mean content score (InternVid-style curation).

use clipstream_schemas::config::ClipFilter;

use crate::scene::detect::SceneList;
use crate::span::ClipSpan;

/// How many candidate clips each rule dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounts {
    /// Shorter than `min_duration_s`.
    pub too_short: u64,
    /// Mean content score below `still_max_motion`.
    pub still: u64,
    /// Mean content score above `dynamic_min_motion`.
    pub dynamic: u64,
}

impl DropCounts {
    pub fn total(&self) -> u64 {
        self.too_short + self.still + self.dynamic
    }
}

/// The clips to cut from one video, and what was dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClipPlan {
    pub kept: Vec<ClipSpan>,
    pub dropped: DropCounts,
}

/// Mean score over the frames strictly inside `start..end`: the first frame is left out because it carries the
/// delta to the previous scene (the cut itself). 0 for a span of one frame.
fn motion(scores: &[f32], start: u64, end: u64) -> f64 {
    let inner = scores.get(start as usize + 1..(end as usize).min(scores.len())).unwrap_or(&[]);
    if inner.is_empty() { 0.0 } else { inner.iter().map(|&s| f64::from(s)).sum::<f64>() / inner.len() as f64 }
}

/// `start..end` split into the fewest equal pieces of at most `max_frames` frames.
fn split(start: u64, end: u64, max_frames: u64) -> impl Iterator<Item = (u64, u64)> {
    let len = end - start;
    let pieces = len.div_ceil(max_frames.max(1)).max(1);
    (0..pieces).map(move |i| (start + i * len / pieces, start + (i + 1) * len / pieces))
}

/// Plans the clips of `scenes` under `filter`.
pub fn plan_clips(scenes: &SceneList, filter: &ClipFilter) -> ClipPlan {
    let fps = scenes.fps;
    let mut plan = ClipPlan::default();
    if fps.is_nan() || fps <= 0.0 {
        return plan;
    }
    // The longest clip in frames; a tiny epsilon keeps 30.0 s * 29.97 from losing a frame to rounding.
    let max_frames = ((filter.max_duration_s * fps) + 1e-9).floor().max(1.0) as u64;
    for (start, end) in scenes.scenes() {
        for (start, end) in split(start, end, max_frames) {
            if ((end - start) as f64) < filter.min_duration_s * fps - 1e-9 {
                plan.dropped.too_short += 1;
                continue;
            }
            let motion = motion(&scenes.scores, start, end);
            if motion < filter.still_max_motion {
                plan.dropped.still += 1;
            } else if motion > filter.dynamic_min_motion {
                plan.dropped.dynamic += 1;
            } else {
                // Times from the frames' own timestamps (exact for variable-rate video too).
                let (start_s, end_s) = (scenes.time_of(start), scenes.time_of(end));
                plan.kept.push(ClipSpan { start_frame: start, end_frame: end, start_s, end_s, motion });
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> ClipFilter {
        ClipFilter { min_duration_s: 2.0, max_duration_s: 10.0, still_max_motion: 0.5, dynamic_min_motion: 18.0 }
    }

    /// 25 fps; `scores[i]` = `motion` inside every scene, the cut frames carry 100.
    fn scenes(frames: u64, cuts: Vec<u64>, motion: impl Fn(u64) -> f32) -> SceneList {
        let scores = (0..frames).map(|i| if cuts.contains(&i) { 100.0 } else { motion(i) }).collect();
        SceneList::at_25_fps(frames, cuts, scores)
    }

    #[test]
    fn clip_times_are_the_frames_own() {
        // A variable-rate video: frames 0-99 at 25 fps, then a 2 s gap in the timestamps.
        let mut list = scenes(200, vec![100], |_| 2.0);
        list.frame_times = (0..200).map(|i| i as f64 / 25.0 + if i >= 100 { 2.0 } else { 0.0 }).collect();
        let plan = plan_clips(&list, &filter());
        let times: Vec<(f64, f64)> = plan.kept.iter().map(|s| (s.start_s, s.end_s)).collect();
        // The last clip ends a frame after the last frame's time.
        assert_eq!(times, vec![(0.0, 6.0), (6.0, 10.0)]);
    }

    #[test]
    fn short_scenes_are_dropped_and_the_cut_frame_is_not_motion() {
        let plan = plan_clips(&scenes(200, vec![30, 100], |_| 2.0), &filter());
        assert_eq!(plan.dropped, DropCounts { too_short: 1, still: 0, dynamic: 0 });
        let spans: Vec<(u64, u64)> = plan.kept.iter().map(|s| (s.start_frame, s.end_frame)).collect();
        assert_eq!(spans, vec![(30, 100), (100, 200)]);
        assert!(plan.kept.iter().all(|s| (s.motion - 2.0).abs() < 1e-9), "{:?}", plan.kept);
        assert_eq!(plan.kept[0].start_s, 1.2);
        // Exactly the minimum (50 frames = 2 s) is kept.
        let plan = plan_clips(&scenes(100, vec![50], |_| 2.0), &filter());
        assert_eq!(plan.kept.len(), 2);
    }

    #[test]
    fn long_scenes_split_into_equal_pieces_within_the_maximum() {
        // 26 s -> 3 pieces of 8.67 s (216/217 frames).
        let plan = plan_clips(&scenes(650, vec![], |_| 1.0), &filter());
        let spans: Vec<(u64, u64)> = plan.kept.iter().map(|s| (s.start_frame, s.end_frame)).collect();
        assert_eq!(spans, vec![(0, 216), (216, 433), (433, 650)]);
        assert!(plan.kept.iter().all(|s| s.duration_s() <= 10.0));
        // Exactly the maximum stays whole.
        assert_eq!(plan_clips(&scenes(250, vec![], |_| 1.0), &filter()).kept.len(), 1);
    }

    #[test]
    fn still_and_dynamic_clips_are_dropped() {
        let plan = plan_clips(
            &scenes(300, vec![100, 200], |i| {
                if i < 100 {
                    0.1
                } else if i < 200 {
                    30.0
                } else {
                    5.0
                }
            }),
            &filter(),
        );
        assert_eq!(plan.dropped, DropCounts { too_short: 0, still: 1, dynamic: 1 });
        assert_eq!(plan.kept.len(), 1);
        assert_eq!(plan.kept[0].start_frame, 200);
        assert_eq!(plan.dropped.total(), 2);
    }

    #[test]
    fn one_frame_span_has_no_motion() {
        assert_eq!(motion(&[5.0, 6.0], 1, 2), 0.0);
        assert_eq!(motion(&[5.0, 6.0, 7.0], 0, 3), 6.5);
    }
}
