//! `SynthSpec`: what synthetic dataset to make (seed, count, size, shot lengths, shot kinds, encoding).

use serde::{Deserialize, Serialize};

/// Parameters of a synthetic dataset; the same spec always plans and renders the same videos (their encoded bytes
/// may differ a little: libx264 is not bit-reproducible here, see the README).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthSpec {
    pub seed: u64,
    /// Number of videos, named `synth-0000`, `synth-0001`, ...
    pub videos: usize,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Shots per video, inclusive range.
    pub min_shots: u32,
    pub max_shots: u32,
    /// Shot length in seconds, uniform in this range.
    pub min_shot_s: f64,
    pub max_shot_s: f64,
    /// Probability that a shot is a still image.
    pub still_ratio: f64,
    /// Probability that a shot flashes (strobing brightness; about half the shots can flash, so the share of
    /// flashing shots is about half this).
    pub flashing_ratio: f64,
    /// Probability that a shot (from the third on) is a retake of the shot before last: same scene and caption,
    /// shapes nudged. Retakes make near-duplicate clips within a video (the false negatives of naive contrastive
    /// batches). 0 leaves every other draw, and so the videos of a seed, unchanged.
    pub repeat_ratio: f64,
    /// x264 constant rate factor and preset of the written mp4 files.
    pub crf: u32,
    pub preset: String,
}

impl Default for SynthSpec {
    fn default() -> Self {
        Self {
            seed: 0,
            videos: 8,
            width: 320,
            height: 240,
            fps: 25,
            min_shots: 3,
            max_shots: 8,
            min_shot_s: 2.5,
            max_shot_s: 8.0,
            still_ratio: 0.15,
            flashing_ratio: 0.3,
            repeat_ratio: 0.0,
            crf: 18,
            preset: "veryfast".into(),
        }
    }
}
