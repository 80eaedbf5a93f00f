//! What the trainer makes of its `[train]` section (`clipstream_schemas::config::TrainConfig`): the compute kind
//! of a precision on a device, and the learning rate and masking ratio of each step.

use clipstream_schemas::config::{Precision, TrainConfig};
use tch::{Device, Kind};

/// The compute kind of `precision` on `device` (`None` = the parameters' fp32).
pub fn compute_kind(precision: Precision, device: Device) -> Option<Kind> {
    match precision {
        Precision::Bf16 => Some(Kind::BFloat16),
        Precision::Auto if device.is_cuda() => Some(Kind::BFloat16),
        Precision::Auto | Precision::Fp32 => None,
    }
}

/// (learning rate, masking ratio) at `step`: cosine with warmup over the masked phase, then the unmasked phase with
/// its own warmup and cosine from `lr * unmasked_lr_scale` (never below `min_lr`) to `min_lr`, without masking.
pub fn schedule(config: &TrainConfig, step: u64) -> (f64, f64) {
    use crate::optim::cosine_with_warmup;
    if step < config.steps {
        (cosine_with_warmup(step, config.steps, config.warmup, config.lr, config.min_lr), config.mask_ratio)
    } else {
        let peak = (config.lr * config.unmasked_lr_scale).max(config.min_lr);
        let step = step - config.steps;
        (cosine_with_warmup(step, config.unmasked_steps, config.unmasked_warmup, peak, config.min_lr), 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_bf16_on_cuda_only() {
        assert_eq!(compute_kind(Precision::Auto, Device::Cuda(0)), Some(Kind::BFloat16));
        assert_eq!(compute_kind(Precision::Auto, Device::Cpu), None);
        assert_eq!(compute_kind(Precision::Fp32, Device::Cuda(0)), None);
        assert_eq!(compute_kind(Precision::Bf16, Device::Cpu), Some(Kind::BFloat16));
    }

    #[test]
    fn each_phase_warms_up_and_decays_on_its_own() {
        let config = TrainConfig {
            steps: 100,
            warmup: 10,
            unmasked_steps: 50,
            unmasked_warmup: 5,
            lr: 1e-3,
            min_lr: 1e-6,
            unmasked_lr_scale: 0.1,
            mask_ratio: 0.5,
            ..TrainConfig::default()
        };
        let at = |step| schedule(&config, step);
        assert_eq!(at(0), (1e-4, 0.5));
        assert!((at(10).0 - 1e-3).abs() < 1e-12);
        assert!(at(99).0 < 1e-5, "the masked phase ends near min_lr: {}", at(99).0);
        let (first, mask) = at(100);
        assert_eq!(mask, 0.0);
        assert!((first - 1e-4 / 5.0).abs() < 1e-12, "warmup of the unmasked phase: {first}");
        assert!((at(104).0 - 1e-4).abs() < 1e-12, "peak lr x unmasked_lr_scale");
        assert!(at(149).0 < at(120).0 && at(149).0 >= 1e-6, "cosine to min_lr");
    }
}
