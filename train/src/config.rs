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

/// (learning rate, masking ratio) at `step`: cosine with warmup over the masked phase, then a constant
/// `lr * unmasked_lr_scale` without masking.
pub fn schedule(config: &TrainConfig, step: u64) -> (f64, f64) {
    if step < config.steps {
        let lr = crate::optim::cosine_with_warmup(step, config.steps, config.warmup, config.lr, config.min_lr);
        (lr, config.mask_ratio)
    } else {
        (config.lr * config.unmasked_lr_scale, 0.0)
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
}
