//! The ViT image encoder. With `frames = Some(T)` it is ViCLIP's video encoder: Conv3d patch embedding with
//! temporal kernel `tubelet` (1 in the released ViCLIP; the reference's `kernel_size`), a learned temporal position
//! embedding, joint space-time attention over all T / tubelet x HW patch tokens, and optional random token
//! masking.

use tch::nn;
use tch::{Kind, TchError, Tensor};

use crate::nn::{Activation, Transformer, TransformerConfig, to_kind_of};

/// Shape of an image/video tower.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VisionConfig {
    pub image_size: i64,
    pub patch_size: i64,
    pub width: i64,
    pub layers: i64,
    pub heads: i64,
    /// Embedding size after `proj`.
    pub output_dim: i64,
    pub activation: Activation,
    /// Frames of the temporal position embedding (ViCLIP); `None` for a CLIP image tower.
    pub frames: Option<i64>,
    /// Frames one patch token spans (a video tower's temporal kernel and stride; 1 for an image tower).
    pub tubelet: i64,
    pub drop_path: f64,
}

impl VisionConfig {
    /// A 224 px QuickGELU ViT (OpenAI CLIP, ViCLIP) with heads of width 64; `frames` for a ViCLIP video tower.
    pub fn vit224(patch_size: i64, width: i64, layers: i64, output_dim: i64, frames: Option<i64>) -> Self {
        Self {
            image_size: 224,
            patch_size,
            width,
            layers,
            heads: width / 64,
            output_dim,
            activation: Activation::QuickGelu,
            frames,
            tubelet: 1,
            drop_path: 0.0,
        }
    }

    /// Patch tokens per frame.
    pub fn grid_tokens(&self) -> i64 {
        (self.image_size / self.patch_size).pow(2)
    }
}

/// `visual.*` (CLIP) or `vision_encoder.*` (ViCLIP).
pub struct VisionTower {
    config: VisionConfig,
    conv1: Tensor,
    class_embedding: Tensor,
    positional_embedding: Tensor,
    temporal_positional_embedding: Option<Tensor>,
    ln_pre: nn::LayerNorm,
    transformer: Transformer,
    ln_post: nn::LayerNorm,
    proj: Tensor,
}

impl VisionTower {
    pub fn new(p: &nn::Path, config: VisionConfig) -> Self {
        let (w, k) = (config.width, config.patch_size);
        let scale = (w as f64).powf(-0.5);
        let conv_shape: Vec<i64> =
            if config.frames.is_some() { vec![w, 3, config.tubelet, k, k] } else { vec![w, 3, k, k] };
        let ln =
            |name: &str| nn::layer_norm(p / name, vec![w], nn::LayerNormConfig { eps: 1e-5, ..Default::default() });
        let transformer_config =
            TransformerConfig::clip(w, config.layers, config.heads, config.activation, config.drop_path);
        Self {
            conv1: p.sub("conv1").var("weight", &conv_shape, nn::init::DEFAULT_KAIMING_UNIFORM),
            class_embedding: p.var("class_embedding", &[w], nn::Init::Randn { mean: 0.0, stdev: scale }),
            positional_embedding: p.var(
                "positional_embedding",
                &[config.grid_tokens() + 1, w],
                nn::Init::Randn { mean: 0.0, stdev: scale },
            ),
            temporal_positional_embedding: config
                .frames
                .map(|t| p.zeros("temporal_positional_embedding", &[1, (t / config.tubelet).max(1), w])),
            ln_pre: ln("ln_pre"),
            transformer: Transformer::new(&(p / "transformer"), &transformer_config),
            ln_post: ln("ln_post"),
            proj: p.var("proj", &[w, config.output_dim], nn::Init::Randn { mean: 0.0, stdev: scale }),
            config,
        }
    }

    /// Sets the positional embeddings to fixed-pattern starting values for training from scratch: the patch
    /// positions to MAE's 2D sin-cos embedding (half the width encodes the row, half the column), the class
    /// token's to zeros, and the temporal embedding (a video tower) to the 1D sin-cos embedding of the frame index.
    /// The random init (std `width^-0.5`) is small against the patch embeddings, so a model from scratch first
    /// sees neither where a patch is nor which frame it is from; with these it does from the first step.
    pub fn init_sincos_positions(&self) {
        let (w, grid) = (self.config.width, self.config.image_size / self.config.patch_size);
        let spatial = Tensor::cat(&[Tensor::zeros([1, w], (Kind::Float, tch::Device::Cpu)), sincos_2d(grid, w)], 0);
        tch::no_grad(|| {
            self.positional_embedding.shallow_clone().copy_(&spatial);
            if let Some(temporal) = &self.temporal_positional_embedding {
                let t = temporal.size()[1];
                temporal
                    .shallow_clone()
                    .copy_(&sincos_1d(&Tensor::arange(t, (Kind::Float, tch::Device::Cpu)), w).unsqueeze(0));
            }
        });
    }

    /// Mixed precision for the transformer (see [`Transformer::set_compute_kind`]).
    pub fn set_compute_kind(&mut self, kind: Option<Kind>) {
        self.transformer.set_compute_kind(kind);
    }

    pub fn config(&self) -> &VisionConfig {
        &self.config
    }

    /// Embeds images [B, 3, H, W] (CLIP) -> [B, output_dim], unnormalised. Another shape is an error.
    pub fn encode_images(&self, images: &Tensor) -> Result<Tensor, TchError> {
        let (_, c, h, wd) = images.size4()?;
        self.check_frame(c, h, wd)?;
        let x = to_kind_of(images, &self.conv1);
        let x = if self.config.frames.is_some() {
            // An image fills every frame of a tubelet.
            let tubelet = self.config.tubelet;
            x.unsqueeze(2)
                .expand([-1, -1, tubelet, -1, -1], false)
                .conv3d(&self.conv1, None::<Tensor>, [tubelet, self.config.patch_size, self.config.patch_size], 0, 1, 1)
                .squeeze_dim(2)
        } else {
            x.conv2d(&self.conv1, None::<Tensor>, [self.config.patch_size, self.config.patch_size], 0, 1, 1)
        };
        let (b, w) = (x.size()[0], self.config.width);
        let tokens = x.flatten(2, -1).transpose(1, 2);
        let mut tokens = tokens + self.positional_embedding.narrow(0, 1, self.config.grid_tokens());
        if let Some(temporal) = &self.temporal_positional_embedding {
            tokens += temporal.mean_dim(1, true, temporal.kind());
        }
        let class = (&self.class_embedding + self.positional_embedding.get(0)).view([1, 1, w]).expand([b, 1, w], true);
        self.finish(&Tensor::cat(&[class, tokens], 1), false)
    }

    /// Embeds videos [B, T, 3, H, W] (ViCLIP) -> [B, output_dim], unnormalised. `mask_ratio` > 0 keeps
    /// `L - int(ratio * L)` random patch tokens per sample (L = T x HW) before the transformer.
    pub fn encode_video(&self, video: &Tensor, mask_ratio: f64, train: bool) -> Result<Tensor, TchError> {
        let Some(temporal) = self.temporal_positional_embedding.as_ref() else {
            return Err(TchError::Shape("encode_video needs a ViCLIP video tower".into()));
        };
        let (b, t, c, h, wd) = video.size5()?;
        self.check_frame(c, h, wd)?;
        if t == 1 {
            return self.encode_images(&video.view([b, c, h, wd]));
        }
        let (w, k, tubelet) = (self.config.width, self.config.patch_size, self.config.tubelet);
        if t % tubelet != 0 {
            return Err(TchError::Shape(format!("{t} frames do not split into tubelets of {tubelet}")));
        }
        let x = to_kind_of(video, &self.conv1).permute([0, 2, 1, 3, 4]);
        let x = x.conv3d(&self.conv1, None::<Tensor>, [tubelet, k, k], 0, 1, 1);
        let t = t / tubelet;
        let n = self.config.grid_tokens();
        let x = x.flatten(3, -1).permute([0, 3, 2, 1]);
        let x = x + self.positional_embedding.narrow(0, 1, n).view([1, n, 1, w]);
        let x = x + resize_temporal(temporal, t).view([1, 1, t, w]);
        let mut tokens = x.reshape([b, n * t, w]);
        if mask_ratio > 0.0 {
            tokens = mask_tokens(&tokens, mask_ratio)?;
        }
        let class = (&self.class_embedding + self.positional_embedding.get(0)).view([1, 1, w]).expand([b, 1, w], true);
        self.finish(&Tensor::cat(&[class, tokens], 1), train)
    }

    fn finish(&self, tokens: &Tensor, train: bool) -> Result<Tensor, TchError> {
        let x = tokens.apply(&self.ln_pre);
        let x = self.transformer.forward(&x, false, train)?;
        Ok(x.select(1, 0).apply(&self.ln_post).matmul(&self.proj))
    }

    /// Refuses frames that are not 3 x `image_size` x `image_size`.
    fn check_frame(&self, c: i64, h: i64, w: i64) -> Result<(), TchError> {
        let size = self.config.image_size;
        if (c, h, w) == (3, size, size) {
            Ok(())
        } else {
            Err(TchError::Shape(format!("frames are {c}x{h}x{w}, the vision tower takes 3x{size}x{size}")))
        }
    }
}

/// The temporal embedding [1, T0, W] for `t` frames: as is when `t == T0`, linearly interpolated otherwise (the
/// reference inflates it the same way when a checkpoint is used with another frame count).
fn resize_temporal(temporal: &Tensor, t: i64) -> Tensor {
    if temporal.size()[1] == t {
        return temporal.shallow_clone();
    }
    let resized = temporal.transpose(1, 2).to_kind(Kind::Float).upsample_linear1d([t], false, None);
    resized.transpose(1, 2).to_kind(temporal.kind())
}

/// MAE's 1D sin-cos embedding [N, `width`] of `positions` [N]: `sin(p * f_i)` then `cos(p * f_i)` for the
/// `width / 2` frequencies `f_i = 10000^(-i / (width / 2))`.
fn sincos_1d(positions: &Tensor, width: i64) -> Tensor {
    let half = width / 2;
    let omega = Tensor::arange(half, (Kind::Double, tch::Device::Cpu)) / half as f64;
    let omega = (omega * -(10000f64.ln())).exp();
    let angles = positions.to_kind(Kind::Double).unsqueeze(1) * omega.unsqueeze(0);
    Tensor::cat(&[angles.sin(), angles.cos()], 1).to_kind(Kind::Float)
}

/// MAE's 2D sin-cos embedding [grid * grid, `width`] of a row-major patch grid: the first half of the width
/// encodes the row, the second the column.
fn sincos_2d(grid: i64, width: i64) -> Tensor {
    let index = Tensor::arange(grid * grid, (Kind::Int64, tch::Device::Cpu));
    let (rows, cols) = (index.divide_scalar_mode(grid, "floor"), index.remainder(grid));
    Tensor::cat(&[sincos_1d(&rows, width / 2), sincos_1d(&cols, width / 2)], 1)
}

/// Keeps `L - int(ratio * L)` uniformly chosen tokens of each sample of `x` [B, L, W], in random order (the
/// reference's argsort-of-noise masking).
pub fn mask_tokens(x: &Tensor, ratio: f64) -> Result<Tensor, TchError> {
    let (b, l, w) = x.size3()?;
    let keep = l - (ratio * l as f64) as i64;
    let noise = Tensor::rand([b, l], (Kind::Float, x.device()));
    let ids = noise.argsort(1, false).narrow(1, 0, keep);
    Ok(x.gather(1, &ids.unsqueeze(-1).expand([b, keep, w], true), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &Tensor, row: i64, col: i64) -> f64 {
        t.double_value(&[row, col])
    }

    /// A one-layer video tower with patches of 8 px.
    fn tower(vs: &nn::VarStore, image_size: i64, width: i64, frames: i64, tubelet: i64) -> VisionTower {
        let config = VisionConfig {
            image_size,
            patch_size: 8,
            width,
            layers: 1,
            heads: 2,
            output_dim: 8,
            activation: Activation::QuickGelu,
            frames: Some(frames),
            tubelet,
            drop_path: 0.0,
        };
        VisionTower::new(&vs.root(), config)
    }

    /// A tubelet of 2 frames that are the same image is one frame seen through the kernel's two time slices added:
    /// a tubelet-2 tower on frames (a, a, b, b) equals a tubelet-1 tower on (a, b) whose patch kernel is that sum
    /// and whose other weights are the same.
    #[test]
    fn tubelets_of_repeated_frames_are_single_frames() {
        let (vs2, vs1) = (nn::VarStore::new(tch::Device::Cpu), nn::VarStore::new(tch::Device::Cpu));
        let (t2, t1) = (tower(&vs2, 32, 16, 4, 2), tower(&vs1, 32, 16, 2, 1));
        assert_eq!(t2.conv1.size(), [16, 3, 2, 8, 8]);
        assert_eq!(t2.temporal_positional_embedding.as_ref().map(Tensor::size), Some(vec![1, 2, 16]));
        let _ = t2.temporal_positional_embedding.as_ref().map(|t| tch::no_grad(|| t.shallow_clone().normal_(0.0, 1.0)));
        tch::no_grad(|| {
            for (name, var) in vs1.variables() {
                let source = &vs2.variables()[&name];
                let value =
                    if name == "conv1.weight" { source.sum_dim_intlist(2, true, Kind::Float) } else { source.copy() };
                var.shallow_clone().copy_(&value);
            }
        });
        let pair = Tensor::randn([3, 2, 3, 32, 32], (Kind::Float, tch::Device::Cpu));
        let repeated = pair.repeat_interleave_self_int(2, 1, None);
        let (a, b) = (t2.encode_video(&repeated, 0.0, false).unwrap(), t1.encode_video(&pair, 0.0, false).unwrap());
        assert!(a.allclose(&b, 1e-4, 1e-5, false), "{:?}", (a - b).abs().max());
        let odd = Tensor::randn([1, 3, 3, 32, 32], (Kind::Float, tch::Device::Cpu));
        assert!(t2.encode_video(&odd, 0.0, false).is_err(), "3 frames are not tubelets of 2");
    }

    /// Spot values of MAE's `get_2d_sincos_pos_embed` (its grid puts the column first; here the row is): the
    /// patch at row 2, column 5 of a width-8 embedding is [sin(2 f), cos(2 f)] for the row's 4 dims, then the
    /// column's, with f = 1, 1/100 (10000^(-i/2), i = 0, 1).
    #[test]
    fn sincos_positions_follow_mae() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let tower = tower(&vs, 56, 8, 3, 1);
        tower.init_sincos_positions();
        let pos = &tower.positional_embedding;
        assert_eq!(pos.size(), [50, 8]);
        assert_eq!(pos.get(0).abs().sum(Kind::Double).double_value(&[]), 0.0, "the class token has no position");
        let patch = 1 + 2 * 7 + 5;
        let expected = [
            2f64.sin(),
            (2.0 / 100.0f64).sin(),
            2f64.cos(),
            (2.0 / 100.0f64).cos(),
            5f64.sin(),
            (5.0 / 100.0f64).sin(),
            5f64.cos(),
            (5.0 / 100.0f64).cos(),
        ];
        for (col, want) in expected.iter().enumerate() {
            assert!((at(pos, patch, col as i64) - want).abs() < 1e-6, "dim {col}");
        }
        let temporal = tower.temporal_positional_embedding.as_ref().expect("a video tower").get(0);
        assert_eq!(temporal.size(), [3, 8]);
        // frame 2, frequency index 1 of 4: 10000^(-1/4) = 0.1
        assert!((at(&temporal, 2, 1) - (2.0f64 * 0.1).sin()).abs() < 1e-6);
        assert!((at(&temporal, 2, 5) - (2.0f64 * 0.1).cos()).abs() < 1e-6);
        assert_eq!(at(&temporal, 0, 0), 0.0);
        assert_eq!(at(&temporal, 0, 4), 1.0);
    }
}
