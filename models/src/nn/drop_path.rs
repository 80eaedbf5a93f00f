//! Stochastic depth: during training a residual branch is dropped per sample with probability `p` and the kept ones
//! are scaled by `1 / (1 - p)` (timm's `DropPath`); identity at eval.

use tch::{Kind, Tensor};

/// Applies stochastic depth to the residual branch `x` ([B, ...]).
pub fn drop_path(x: &Tensor, p: f64, train: bool) -> Tensor {
    if !train || p <= 0.0 {
        return x.shallow_clone();
    }
    let keep = 1.0 - p;
    let mut shape = vec![x.size()[0]];
    shape.extend(std::iter::repeat_n(1, x.dim() - 1));
    let mask = Tensor::rand(shape.as_slice(), (Kind::Float, x.device())).lt(keep).to_kind(x.kind());
    x * mask / keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_at_eval_and_unbiased_in_training() {
        let x = Tensor::ones([4000, 3], (Kind::Float, tch::Device::Cpu));
        assert!(drop_path(&x, 0.3, false).equal(&x));
        let y = drop_path(&x, 0.3, true);
        let kept = y.select(1, 0).gt(0.0).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]);
        assert!((kept - 0.7).abs() < 0.03, "kept fraction {kept}");
        assert!((y.mean(Kind::Float).double_value(&[]) - 1.0).abs() < 0.05);
        let rows_whole = y.eq_tensor(&y.select(1, 0).unsqueeze(1)).all().int64_value(&[]);
        assert_eq!(rows_whole, 1, "a sample's branch is dropped as a whole");
    }
}
