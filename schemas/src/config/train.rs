//! The `[train]` section: the settings of one `clipstream train` run, stored with every checkpoint so `--resume`
//! continues the same run.

use serde::{Deserialize, Serialize};

/// How batches are drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchMode {
    /// At most one clip of a video per batch.
    #[default]
    ClipPerVideo,
    /// Uniformly random batches; clips of one video may meet (their pairs are counted).
    Naive,
}

/// The horizontal flip of training clips. A flipped clip whose caption says "left" shows it on the right, so a
/// flip without rewriting the caption teaches the model the opposite of the text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flip {
    /// Never flip.
    #[default]
    Off,
    /// Flip half the clips and swap the left/right words of their captions ("left" <-> "right", "leftward" <->
    /// "rightward", ...).
    SwapWords,
}

/// The starting values of the video tower's positional embeddings in a run from scratch (`init` weights bring
/// their own).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionInit {
    /// MAE's fixed 2D sin-cos pattern for the patch positions and the 1D one for the frames: the model knows
    /// where a patch is and which frame it is from at the first step.
    #[default]
    Sincos,
    /// CLIP's random init (std `width^-0.5`, the temporal embedding zero): small next to the patch embeddings,
    /// so position and frame order must be learned first.
    Random,
}

/// The arithmetic of the forward and backward passes. Parameters, optimizer state and the loss are fp32 in
/// every case; `Bf16` runs the transformers' matrix products and attention in bf16 (mixed precision).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bf16 on CUDA, fp32 on CPU (where bf16 kernels are rarely faster).
    #[default]
    Auto,
    Fp32,
    Bf16,
}

/// The c10d backend of a data-parallel run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DistBackend {
    /// NCCL when CUDA is available, Gloo otherwise.
    #[default]
    Auto,
    Gloo,
    Nccl,
}

/// Everything `clipstream train` can be told (defaults in `default.toml`, section `[train]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Output root of `clipstream curate` (local dir or object_store URL) holding the training shards.
    pub data: String,
    /// ViCLIP architecture name (viclip-tiny, viclip-small, viclip-small-t2, viclip-small-t2-p28, viclip-b16,
    /// viclip-l14).
    pub arch: String,
    /// Safetensors weights to start from ("" = random init).
    pub init: String,
    /// Train the text tower too (ViCLIP keeps it frozen; from scratch it must learn).
    pub train_text: bool,
    pub frames: usize,
    pub batch_size: usize,
    /// Clips in the shuffle buffer.
    pub buffer: usize,
    pub sampling: BatchMode,
    /// Remove same-video pairs from the InfoNCE negatives.
    pub same_video_mask: bool,
    /// Remove pairs with the same caption from the InfoNCE negatives (the upper bound of the false-negative fixes:
    /// it knows which pairs are false negatives).
    pub same_caption_mask: bool,
    /// DIV epoch weights (1 / #clips of the clip's video).
    pub div: bool,
    /// Steps of the masked phase, then of the unmasked phase.
    pub steps: u64,
    pub unmasked_steps: u64,
    pub mask_ratio: f64,
    /// Initial temperature of the contrastive loss in a run from scratch (`init` weights bring their own).
    pub temperature: f64,
    /// Positional embeddings of the video tower at the start of a run from scratch (a resumed run loads its own).
    pub position_init: PositionInit,
    pub lr: f64,
    pub min_lr: f64,
    pub warmup: u64,
    /// Peak learning-rate factor of the unmasked phase, and its warmup steps (then cosine to `min_lr`).
    pub unmasked_lr_scale: f64,
    pub unmasked_warmup: u64,
    /// Horizontal flip of training clips.
    pub flip: Flip,
    /// Threads decoding and augmenting training clips (0 = one less than the cores, at least 1).
    pub loader_threads: usize,
    /// Distinct captions whose frozen-text-tower embeddings are kept (least recently used go first).
    pub text_cache: usize,
    pub weight_decay: f64,
    pub grad_clip: f64,
    pub seed: u64,
    /// Where checkpoints go (local dir or object_store URL); "" = none.
    pub checkpoints: String,
    /// A checkpoint every this many steps (and at the end).
    pub checkpoint_every: u64,
    /// Mixed precision (auto: bf16 on CUDA, fp32 on CPU); absent in checkpoints of older versions.
    pub precision: Precision,
    /// The c10d backend of a data-parallel run (auto: nccl on CUDA, gloo on CPU).
    pub dist_backend: DistBackend,
    /// Seconds the rendezvous and each collective wait for the other ranks.
    pub dist_timeout_s: u64,
    /// MiB per gradient bucket of the all-reduce.
    pub dist_bucket_mb: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            data: String::new(),
            arch: "viclip-tiny".into(),
            init: String::new(),
            train_text: false,
            frames: 8,
            batch_size: 32,
            buffer: 1024,
            sampling: BatchMode::ClipPerVideo,
            same_video_mask: false,
            same_caption_mask: false,
            div: false,
            steps: 1000,
            unmasked_steps: 100,
            mask_ratio: 0.9,
            temperature: 0.07,
            position_init: PositionInit::Sincos,
            lr: 4e-4,
            min_lr: 1e-6,
            warmup: 100,
            unmasked_lr_scale: 0.01,
            unmasked_warmup: 10,
            flip: Flip::Off,
            loader_threads: 0,
            text_cache: 100_000,
            weight_decay: 0.2,
            grad_clip: 1.0,
            seed: 0,
            checkpoints: String::new(),
            checkpoint_every: 500,
            precision: Precision::Auto,
            dist_backend: DistBackend::Auto,
            dist_timeout_s: 300,
            dist_bucket_mb: 25,
        }
    }
}

impl TrainConfig {
    /// Total steps of both phases.
    pub fn total_steps(&self) -> u64 {
        self.steps + self.unmasked_steps
    }

    /// The problems of this section, each naming its key.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, text: &str| {
            if !ok {
                problems.push(text.to_string());
            }
        };
        check(self.batch_size >= 2, "train.batch_size must be >= 2 (contrastive loss)");
        check((0.0..1.0).contains(&self.mask_ratio), "train.mask_ratio must be in [0, 1)");
        check(self.frames >= 1, "train.frames must be >= 1");
        check(self.buffer >= 1, "train.buffer must be >= 1");
        check(self.lr > 0.0 && self.min_lr >= 0.0, "train.lr must be > 0 and train.min_lr >= 0");
        check(self.unmasked_lr_scale >= 0.0, "train.unmasked_lr_scale must be >= 0");
        // ViCLIP clamps its temperature at 0.01 (`clipstream_models::viclip::MIN_TEMP`).
        check((0.01..=1.0).contains(&self.temperature), "train.temperature must be in [0.01, 1]");
        check(self.text_cache >= 1, "train.text_cache must be >= 1");
        check(
            !(self.same_video_mask && self.same_caption_mask),
            "train.same_video_mask and train.same_caption_mask exclude each other",
        );
        check(self.weight_decay >= 0.0, "train.weight_decay must be >= 0");
        check(self.grad_clip > 0.0, "train.grad_clip must be > 0");
        check(self.checkpoint_every >= 1, "train.checkpoint_every must be >= 1");
        check(self.dist_timeout_s >= 1, "train.dist_timeout_s must be >= 1");
        check(self.dist_bucket_mb >= 1, "train.dist_bucket_mb must be >= 1");
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_without_precision_read_as_auto() {
        let json = r#"{"data":"d","arch":"viclip-tiny","init":"","train_text":true,"frames":4,"batch_size":8,
            "buffer":64,"sampling":"clip_per_video","same_video_mask":false,"div":false,"steps":10,"unmasked_steps":1,
            "mask_ratio":0.9,"lr":0.001,"min_lr":0.0,"warmup":1,"unmasked_lr_scale":0.01,"weight_decay":0.2,
            "grad_clip":1.0,"seed":0,"checkpoints":"","checkpoint_every":5}"#;
        let config: TrainConfig = serde_json::from_str(json).expect("an older state.json");
        assert_eq!(config.precision, Precision::Auto);
        assert_eq!(config.batch_size, 8);
    }

    #[test]
    fn the_defaults_are_valid_and_bad_values_are_named() {
        assert!(TrainConfig::default().problems().is_empty());
        let bad = TrainConfig { batch_size: 1, mask_ratio: 1.0, ..TrainConfig::default() };
        let problems = bad.problems();
        assert!(problems.iter().any(|p| p.starts_with("train.batch_size")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("train.mask_ratio")), "{problems:?}");
    }
}
