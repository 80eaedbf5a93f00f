//! `ClipSpan`: one clip of a video as a half-open frame range with its times and motion score. Produced by the scene
//! splitters, consumed by clip cutting and frame sampling.

/// Frames `start_frame..end_frame` of a video (end exclusive) in decode order, `start_s..end_s` their
/// presentation times in seconds (the clip planner takes them from the frames' timestamps; [`Self::from_frames`]
/// derives them from the frame numbers).
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

    /// Frame indices at `fps` samples per second: the frames at `start_s + k / fps`, k = 0, 1, .. inside the span
    /// (each at most once, so a rate above the video's gives every frame), thinned evenly to at most `max` (the
    /// first kept). Empty when `fps` is not positive or `max` is 0.
    pub fn rate_indices(&self, fps: f64, max: u32) -> Vec<u64> {
        if !(fps > 0.0 && fps.is_finite()) || max == 0 {
            return Vec::new();
        }
        let len = self.frames().max(1);
        let duration = self.duration_s();
        if !(duration > 0.0 && duration.is_finite()) {
            return vec![self.start_frame];
        }
        // Frames between two samples; never below one frame, so the loop below runs at most `len` times.
        let step = (len as f64 / duration / fps).max(1.0);
        let picks: Vec<u64> = (0..len)
            .map(|k| (k as f64 * step + 1e-6).floor() as u64)
            .take_while(|&offset| offset < len)
            .map(|offset| self.start_frame + offset)
            .collect();
        let (n, max) = (picks.len() as u64, u64::from(max));
        if n <= max {
            return picks;
        }
        (0..max).map(|j| picks[(j * n / max) as usize]).collect()
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

    #[test]
    fn rate_samples_start_at_the_span_and_thin_evenly() {
        let span = ClipSpan::from_frames(100, 200, 25.0, 1.0);
        assert_eq!(span.rate_indices(1.0, 32), vec![100, 125, 150, 175]);
        assert_eq!(span.rate_indices(2.0, 32), vec![100, 112, 125, 137, 150, 162, 175, 187]);
        assert_eq!(span.rate_indices(2.0, 3), vec![100, 125, 162]);
        assert_eq!(span.rate_indices(0.1, 32), vec![100]);
        // Above the video's rate: every frame once.
        assert_eq!(ClipSpan::from_frames(10, 14, 25.0, 0.0).rate_indices(100.0, 32), vec![10, 11, 12, 13]);
        // NTSC rate: one frame per second of the span.
        let ntsc = ClipSpan::from_frames(0, 300, 30000.0 / 1001.0, 0.0);
        assert_eq!(ntsc.rate_indices(1.0, 32), vec![0, 29, 59, 89, 119, 149, 179, 209, 239, 269, 299]);
        assert!(span.rate_indices(0.0, 32).is_empty());
        assert!(span.rate_indices(f64::NAN, 32).is_empty());
        assert!(span.rate_indices(1.0, 0).is_empty());
    }
}
