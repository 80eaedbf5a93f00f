//! The LAION improved-aesthetic predictor: an MLP 768 -> 1024 -> 128 -> 64 -> 16 -> 1 (no non-linearities; dropout
//! 0.2, 0.2, 0.1 between the first layers at train time) over L2-normalised CLIP ViT-L/14 image embeddings.
//! Parameter names `layers.{0,2,4,6,7}.{weight,bias}` as in the released `.pth`.

use tch::Tensor;
use tch::nn::{self, Module};

use crate::nn::normalize;

/// The released MLP's input width (CLIP ViT-L/14 embeddings).
pub const AESTHETIC_INPUT: i64 = 768;

pub struct AestheticMlp {
    layers: Vec<(nn::Linear, f64)>,
}

impl AestheticMlp {
    /// The MLP over `input`-wide embeddings ([`AESTHETIC_INPUT`] for the released weights).
    pub fn new(root: &nn::Path, input: i64) -> Self {
        let shape = [(0, input, 1024, 0.2), (2, 1024, 128, 0.2), (4, 128, 64, 0.1), (6, 64, 16, 0.0), (7, 16, 1, 0.0)];
        let layers = shape
            .iter()
            .map(|&(i, input, output, dropout)| {
                (nn::linear(root / "layers" / i, input, output, Default::default()), dropout)
            })
            .collect();
        Self { layers }
    }

    /// Scores [B] of image embeddings [B, 768] (normalised here).
    pub fn score(&self, embeddings: &Tensor, train: bool) -> Tensor {
        let x = normalize(embeddings);
        let x = self.layers.iter().fold(x, |x, (linear, dropout)| {
            let x = linear.forward(&x);
            if *dropout > 0.0 { x.dropout(*dropout, train) } else { x }
        });
        x.squeeze_dim(-1)
    }
}
