//! The CLIP transformer: pre-norm residual blocks of multi-head attention (q, k, v packed in `in_proj_weight` as
//! in `nn.MultiheadAttention`) and an MLP (`c_fc`, `c_proj`). Batch-first here; the reference runs sequence-first,
//! which is the same arithmetic. Attention goes through `scaled_dot_product_attention`.

use tch::nn;
use tch::{Kind, TchError, Tensor};

use super::drop_path;

/// The MLP non-linearity: OpenAI CLIP and ViCLIP use QuickGELU (`x * sigmoid(1.702 x)`), open_clip's non-OpenAI
/// configs the exact GELU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    QuickGelu,
    Gelu,
}

impl Activation {
    fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Self::QuickGelu => x * (x * 1.702).sigmoid(),
            Self::Gelu => x.gelu("none"),
        }
    }
}

/// Shape of a transformer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransformerConfig {
    pub width: i64,
    pub layers: i64,
    pub heads: i64,
    pub mlp_ratio: i64,
    pub activation: Activation,
    /// Largest stochastic-depth rate (the last block's; linear from 0 over the blocks).
    pub drop_path: f64,
}

impl TransformerConfig {
    /// A CLIP transformer: MLP ratio 4.
    pub fn clip(width: i64, layers: i64, heads: i64, activation: Activation, drop_path: f64) -> Self {
        Self { width, layers, heads, mlp_ratio: 4, activation, drop_path }
    }
}

struct Block {
    ln_1: nn::LayerNorm,
    in_proj_weight: Tensor,
    in_proj_bias: Tensor,
    out_proj: nn::Linear,
    ln_2: nn::LayerNorm,
    c_fc: nn::Linear,
    c_proj: nn::Linear,
    drop_path: f64,
}

/// `transformer.resblocks.{i}.*`.
pub struct Transformer {
    blocks: Vec<Block>,
    heads: i64,
    activation: Activation,
    compute: Option<Kind>,
}

fn layer_norm(p: nn::Path, width: i64) -> nn::LayerNorm {
    nn::layer_norm(p, vec![width], nn::LayerNormConfig { eps: 1e-5, ..Default::default() })
}

impl Transformer {
    /// Creates the blocks under `p` (`p / "resblocks" / i / ...`).
    pub fn new(p: &nn::Path, config: &TransformerConfig) -> Self {
        let w = config.width;
        let hidden = w * config.mlp_ratio;
        let blocks = (0..config.layers)
            .map(|i| {
                let b = p / "resblocks" / i;
                let attn = &b / "attn";
                let rate =
                    if config.layers > 1 { config.drop_path * i as f64 / (config.layers - 1) as f64 } else { 0.0 };
                Block {
                    ln_1: layer_norm(&b / "ln_1", w),
                    in_proj_weight: attn.var("in_proj_weight", &[3 * w, w], nn::init::DEFAULT_KAIMING_UNIFORM),
                    in_proj_bias: attn.zeros("in_proj_bias", &[3 * w]),
                    out_proj: nn::linear(&attn / "out_proj", w, w, Default::default()),
                    ln_2: layer_norm(&b / "ln_2", w),
                    c_fc: nn::linear(&b / "mlp" / "c_fc", w, hidden, Default::default()),
                    c_proj: nn::linear(&b / "mlp" / "c_proj", hidden, w, Default::default()),
                    drop_path: rate,
                }
            })
            .collect();
        Self { blocks, heads: config.heads, activation: config.activation, compute: None }
    }

    /// Mixed precision: with `Some(kind)` the matrix products and attention run in `kind` (e.g. bf16) on
    /// casts of the fp32 parameters, while layer norms and the residual stream stay in fp32 (what autocast
    /// does, which tch can only switch on with fp16). `None` computes in the parameters' own kind.
    pub fn set_compute_kind(&mut self, kind: Option<Kind>) {
        self.compute = kind;
    }

    /// Runs `x` [B, L, D] through every block; `causal` masks attention to later tokens (the text tower).
    pub fn forward(&self, x: &Tensor, causal: bool, train: bool) -> Result<Tensor, TchError> {
        self.blocks.iter().try_fold(x.shallow_clone(), |x, block| {
            let attended = self.attention(block, &x.apply(&block.ln_1), causal)?;
            let x = x + drop_path(&attended, block.drop_path, train);
            let hidden = self.activation.apply(&self.linear(&x.apply(&block.ln_2), &block.c_fc));
            Ok(&x + drop_path(&self.linear(&hidden, &block.c_proj), block.drop_path, train))
        })
    }

    fn attention(&self, block: &Block, x: &Tensor, causal: bool) -> Result<Tensor, TchError> {
        let (b, l, d) = x.size3()?;
        let head_dim = d / self.heads;
        let qkv = linear(x, &block.in_proj_weight, Some(&block.in_proj_bias), self.compute);
        let qkv = qkv.view([b, l, 3, self.heads, head_dim]);
        let qkv = qkv.permute([2, 0, 3, 1, 4]);
        let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
        let out = Tensor::scaled_dot_product_attention(&q, &k, &v, None::<Tensor>, 0.0, causal, None, false);
        Ok(self.linear(&out.transpose(1, 2).reshape([b, l, d]), &block.out_proj))
    }

    fn linear(&self, x: &Tensor, layer: &nn::Linear) -> Tensor {
        linear(x, &layer.ws, layer.bs.as_ref(), self.compute)
    }
}

/// `x W^T + b`, in `compute` (casting input and parameters) when given.
fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, compute: Option<Kind>) -> Tensor {
    match compute {
        Some(kind) => x.to_kind(kind).linear(&weight.to_kind(kind), bias.map(|b| b.to_kind(kind))),
        None => x.linear(weight, bias),
    }
}

/// Casts `x` to the kind of the model's parameters (inputs arrive as fp32).
pub(crate) fn to_kind_of(x: &Tensor, like: &Tensor) -> Tensor {
    if x.kind() == like.kind() { x.shallow_clone() } else { x.to_kind(like.kind()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn causal_attention_ignores_later_tokens() {
        let vs = nn::VarStore::new(Device::Cpu);
        let config = TransformerConfig {
            width: 16,
            layers: 2,
            heads: 4,
            mlp_ratio: 4,
            activation: Activation::QuickGelu,
            drop_path: 0.0,
        };
        let t = Transformer::new(&vs.root(), &config);
        let x = Tensor::randn([1, 5, 16], (Kind::Float, Device::Cpu));
        let changed = x.copy();
        let _ = changed.get(0).get(4).fill_(3.0);
        let (a, b) = (t.forward(&x, true, false).unwrap(), t.forward(&changed, true, false).unwrap());
        let first = |t: &Tensor| t.narrow(1, 0, 4);
        assert!(first(&a).allclose(&first(&b), 1e-6, 1e-6, false));
        let (a, b) = (t.forward(&x, false, false).unwrap(), t.forward(&changed, false, false).unwrap());
        assert!(!first(&a).allclose(&first(&b), 1e-6, 1e-6, false));
    }
}
