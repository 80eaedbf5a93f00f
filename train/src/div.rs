//! DIV epoch weights: each epoch keeps a random subset of the clips in which videos with many clips are thinned
//! out, in the spirit of InternVid-10M-DIV (which favours covering many videos over many clips of few videos).
//!
//! What is implemented, exactly: given the clips per video `n_v` and a target epoch size `N`, a clip of video `v`
//! is kept with probability `p_v = min(1, λ / n_v)`, independently of every other clip, where the cap `λ` solves
//! `Σ_v min(n_v, λ) = N` (water filling). So a video contributes `min(n_v, λ)` clips to an epoch in expectation:
//! small videos all their clips, large ones `λ`, and each kept clip's probability is proportional to
//! `1 / #clips(video)` among the capped videos. With `N` = the number of videos and every `n_v >= 1`, `λ = 1`:
//! each clip is kept with probability exactly `1 / #clips(video)` and each video gives one clip per epoch on
//! average. The draw is a hash of (seed, epoch, clip key), not an RNG stream, so it does not depend on the order
//! in which clips are read and a resumed epoch keeps the same clips. Epoch sizes vary around `N` (a sum of
//! independent Bernoulli draws) rather than being exactly `N`: this is what makes it a streaming filter.

use std::collections::HashMap;

use clipstream_schemas::hash::{fnv1a64, splitmix64};

/// The per-clip keep probabilities of DIV weighting; see the module docs.
#[derive(Debug, Clone)]
pub struct DivWeights {
    clips: HashMap<String, u32>,
    cap: f64,
    seed: u64,
}

impl DivWeights {
    /// Weights for `clips` (clips per video key) aiming at `clips_per_epoch` clips an epoch (all clips when that is
    /// at least the total). A video missing from `clips` is treated as having one clip (always kept).
    pub fn new(clips: HashMap<String, u32>, clips_per_epoch: f64, seed: u64) -> Self {
        let cap = water_level(clips.values().copied().collect(), clips_per_epoch);
        Self { clips, cap, seed }
    }

    /// The cap `λ`: the most clips any video contributes to an epoch, in expectation.
    pub fn cap(&self) -> f64 {
        self.cap
    }

    /// The probability that a clip of `video` is kept in an epoch.
    pub fn keep_probability(&self, video: &str) -> f64 {
        let clips = f64::from(self.clips.get(video).copied().unwrap_or(1).max(1));
        (self.cap / clips).min(1.0)
    }

    /// Clips an epoch keeps, in expectation.
    pub fn expected_clips(&self) -> f64 {
        self.clips.values().map(|&n| f64::from(n).min(self.cap)).sum()
    }

    /// Whether clip `clip_key` of `video` is in epoch `epoch`.
    pub fn keep(&self, epoch: u64, video: &str, clip_key: &str) -> bool {
        unit_hash(self.seed, epoch, clip_key) < self.keep_probability(video)
    }
}

/// The `λ` with `Σ min(n, λ) = target`, or the largest count when the target is at least the total.
fn water_level(mut counts: Vec<u32>, target: f64) -> f64 {
    counts.sort_unstable();
    let mut remaining = target.max(0.0);
    for (i, &n) in counts.iter().enumerate() {
        let left = (counts.len() - i) as f64;
        if f64::from(n) * left >= remaining {
            return remaining / left;
        }
        remaining -= f64::from(n);
    }
    counts.last().map_or(0.0, |&n| f64::from(n))
}

/// A uniform number in [0, 1) from (seed, epoch, key): FNV-1a of the key, mixed with splitmix64.
fn unit_hash(seed: u64, epoch: u64, key: &str) -> f64 {
    let h = fnv1a64(key.as_bytes());
    let z = splitmix64(splitmix64(splitmix64(seed) ^ epoch) ^ h);
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn counts(clips: &[u32]) -> HashMap<String, u32> {
        clips.iter().enumerate().map(|(v, &n)| (format!("v{v}"), n)).collect()
    }

    #[test]
    fn water_level_caps_the_largest_videos() {
        assert_eq!(water_level(vec![1, 2, 5, 10, 50], 30.0), 12.0);
        assert_eq!(water_level(vec![3, 3, 3], 3.0), 1.0);
        assert_eq!(water_level(vec![3, 3, 3], 100.0), 3.0);
        assert_eq!(water_level(vec![], 10.0), 0.0);
        assert_eq!(water_level(vec![4], 0.0), 0.0);
        let weights = DivWeights::new(counts(&[1, 2, 5, 10, 50]), 30.0, 0);
        assert!((weights.expected_clips() - 30.0).abs() < 1e-9);
        assert_eq!(weights.keep_probability("v0"), 1.0);
        assert!((weights.keep_probability("v4") - 12.0 / 50.0).abs() < 1e-12);
        assert_eq!(weights.keep_probability("unknown"), 1.0);
    }

    #[test]
    fn unit_hash_is_uniform_and_depends_on_every_input() {
        let draws: Vec<f64> = (0..20_000).map(|i| unit_hash(1, 0, &format!("k{i}"))).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let below_tenth = draws.iter().filter(|&&u| u < 0.1).count();
        assert!((1_800..2_200).contains(&below_tenth), "{below_tenth}");
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        assert_ne!(unit_hash(1, 0, "k"), unit_hash(2, 0, "k"));
        assert_ne!(unit_hash(1, 0, "k"), unit_hash(1, 1, "k"));
        assert_eq!(unit_hash(1, 0, "k"), unit_hash(1, 0, "k"));
    }

    /// Property: over many epochs, each video keeps `min(n_v, λ)` clips per epoch on average, for random datasets
    /// and targets.
    #[test]
    fn property_kept_clips_per_video_match_the_weights() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for case in 0..20 {
            let videos = rng.random_range(2..30);
            let clips: Vec<u32> = (0..videos).map(|_| rng.random_range(1..60)).collect();
            let total: u32 = clips.iter().sum();
            let target = if case == 0 { f64::from(videos) } else { rng.random_range(1.0..f64::from(total)) };
            let weights = DivWeights::new(counts(&clips), target, case);
            let epochs = 400u64;
            let keys: Vec<(String, Vec<String>)> = clips
                .iter()
                .enumerate()
                .map(|(v, &n)| (format!("v{v}"), (0..n).map(|c| format!("v{v}_{c:04}")).collect()))
                .collect();
            let mut kept = vec![0u64; clips.len()];
            for epoch in 0..epochs {
                for (v, (video, clip_keys)) in keys.iter().enumerate() {
                    kept[v] += clip_keys.iter().filter(|key| weights.keep(epoch, video, key)).count() as u64;
                }
            }
            let mut epoch_total = 0.0;
            for (v, &n) in clips.iter().enumerate() {
                let p = weights.keep_probability(&format!("v{v}"));
                let expected = f64::from(n) * p;
                let mean = kept[v] as f64 / epochs as f64;
                // 5 standard errors of a mean of `epochs` Binomial(n, p) draws, plus a little slack.
                let tolerance = 5.0 * (f64::from(n) * p * (1.0 - p) / epochs as f64).sqrt() + 1e-9;
                assert!(
                    (mean - expected).abs() <= tolerance,
                    "case {case} video {v} ({n} clips, cap {}): {mean} vs {expected}",
                    weights.cap()
                );
                assert!(expected <= weights.cap() + 1e-9);
                epoch_total += mean;
            }
            assert!((epoch_total - target.min(f64::from(total))).abs() < 0.05 * target + 0.5, "case {case}");
            if case == 0 {
                assert!((weights.cap() - 1.0).abs() < 1e-12, "one clip per video per epoch");
            }
        }
    }

    #[test]
    fn epochs_differ_and_repeat() {
        let weights = DivWeights::new(counts(&[100]), 10.0, 3);
        let pick = |epoch| (0..100).filter(|c| weights.keep(epoch, "v0", &format!("v0_{c:04}"))).collect::<Vec<_>>();
        assert_eq!(pick(1), pick(1));
        assert_ne!(pick(1), pick(2));
    }
}
