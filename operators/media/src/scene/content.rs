//! `ContentDetector`: PySceneDetect 0.7's content detector fed one downscaled HSV frame at a time: the weighted mean
//! absolute H/S/V frame delta (`content_val`), the threshold, and the `FlashFilter` that enforces the minimum scene
//! length (MERGE, the default, or SUPPRESS). Reference: `scenedetect/detectors/content_detector.py` and
//! `scenedetect/detector.py` of PySceneDetect 0.7.2.

use clipstream_schemas::config::{FlashMode, SceneConfig};

use crate::error::MediaError;
use crate::scene::hsv::HsvFrame;
use crate::scene::simd;

/// A frame's place in the video: its decode index and its presentation time in microseconds as PySceneDetect reads
/// it (`scene::detect`'s clock). PySceneDetect counts the distance between two places in frames of the video's
/// frame rate, `round(seconds * fps)`, so a timestamp gap counts for the frames it spans; for video at a constant
/// rate without gaps that is the difference of the indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub index: u64,
    pub us: i64,
}

impl Position {
    /// Frame `index` of a video at a constant `fps` without gaps (what PySceneDetect assumes for a frame whose time
    /// is not positive).
    pub fn counted(index: u64, fps: f64) -> Self {
        Self { index, us: (index as f64 / fps * 1e6).round_ties_even() as i64 }
    }

    /// PySceneDetect's frame number of this place (`FrameTimecode.frame_num`).
    pub fn frame(&self, fps: f64) -> u64 {
        frames_in(self.us, fps)
    }
}

/// Frames in `us` microseconds at `fps`, as PySceneDetect rounds them (half to even); 0 for negative spans.
fn frames_in(us: i64, fps: f64) -> u64 {
    ((us as f64 / 1e6) * fps).round_ties_even().max(0.0) as u64
}

/// PySceneDetect's `FlashFilter` with a length in frames, on places in time.
#[derive(Debug, Clone)]
struct FlashFilter {
    mode: FlashMode,
    length: u64,
    fps: f64,
    last_above: Option<Position>,
    merge_enabled: bool,
    merge_triggered: bool,
    merge_start: Position,
}

impl FlashFilter {
    fn new(mode: FlashMode, length: u64, fps: f64) -> Self {
        Self {
            mode,
            length,
            fps,
            last_above: None,
            merge_enabled: false,
            merge_triggered: false,
            merge_start: Position { index: 0, us: 0 },
        }
    }

    /// `to` is at least the minimum scene length past `from` (timecode subtraction clamps at 0).
    fn met(&self, from: Position, to: Position) -> bool {
        frames_in((to.us - from.us).max(0), self.fps) >= self.length
    }

    fn filter(&mut self, frame: Position, above: bool) -> Option<Position> {
        if self.length == 0 {
            return above.then_some(frame);
        }
        let last_above = *self.last_above.get_or_insert(frame);
        let min_length_met = self.met(last_above, frame);
        match self.mode {
            FlashMode::Suppress => {
                if !(above && min_length_met) {
                    return None;
                }
                self.last_above = Some(frame);
                Some(frame)
            }
            FlashMode::Merge => {
                if above {
                    self.last_above = Some(frame);
                }
                let last_above = self.last_above.unwrap_or(frame);
                if self.merge_triggered {
                    if min_length_met && !above && self.met(self.merge_start, last_above) {
                        self.merge_triggered = false;
                        return Some(last_above);
                    }
                    return None;
                }
                if !above {
                    return None;
                }
                if min_length_met {
                    self.merge_enabled = true;
                    return Some(frame);
                }
                if self.merge_enabled {
                    self.merge_triggered = true;
                    self.merge_start = frame;
                }
                None
            }
        }
    }
}

/// Sum of `|a - b|` over two equally long byte planes (portable code; [`simd::abs_diff_sum`] dispatches).
#[inline(always)]
pub(crate) fn abs_diff_sum_portable(a: &[u8], b: &[u8]) -> u64 {
    // Chunks keep the u32 lanes (which vectorise well) from overflowing: 65536 * 255 < 2^32.
    a.chunks(1 << 16)
        .zip(b.chunks(1 << 16))
        .map(|(a, b)| u64::from(a.iter().zip(b).map(|(&x, &y)| u32::from(x.abs_diff(y))).sum::<u32>()))
        .sum()
}

/// The per-component mean absolute deltas of two frames, as `_mean_pixel_distance` computes them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Components {
    pub delta_hue: f64,
    pub delta_sat: f64,
    pub delta_lum: f64,
}

impl Components {
    pub fn between(current: &HsvFrame, previous: &HsvFrame) -> Self {
        let pixels = current.pixels() as f64;
        Self {
            delta_hue: simd::abs_diff_sum(&current.hue, &previous.hue) as f64 / pixels,
            delta_sat: simd::abs_diff_sum(&current.sat, &previous.sat) as f64 / pixels,
            delta_lum: simd::abs_diff_sum(&current.val, &previous.val) as f64 / pixels,
        }
    }
}

/// Detects fast cuts from the change of HSV content between consecutive frames.
#[derive(Debug, Clone)]
pub struct ContentDetector {
    threshold: f64,
    /// Hue, saturation, luma and edge weights; the edge delta is always 0 here (its weight must be 0).
    weights: [f64; 4],
    filter: FlashFilter,
    previous: Option<HsvFrame>,
    last_score: f64,
    scores: Vec<f32>,
}

impl ContentDetector {
    /// A detector with PySceneDetect's parameters for a video at `fps` (its nominal rate, which counts the minimum
    /// scene length). The edge weight must be 0 (edges are not computed) and the weights must not all be 0.
    pub fn new(
        threshold: f64,
        min_scene_len: u32,
        weights: [f64; 4],
        mode: FlashMode,
        fps: f64,
    ) -> Result<Self, MediaError> {
        if weights[3] != 0.0 {
            return Err(MediaError::Invalid(
                "scene.weights: the edge weight must be 0 (edges are not computed)".into(),
            ));
        }
        if weights.iter().map(|w| w.abs()).sum::<f64>() <= 0.0 {
            return Err(MediaError::Invalid("scene.weights: at least one weight must be non-zero".into()));
        }
        Ok(Self {
            threshold,
            weights,
            filter: FlashFilter::new(mode, u64::from(min_scene_len), fps),
            previous: None,
            last_score: 0.0,
            scores: Vec::new(),
        })
    }

    pub fn from_config(config: &SceneConfig, fps: f64) -> Result<Self, MediaError> {
        Self::new(config.threshold, config.min_scene_len, config.weights, config.flash_filter, fps)
    }

    /// `content_val` of `current` against the previously pushed frame (0 for the first), summed in Python's order.
    fn frame_score(&self, current: &HsvFrame) -> f64 {
        let Some(previous) = &self.previous else { return 0.0 };
        let c = Components::between(current, previous);
        let [wh, ws, wv, we] = self.weights;
        let weighted = 0.0 + c.delta_hue * wh + c.delta_sat * ws + c.delta_lum * wv + 0.0 * we;
        let total = 0.0 + wh.abs() + ws.abs() + wv.abs() + we.abs();
        weighted / total
    }

    /// Feeds the frame at `frame` (frames in order); returns the frame where a new scene starts when a cut is
    /// confirmed (with MERGE this may be an earlier frame than `frame`).
    pub fn push(&mut self, frame: Position, hsv: &HsvFrame) -> Option<Position> {
        let cut = self.score(frame, hsv);
        match &mut self.previous {
            Some(previous) => previous.clone_from(hsv),
            None => self.previous = Some(hsv.clone()),
        }
        cut
    }

    /// [`Self::push`] that keeps `hsv` by swapping buffers instead of copying it: `hsv` comes back holding an
    /// earlier frame's planes (of the same size after the first frame), to be overwritten by the caller.
    pub fn push_swap(&mut self, frame: Position, hsv: &mut HsvFrame) -> Option<Position> {
        let cut = self.score(frame, hsv);
        match &mut self.previous {
            Some(previous) => std::mem::swap(previous, hsv),
            None => self.previous = Some(hsv.clone()),
        }
        cut
    }

    fn score(&mut self, frame: Position, hsv: &HsvFrame) -> Option<Position> {
        let score = self.frame_score(hsv);
        self.last_score = score;
        self.scores.push(score as f32);
        self.filter.filter(frame, score >= self.threshold)
    }

    /// Records a frame that could not be compared (a frame of another size, which PySceneDetect skips): score 0,
    /// no state change.
    pub fn skip(&mut self) {
        self.scores.push(0.0);
    }

    /// `content_val` of the last pushed frame.
    pub fn last_score(&self) -> f64 {
        self.last_score
    }

    /// `content_val` of every pushed frame, in push order.
    pub fn scores(&self) -> &[f32] {
        &self.scores
    }

    pub fn into_scores(self) -> Vec<f32> {
        self.scores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4x4 frame of one HSV colour.
    fn flat(h: u8, s: u8, v: u8) -> HsvFrame {
        HsvFrame { width: 4, height: 4, hue: vec![h; 16], sat: vec![s; 16], val: vec![v; 16] }
    }

    const FPS: f64 = 25.0;

    fn run(detector: &mut ContentDetector, frames: &[HsvFrame]) -> Vec<u64> {
        let cuts = frames.iter().enumerate().filter_map(|(i, f)| detector.push(Position::counted(i as u64, FPS), f));
        cuts.map(|cut| cut.index).collect()
    }

    fn detector(mode: FlashMode) -> ContentDetector {
        ContentDetector::new(27.0, 15, [1.0, 1.0, 1.0, 0.0], mode, FPS).expect("valid")
    }

    /// `n` frames of colour `a`, then frames of colour `b` starting at each index in `switches` (alternating).
    fn shots(len: usize, switches: &[usize]) -> Vec<HsvFrame> {
        let colours = [flat(0, 0, 20), flat(90, 200, 200)];
        (0..len).map(|i| colours[switches.iter().filter(|&&s| i >= s).count() % 2].clone()).collect()
    }

    #[test]
    fn hard_cut_is_found_at_its_frame() {
        let mut d = detector(FlashMode::Merge);
        assert_eq!(run(&mut d, &shots(60, &[30])), vec![30]);
        // (90 + 200 + 180) / 3
        assert!((f64::from(d.scores()[30]) - 470.0 / 3.0).abs() < 1e-4);
        assert_eq!(d.scores()[0], 0.0);
        assert!(d.scores().iter().enumerate().all(|(i, &s)| i == 30 || s == 0.0));
    }

    #[test]
    fn the_first_frame_never_cuts_and_early_cuts_need_the_min_length() {
        // A cut 10 frames in is closer than 15 frames to the start (PySceneDetect's filter starts at frame 0).
        let mut d = detector(FlashMode::Merge);
        assert_eq!(run(&mut d, &shots(40, &[10])), Vec::<u64>::new());
        let mut d = detector(FlashMode::Suppress);
        assert_eq!(run(&mut d, &shots(40, &[10])), Vec::<u64>::new());
        let mut d = detector(FlashMode::Merge);
        assert_eq!(run(&mut d, &shots(40, &[15])), vec![15]);
    }

    #[test]
    fn close_cuts_merge_into_the_last_one() {
        // 30 is accepted; 35..52 come closer than 15 frames to the previous one. MERGE starts merging at 35 and,
        // once the burst spans 15 frames (52 - 35) and 15 quiet frames have passed, emits its last cut (at 67).
        let mut d = detector(FlashMode::Merge);
        assert_eq!(run(&mut d, &shots(100, &[30, 35, 40, 48, 52])), vec![30, 52]);
        // The video ends before the merge resolves: the pending cut is dropped (no post_process).
        let mut d = detector(FlashMode::Merge);
        assert_eq!(run(&mut d, &shots(60, &[30, 35, 40, 48, 52])), vec![30]);
        // A burst shorter than 15 frames (35..40) is never emitted.
        let mut d = detector(FlashMode::Merge);
        assert_eq!(run(&mut d, &shots(100, &[30, 35, 40])), vec![30]);
        let mut d = detector(FlashMode::Merge);
        assert_eq!(run(&mut d, &shots(100, &[20, 22, 40])), vec![20, 40]);
    }

    #[test]
    fn close_cuts_are_suppressed() {
        // SUPPRESS drops 35 and 40 (within 15 of 30) and accepts 50 (20 after 30).
        let mut d = detector(FlashMode::Suppress);
        assert_eq!(run(&mut d, &shots(80, &[30, 35, 40, 50])), vec![30, 50]);
        let mut d = detector(FlashMode::Suppress);
        assert_eq!(run(&mut d, &shots(100, &[20, 22, 40])), vec![20, 40]);
        let mut d = detector(FlashMode::Suppress);
        assert_eq!(run(&mut d, &shots(100, &[30, 35, 40, 48, 52])), vec![30, 48]);
    }

    #[test]
    fn pushing_by_swap_equals_pushing_by_copy() {
        let frames = shots(100, &[30, 35, 40, 48, 52, 80]);
        let mut copied = detector(FlashMode::Merge);
        let cuts = run(&mut copied, &frames);
        let mut swapped = detector(FlashMode::Merge);
        let mut buffer = HsvFrame::default();
        let swapped_cuts: Vec<u64> = frames
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                // The caller overwrites whatever the buffer came back with.
                buffer.clone_from(f);
                swapped.push_swap(Position::counted(i as u64, FPS), &mut buffer).map(|cut| cut.index)
            })
            .collect();
        assert_eq!((swapped_cuts, swapped.scores()), (cuts, copied.scores()));
    }

    #[test]
    fn a_slow_fade_stays_below_the_threshold() {
        let frames: Vec<HsvFrame> = (0..60).map(|i| flat(0, 0, (i * 4) as u8)).collect();
        let mut d = detector(FlashMode::Merge);
        assert!(run(&mut d, &frames).is_empty());
        assert!(d.scores()[1..].iter().all(|&s| (f64::from(s) - 4.0 / 3.0).abs() < 1e-6));
    }

    #[test]
    fn disabled_filter_reports_every_frame_above() {
        let mut d = ContentDetector::new(27.0, 0, [1.0, 1.0, 1.0, 0.0], FlashMode::Merge, FPS).expect("valid");
        assert_eq!(run(&mut d, &shots(10, &[3, 4])), vec![3, 4]);
    }

    #[test]
    fn weights_are_validated_and_applied() {
        assert!(ContentDetector::new(27.0, 15, [1.0, 1.0, 1.0, 1.0], FlashMode::Merge, FPS).is_err());
        assert!(ContentDetector::new(27.0, 15, [0.0; 4], FlashMode::Merge, FPS).is_err());
        let mut luma = ContentDetector::new(27.0, 15, [0.0, 0.0, 1.0, 0.0], FlashMode::Merge, FPS).expect("valid");
        luma.push(Position::counted(0, FPS), &flat(0, 0, 0));
        luma.push(Position::counted(1, FPS), &flat(100, 100, 30));
        assert_eq!(luma.last_score(), 30.0);
    }

    #[test]
    fn a_timestamp_gap_counts_for_the_frames_it_spans() {
        // A cut 10 frames after the last one, with 1 s of timestamps missing in between: PySceneDetect measures the
        // minimum scene length (15 frames) in time, so the cut stands and is numbered from its time.
        let frames = shots(50, &[20, 30]);
        let gap_us = 1_000_000;
        let place = |i: usize| {
            let counted = Position::counted(i as u64, FPS);
            Position { us: counted.us + if i >= 25 { gap_us } else { 0 }, ..counted }
        };
        let mut d = detector(FlashMode::Suppress);
        let cuts: Vec<Position> = frames.iter().enumerate().filter_map(|(i, f)| d.push(place(i), f)).collect();
        assert_eq!(cuts.iter().map(|c| (c.index, c.frame(FPS))).collect::<Vec<_>>(), vec![(20, 20), (30, 55)]);
        // Counted without the gap, the second cut is too close to the first.
        let mut counted = detector(FlashMode::Suppress);
        assert_eq!(run(&mut counted, &frames), vec![20]);
    }
}
