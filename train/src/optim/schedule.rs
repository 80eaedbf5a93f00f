//! The learning-rate schedule: linear warmup from 0 over `warmup` steps, then cosine decay to `min_lr` at `total`.

/// The learning rate at `step` (0-based) of `total` steps.
pub fn cosine_with_warmup(step: u64, total: u64, warmup: u64, lr: f64, min_lr: f64) -> f64 {
    if warmup > 0 && step < warmup {
        return lr * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1) as f64;
    let progress = ((step.saturating_sub(warmup)) as f64 / span).min(1.0);
    min_lr + 0.5 * (lr - min_lr) * (1.0 + (std::f64::consts::PI * progress).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_the_floor() {
        let lr = |s| cosine_with_warmup(s, 100, 10, 1e-3, 1e-5);
        assert!((lr(0) - 1e-4).abs() < 1e-12);
        assert!((lr(9) - 1e-3).abs() < 1e-12);
        assert!((lr(10) - 1e-3).abs() < 1e-12);
        assert!((lr(55) - (1e-5 + 0.5 * (1e-3 - 1e-5))).abs() < 1e-9);
        assert!((lr(100) - 1e-5).abs() < 1e-12);
        assert!((1..100).all(|s| lr(s + 10) <= lr(s + 9) + 1e-15), "monotone after warmup");
        assert_eq!(cosine_with_warmup(0, 10, 0, 2.0, 0.0), 2.0);
    }
}
