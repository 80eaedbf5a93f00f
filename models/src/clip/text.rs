//! The CLIP text transformer: token + position embeddings, causal transformer, `ln_final`, and the projection of
//! the features at the end token (the highest id of each row, as the reference's `argmax`).

use tch::nn;
use tch::{Kind, TchError, Tensor};

use crate::nn::{Activation, Transformer, TransformerConfig};

/// Shape of a text tower.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextConfig {
    pub context_length: i64,
    pub vocab_size: i64,
    pub width: i64,
    pub layers: i64,
    pub heads: i64,
    pub output_dim: i64,
    pub activation: Activation,
}

impl TextConfig {
    /// CLIP's 12-layer QuickGELU text transformer (heads of width 64) at `context_length`.
    pub fn clip12(context_length: i64, width: i64, output_dim: i64) -> Self {
        Self {
            context_length,
            vocab_size: 49408,
            width,
            layers: 12,
            heads: width / 64,
            output_dim,
            activation: Activation::QuickGelu,
        }
    }
}

/// The text tower; its parameters sit directly under the path it is built at (CLIP: the model root; ViCLIP:
/// `text_encoder`).
pub struct TextTower {
    config: TextConfig,
    token_embedding: Tensor,
    positional_embedding: Tensor,
    transformer: Transformer,
    ln_final: nn::LayerNorm,
    text_projection: Tensor,
}

impl TextTower {
    pub fn new(p: &nn::Path, config: TextConfig) -> Self {
        let w = config.width;
        let transformer_config = TransformerConfig::clip(w, config.layers, config.heads, config.activation, 0.0);
        Self {
            token_embedding: (p / "token_embedding").var(
                "weight",
                &[config.vocab_size, w],
                nn::Init::Randn { mean: 0.0, stdev: 0.02 },
            ),
            positional_embedding: p.var(
                "positional_embedding",
                &[config.context_length, w],
                nn::Init::Randn { mean: 0.0, stdev: 0.01 },
            ),
            transformer: Transformer::new(&(p / "transformer"), &transformer_config),
            ln_final: nn::layer_norm(p / "ln_final", vec![w], nn::LayerNormConfig { eps: 1e-5, ..Default::default() }),
            text_projection: p.var(
                "text_projection",
                &[w, config.output_dim],
                nn::Init::Randn { mean: 0.0, stdev: (w as f64).powf(-0.5) },
            ),
            config,
        }
    }

    /// Mixed precision for the transformer (see [`Transformer::set_compute_kind`]).
    pub fn set_compute_kind(&mut self, kind: Option<Kind>) {
        self.transformer.set_compute_kind(kind);
    }

    pub fn config(&self) -> &TextConfig {
        &self.config
    }

    /// Embeds token ids [B, context_length] (int64, from the tokenizer) -> [B, output_dim], unnormalised.
    ///
    /// Attention is causal and only the end token's features are read, so the padding after the batch's longest
    /// row never reaches the result: it is cut before the transformer (captions are mostly much shorter than the
    /// context; the tower's cost follows their length).
    pub fn encode(&self, ids: &Tensor, train: bool) -> Result<Tensor, TchError> {
        let ids = ids.to_device(self.token_embedding.device()).to_kind(Kind::Int64);
        let end = ids.argmax(-1, false);
        let used = if ids.numel() == 0 { ids.size()[1] } else { end.max().int64_value(&[]) + 1 };
        let ids = ids.narrow(1, 0, used);
        let positions = self.positional_embedding.narrow(0, 0, used);
        let x = Tensor::embedding(&self.token_embedding, &ids, -1, false, false) + positions;
        let x = self.transformer.forward(&x, true, train)?.apply(&self.ln_final);
        let rows = Tensor::arange(ids.size()[0], (Kind::Int64, ids.device()));
        Ok(x.index(&[Some(rows), Some(end)]).matmul(&self.text_projection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, nn::VarStore};

    /// Cutting the padding after the longest row gives what the whole context gives (the reference's computation).
    #[test]
    fn cut_padding_matches_the_full_context() {
        tch::manual_seed(3);
        let vs = VarStore::new(Device::Cpu);
        let config = TextConfig {
            context_length: 12,
            vocab_size: 50,
            width: 16,
            layers: 2,
            heads: 4,
            output_dim: 8,
            activation: crate::nn::Activation::QuickGelu,
        };
        let tower = TextTower::new(&vs.root(), config);
        // Rows end (the highest id, 49) at positions 3 and 5; padding (0) after.
        let ids = Tensor::from_slice(&[1i64, 7, 9, 49, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 4, 8, 2, 49, 0, 0, 0, 0, 0, 0])
            .view([2, 12]);
        let got = tower.encode(&ids, false).unwrap();
        let full = Tensor::embedding(&tower.token_embedding, &ids, -1, false, false) + &tower.positional_embedding;
        let full = tower.transformer.forward(&full, true, false).unwrap().apply(&tower.ln_final);
        let want = full.index(&[Some(Tensor::from_slice(&[0i64, 1])), Some(Tensor::from_slice(&[3i64, 5]))]);
        let want = want.matmul(&tower.text_projection);
        let diff = (&got - &want).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "max difference {diff}");
        // A row's embedding does not depend on the other rows' lengths.
        let alone = tower.encode(&ids.narrow(0, 0, 1), false).unwrap();
        let diff = (alone - got.narrow(0, 0, 1)).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "max difference {diff}");
    }
}
