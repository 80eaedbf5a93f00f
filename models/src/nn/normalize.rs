//! Row-wise L2 normalisation of embeddings; half-precision inputs are computed in fp32.

use tch::{Kind, Tensor};

/// L2-normalises the rows of `x`.
pub fn normalize(x: &Tensor) -> Tensor {
    let x = match x.kind() {
        Kind::Half | Kind::BFloat16 => x.to_kind(Kind::Float),
        _ => x.shallow_clone(),
    };
    let norm = x.norm_scalaropt_dim(2, [-1], true).clamp_min(1e-12);
    x / norm
}
