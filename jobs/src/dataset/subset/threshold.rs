//! The score threshold of a top fraction, exactly and in constant memory: two streaming passes of a radix
//! histogram over the scores as order-preserving 32-bit keys (f32 precision). Pass 1 counts the high 16 bits and
//! finds the bin holding the k-th largest score; pass 2 counts the low 16 bits inside that bin and finds the
//! score itself. Memory: two arrays of 65,536 counters, whatever the number of clips.

/// Bins of one radix pass.
const BINS: usize = 1 << 16;

/// An order-preserving key of a score: `a < b` exactly when `key(a) < key(b)` (as f32).
pub fn score_key(score: f64) -> u32 {
    let bits = (score as f32).to_bits();
    if bits & 0x8000_0000 != 0 { !bits } else { bits | 0x8000_0000 }
}

fn key_score(key: u32) -> f32 {
    let bits = if key & 0x8000_0000 != 0 { key & 0x7fff_ffff } else { !key };
    f32::from_bits(bits)
}

/// The threshold search for the top `fraction` of the scores of one stream.
#[derive(Debug, Clone)]
pub struct TopFraction {
    fraction: f64,
    high: Vec<u64>,
    low: Vec<u64>,
    total: u64,
    /// After pass 1: the high bin of the threshold and how many of its largest keys are wanted.
    bin: Option<(u32, u64)>,
}

impl TopFraction {
    /// `fraction` in (0, 1].
    pub fn new(fraction: f64) -> Self {
        Self { fraction, high: vec![0; BINS], low: vec![0; BINS], total: 0, bin: None }
    }

    /// Pass 1: counts one score.
    pub fn count(&mut self, score: f64) {
        self.high[(score_key(score) >> 16) as usize] += 1;
        self.total += 1;
    }

    /// Scores counted in pass 1.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// How many scores the top fraction holds (at least 1 when there is any score).
    pub fn wanted(&self) -> u64 {
        ((self.total as f64 * self.fraction).ceil() as u64).clamp(self.total.min(1), self.total)
    }

    /// Ends pass 1: finds the high bin of the threshold. `false` when no score was counted.
    pub fn end_pass_one(&mut self) -> bool {
        let mut left = self.wanted();
        if left == 0 {
            return false;
        }
        for bin in (0..BINS).rev() {
            let count = self.high[bin];
            if count >= left {
                self.bin = Some((bin as u32, left));
                return true;
            }
            left -= count;
        }
        false
    }

    /// Pass 2: counts one score (the same stream again).
    pub fn refine(&mut self, score: f64) {
        let key = score_key(score);
        if let Some((bin, _)) = self.bin
            && key >> 16 == bin
        {
            self.low[(key & 0xffff) as usize] += 1;
        }
    }

    /// Ends pass 2: the threshold, the smallest score of the top fraction (as f32). Scores `>=` it are in; ties at
    /// the threshold may add a few more than [`TopFraction::wanted`].
    pub fn threshold(&self) -> Option<f64> {
        let (bin, mut left) = self.bin?;
        for low in (0..BINS).rev() {
            let count = self.low[low];
            if count >= left {
                // The f32 written as its shortest decimal, so the threshold reads as the score it is (0.39, not
                // 0.38999998569488525); it maps back to the same f32.
                let score = key_score((bin << 16) | low as u32);
                return Some(score.to_string().parse().unwrap_or(f64::from(score)));
            }
            left -= count;
        }
        None
    }

    /// Whether `score` is in the top fraction found.
    pub fn is_in(threshold: f64, score: f64) -> bool {
        score_key(score) >= score_key(threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipstream_schemas::hash::uniform;

    fn threshold(scores: &[f64], fraction: f64) -> Option<f64> {
        let mut top = TopFraction::new(fraction);
        scores.iter().for_each(|s| top.count(*s));
        if !top.end_pass_one() {
            return None;
        }
        scores.iter().for_each(|s| top.refine(*s));
        top.threshold()
    }

    #[test]
    fn keys_preserve_order() {
        let values = [-3.5, -1.0, -0.0, 0.0, 1e-8, 0.25, 0.5, 1.0, 7.0];
        for pair in values.windows(2) {
            assert!(score_key(pair[0]) <= score_key(pair[1]), "{pair:?}");
        }
        assert_eq!(key_score(score_key(0.3)), 0.3f32);
        assert_eq!(key_score(score_key(-2.75)), -2.75f32);
    }

    #[test]
    fn finds_the_exact_quantile() {
        let scores: Vec<f64> = (0..10_000).map(|i| uniform(3, &i.to_string()) * 2.0 - 0.5).collect();
        let mut sorted: Vec<f32> = scores.iter().map(|s| *s as f32).collect();
        sorted.sort_by(|a, b| b.total_cmp(a));
        for fraction in [0.3_f64, 0.01, 1.0, 0.5] {
            let k = (10_000.0 * fraction).ceil() as usize;
            let got = threshold(&scores, fraction).expect("threshold");
            assert_eq!(got as f32, sorted[k - 1], "fraction {fraction}");
            let inside = scores.iter().filter(|s| TopFraction::is_in(got, **s)).count();
            assert_eq!(inside, k, "fraction {fraction}");
        }
        assert_eq!(threshold(&[], 0.3), None);
        assert_eq!(threshold(&[0.7], 0.3), Some(0.7));
        let ties = [0.5, 0.5, 0.5, 0.1];
        assert_eq!(threshold(&ties, 0.25), Some(0.5));
    }
}
