//! `ClipSpan`: one clip of a video as a half-open frame range with its times and motion score. Produced by the scene
//! splitters, consumed by clip cutting and frame sampling.

/// Frames `start_frame..end_frame` of a video (end exclusive), `start_s..end_s` in seconds (= frame / fps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipSpan {
    pub start_frame: u64,
    pub end_frame: u64,
    pub start_s: f64,
    pub end_s: f64,
    /// Mean ContentDetector score over the span's frames (0 = still).
    pub motion: f64,
}

impl ClipSpan {
    /// A span over frames `start..end` at `fps`, with times derived from the frame numbers.
    pub fn from_frames(start_frame: u64, end_frame: u64, fps: f64, motion: f64) -> Self {
        Self { start_frame, end_frame, start_s: start_frame as f64 / fps, end_s: end_frame as f64 / fps, motion }
    }

    pub fn frames(&self) -> u64 {
        self.end_frame.saturating_sub(self.start_frame)
    }

    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }

    /// `count` frame indices spread uniformly over the span (the middle of `count` equal segments), and the
    /// middle frame. Never outside the span; a span shorter than `count` repeats frames.
    pub fn sample_indices(&self, count: u32) -> (Vec<u64>, u64) {
        let len = self.frames().max(1);
        let n = u64::from(count.max(1));
        let picks = (0..n).map(|i| self.start_frame + ((2 * i + 1) * len / (2 * n)).min(len - 1)).collect();
        (picks, self.start_frame + len / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_stay_inside_and_spread() {
        let span = ClipSpan::from_frames(100, 200, 25.0, 1.0);
        let (picks, middle) = span.sample_indices(4);
        assert_eq!(picks, vec![112, 137, 162, 187]);
        assert_eq!(middle, 150);
        assert_eq!(span.duration_s(), 4.0);
        let short = ClipSpan::from_frames(10, 12, 25.0, 0.0);
        let (picks, middle) = short.sample_indices(8);
        assert!(picks.iter().all(|&p| (10..12).contains(&p)), "{picks:?}");
        assert_eq!(middle, 11);
    }
}
