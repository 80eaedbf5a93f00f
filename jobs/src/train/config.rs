//! The settings of one training run (`clipstream train` flags), stored with every checkpoint so `--resume`
//! continues the same run.

use serde::{Deserialize, Serialize};

use super::BatchMode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Output root of `clipstream curate` (local dir or object_store URL) holding the training shards.
    pub data: String,
    /// ViCLIP architecture name (viclip-tiny, viclip-b16, viclip-l14).
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
    /// DIV epoch weights (1 / #clips of the clip's video).
    pub div: bool,
    /// Steps of the masked phase, then of the unmasked phase.
    pub steps: u64,
    pub unmasked_steps: u64,
    pub mask_ratio: f64,
    pub lr: f64,
    pub min_lr: f64,
    pub warmup: u64,
    /// Learning-rate factor of the unmasked phase.
    pub unmasked_lr_scale: f64,
    pub weight_decay: f64,
    pub grad_clip: f64,
    pub seed: u64,
    /// Where checkpoints go (local dir or object_store URL); "" = none.
    pub checkpoints: String,
    /// A checkpoint every this many steps (and at the end).
    pub checkpoint_every: u64,
}

impl TrainConfig {
    /// Total steps of both phases.
    pub fn total_steps(&self) -> u64 {
        self.steps + self.unmasked_steps
    }

    /// (learning rate, masking ratio) at `step`: cosine with warmup over the masked phase, then a constant
    /// `lr * unmasked_lr_scale` without masking.
    pub fn schedule(&self, step: u64) -> (f64, f64) {
        if step < self.steps {
            let lr = clipstream_models::train::cosine_with_warmup(step, self.steps, self.warmup, self.lr, self.min_lr);
            (lr, self.mask_ratio)
        } else {
            (self.lr * self.unmasked_lr_scale, 0.0)
        }
    }
}
