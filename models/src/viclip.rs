//! ViCLIP: the CLIP ViT video encoder with joint space-time attention (`vision_encoder.*`), the CLIP text tower
//! at context 32 (`text_encoder.*`) and the learned temperature `temp`, in the released checkpoints' layout.

use tch::nn;
use tch::{Kind, TchError, Tensor};

use crate::clip::{TextConfig, TextTower, VisionConfig, VisionTower};

/// The smallest temperature; `temp` is clamped to it (the reference's `clamp_(min=1/100)`).
pub const MIN_TEMP: f64 = 0.01;

/// Both towers' shapes, the masking ratio of training, and whether the text tower trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViclipConfig {
    pub vision: VisionConfig,
    pub text: TextConfig,
    /// Fraction of patch tokens dropped in training (0.9 in pre-training, 0 in the unmasked phase and at eval).
    pub mask_ratio: f64,
    pub freeze_text: bool,
}

impl ViclipConfig {
    /// A released size: `vision_width`/`layers`/`patch` of the ViT, `embed` output, text width, 8 frames.
    pub fn released(patch: i64, vision_width: i64, vision_layers: i64, embed: i64, text_width: i64) -> Self {
        Self {
            vision: VisionConfig::vit224(patch, vision_width, vision_layers, embed, Some(8)),
            text: TextConfig::clip12(32, text_width, embed),
            mask_ratio: 0.9,
            freeze_text: true,
        }
    }
}

/// The ViCLIP model.
pub struct Viclip {
    pub config: ViclipConfig,
    pub vision: VisionTower,
    pub text: TextTower,
    pub temp: Tensor,
}

impl Viclip {
    pub fn new(root: &nn::Path, config: ViclipConfig) -> Self {
        Self {
            vision: VisionTower::new(&(root / "vision_encoder"), config.vision),
            text: TextTower::new(&(root / "text_encoder"), config.text),
            temp: root.var("temp", &[], nn::Init::Const(MIN_TEMP)),
            config,
        }
    }

    /// Mixed precision in both towers: `Some(Kind::BFloat16)` for training on CUDA (see
    /// [`crate::nn::Transformer::set_compute_kind`]).
    pub fn set_compute_kind(&mut self, kind: Option<Kind>) {
        self.vision.set_compute_kind(kind);
        self.text.set_compute_kind(kind);
    }

    /// Video embeddings [B, D] of `video` [B, T, 3, H, W]; masked by `config.mask_ratio` only when `train`.
    pub fn encode_video(&self, video: &Tensor, train: bool) -> Result<Tensor, TchError> {
        let ratio = if train { self.config.mask_ratio } else { 0.0 };
        self.vision.encode_video(video, ratio, train)
    }

    /// Text embeddings [B, D] of token ids [B, 32].
    pub fn encode_text(&self, ids: &Tensor, train: bool) -> Result<Tensor, TchError> {
        self.text.encode(ids, train && !self.config.freeze_text)
    }

    /// The temperature used by the loss, clamped at [`MIN_TEMP`] in place first (as the reference does).
    pub fn temperature(&self) -> Tensor {
        tch::no_grad(|| {
            let _ = self.temp.shallow_clone().clamp_min_(MIN_TEMP);
        });
        self.temp.to_kind(Kind::Float)
    }
}
