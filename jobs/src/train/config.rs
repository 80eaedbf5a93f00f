//! The settings of one training run (`clipstream train` flags), stored with every checkpoint so `--resume`
//! continues the same run.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind};

use super::BatchMode;

/// The arithmetic of the forward and backward passes. Parameters, optimizer state and the loss are fp32 in
/// every case; `Bf16` runs the transformers' matrix products and attention in bf16 (mixed precision).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bf16 on CUDA, fp32 on CPU (where bf16 kernels are rarely faster).
    #[default]
    Auto,
    Fp32,
    Bf16,
}

impl Precision {
    /// The compute kind on `device` (`None` = the parameters' fp32).
    pub fn compute_kind(self, device: Device) -> Option<Kind> {
        match self {
            Precision::Bf16 => Some(Kind::BFloat16),
            Precision::Auto if device.is_cuda() => Some(Kind::BFloat16),
            Precision::Auto | Precision::Fp32 => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Output root of `clipstream curate` (local dir or object_store URL) holding the training shards.
    pub data: String,
    /// ViCLIP architecture name (viclip-tiny, viclip-small, viclip-b16, viclip-l14).
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
    /// Mixed precision (default auto: bf16 on CUDA, fp32 on CPU); absent in checkpoints of older versions.
    #[serde(default)]
    pub precision: Precision,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_bf16_on_cuda_only() {
        assert_eq!(Precision::Auto.compute_kind(Device::Cuda(0)), Some(Kind::BFloat16));
        assert_eq!(Precision::Auto.compute_kind(Device::Cpu), None);
        assert_eq!(Precision::Fp32.compute_kind(Device::Cuda(0)), None);
        assert_eq!(Precision::Bf16.compute_kind(Device::Cpu), Some(Kind::BFloat16));
    }

    #[test]
    fn checkpoints_without_precision_read_as_auto() {
        let json = r#"{"data":"d","arch":"viclip-tiny","init":"","train_text":true,"frames":4,"batch_size":8,
            "buffer":64,"sampling":"clip_per_video","same_video_mask":false,"div":false,"steps":10,"unmasked_steps":1,
            "mask_ratio":0.9,"lr":0.001,"min_lr":0.0,"warmup":1,"unmasked_lr_scale":0.01,"weight_decay":0.2,
            "grad_clip":1.0,"seed":0,"checkpoints":"","checkpoint_every":5}"#;
        let config: TrainConfig = serde_json::from_str(json).expect("an older state.json");
        assert_eq!(config.precision, Precision::Auto);
    }
}
