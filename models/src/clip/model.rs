//! The two-tower CLIP model (`visual.*` + the text tower at the root + `logit_scale`), and its standard sizes.

use tch::Tensor;
use tch::nn;

use super::{TextConfig, TextTower, VisionConfig, VisionTower};
use crate::nn::normalize;

/// Both towers' shapes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipConfig {
    pub vision: VisionConfig,
    pub text: TextConfig,
}

impl ClipConfig {
    /// An OpenAI CLIP ViT (QuickGELU, text context 77).
    pub fn openai(embed: i64, patch: i64, vision_width: i64, vision_layers: i64, text_width: i64) -> Self {
        Self {
            vision: VisionConfig::vit224(patch, vision_width, vision_layers, embed, None),
            text: TextConfig::clip12(77, text_width, embed),
        }
    }
}

/// A CLIP model in the OpenAI/open_clip state-dict layout.
pub struct Clip {
    pub visual: VisionTower,
    pub text: TextTower,
    pub logit_scale: Tensor,
}

impl Clip {
    pub fn new(root: &nn::Path, config: &ClipConfig) -> Self {
        Self {
            visual: VisionTower::new(&(root / "visual"), config.vision),
            text: TextTower::new(root, config.text),
            logit_scale: root.var("logit_scale", &[], nn::Init::Const((1.0f64 / 0.07).ln())),
        }
    }

    /// `logit_scale.exp() * normalize(images) @ normalize(texts).T` -> [images, texts].
    pub fn logits(&self, image_embeds: &Tensor, text_embeds: &Tensor) -> Tensor {
        let (i, t) = (normalize(image_embeds), normalize(text_embeds));
        i.matmul(&t.transpose(0, 1)) * self.logit_scale.exp()
    }
}
