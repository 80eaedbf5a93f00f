//! The ViT image encoder. With `frames = Some(T)` it is ViCLIP's video encoder: Conv3d patch embedding with
//! temporal kernel 1, a learned temporal position embedding, joint space-time attention over all T x HW patch
//! tokens, and optional random token masking.

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
        let conv_shape: Vec<i64> = if config.frames.is_some() { vec![w, 3, 1, k, k] } else { vec![w, 3, k, k] };
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
            temporal_positional_embedding: config.frames.map(|t| p.zeros("temporal_positional_embedding", &[1, t, w])),
            ln_pre: ln("ln_pre"),
            transformer: Transformer::new(&(p / "transformer"), &transformer_config),
            ln_post: ln("ln_post"),
            proj: p.var("proj", &[w, config.output_dim], nn::Init::Randn { mean: 0.0, stdev: scale }),
            config,
        }
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
            x.unsqueeze(2)
                .conv3d(&self.conv1, None::<Tensor>, [1, self.config.patch_size, self.config.patch_size], 0, 1, 1)
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
        let w = self.config.width;
        let x = to_kind_of(video, &self.conv1).permute([0, 2, 1, 3, 4]);
        let x = x.conv3d(&self.conv1, None::<Tensor>, [1, self.config.patch_size, self.config.patch_size], 0, 1, 1);
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

/// Keeps `L - int(ratio * L)` uniformly chosen tokens of each sample of `x` [B, L, W], in random order (the
/// reference's argsort-of-noise masking).
pub fn mask_tokens(x: &Tensor, ratio: f64) -> Result<Tensor, TchError> {
    let (b, l, w) = x.size3()?;
    let keep = l - (ratio * l as f64) as i64;
    let noise = Tensor::rand([b, l], (Kind::Float, x.device()));
    let ids = noise.argsort(1, false).narrow(1, 0, keep);
    Ok(x.gather(1, &ids.unsqueeze(-1).expand([b, keep, w], true), false))
}
