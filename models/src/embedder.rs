//! A loaded video-text model behind one interface for scoring and zero-shot captioning: ViCLIP embeds a clip with
//! space-time attention; CLIP embeds each frame and averages the normalised frame embeddings.

use std::path::Path;

use tch::nn::VarStore;
use tch::{Device, TchError, Tensor};

use crate::arch::Arch;
use crate::clip::Clip;
use crate::nn::normalize;
use crate::preprocess::Resize;
use crate::viclip::Viclip;
use crate::weights::{self, KeyReport, WeightsError};

enum Towers {
    Clip(Clip),
    Viclip(Viclip),
}

/// A CLIP or ViCLIP model with its weights, in eval mode.
pub struct VideoTextModel {
    vs: VarStore,
    towers: Towers,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("architecture {0:?} is not a video-text model")]
    NotVideoText(String),
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

impl VideoTextModel {
    /// Builds `arch` on `device` with random weights (tests, training from scratch).
    pub fn new(arch: &Arch, device: Device) -> Result<Self, ModelError> {
        let vs = VarStore::new(device);
        let towers = match arch {
            Arch::Clip(config) => Towers::Clip(Clip::new(&vs.root(), config)),
            Arch::Viclip(config) => Towers::Viclip(Viclip::new(&vs.root(), *config)),
            Arch::Aesthetic => return Err(ModelError::NotVideoText("aesthetic-mlp".into())),
        };
        Ok(Self { vs, towers })
    }

    /// Builds `arch` and loads `weights` by name.
    pub fn load(arch: &Arch, weights_path: &Path, device: Device) -> Result<(Self, KeyReport), ModelError> {
        let mut model = Self::new(arch, device)?;
        let report = weights::load(&mut model.vs, weights_path)?;
        Ok((model, report))
    }

    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    pub fn var_store_mut(&mut self) -> &mut VarStore {
        &mut self.vs
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Text context length (77 for CLIP, 32 for ViCLIP).
    pub fn context_length(&self) -> usize {
        let text = match &self.towers {
            Towers::Clip(m) => m.text.config(),
            Towers::Viclip(m) => m.text.config(),
        };
        text.context_length as usize
    }

    /// Width of the (normalised) embeddings.
    pub fn embed_dim(&self) -> i64 {
        match &self.towers {
            Towers::Clip(m) => m.visual.config().output_dim,
            Towers::Viclip(m) => m.vision.config().output_dim,
        }
    }

    /// Input resolution of the vision tower.
    pub fn image_size(&self) -> i64 {
        match &self.towers {
            Towers::Clip(m) => m.visual.config().image_size,
            Towers::Viclip(m) => m.vision.config().image_size,
        }
    }

    /// This model's eval input: its square image size and how its eval transform fits a frame into it (what
    /// `FrameTransform::new` and the score stage's `clip_frames` take).
    pub fn eval_input(&self) -> (i64, Resize) {
        let resize = match &self.towers {
            Towers::Clip(_) => Resize::CLIP,
            Towers::Viclip(_) => Resize::VICLIP,
        };
        (self.image_size(), resize)
    }

    /// Normalised clip embeddings [B, D] of `frames` [B, T, 3, H, W] (CLIP-normalised pixels).
    pub fn embed_clips(&self, frames: &Tensor) -> Result<Tensor, TchError> {
        tch::no_grad(|| match &self.towers {
            Towers::Viclip(m) => Ok(normalize(&m.encode_video(&frames.to_device(self.device()), false)?)),
            Towers::Clip(m) => {
                let (b, t, c, h, w) = frames.size5()?;
                let images = frames.to_device(self.device()).reshape([b * t, c, h, w]);
                let per_frame = normalize(&m.visual.encode_images(&images)?).view([b, t, -1]);
                Ok(normalize(&per_frame.mean_dim(1, false, per_frame.kind())))
            }
        })
    }

    /// Normalised image embeddings [B, D] of `images` [B, 3, H, W].
    pub fn embed_images(&self, images: &Tensor) -> Result<Tensor, TchError> {
        tch::no_grad(|| {
            let images = images.to_device(self.device());
            match &self.towers {
                Towers::Viclip(m) => Ok(normalize(&m.vision.encode_images(&images)?)),
                Towers::Clip(m) => Ok(normalize(&m.visual.encode_images(&images)?)),
            }
        })
    }

    /// Normalised text embeddings [B, D] of token ids [B, context_length].
    pub fn embed_texts(&self, ids: &Tensor) -> Result<Tensor, TchError> {
        tch::no_grad(|| match &self.towers {
            Towers::Viclip(m) => Ok(normalize(&m.encode_text(ids, false)?)),
            Towers::Clip(m) => Ok(normalize(&m.text.encode(ids, false)?)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_model_fits_frames_its_own_way() {
        let model = |name: &str| VideoTextModel::new(&Arch::by_name(name).unwrap(), Device::Cpu).unwrap();
        assert_eq!(model("viclip-tiny").eval_input(), (56, Resize::Squash));
        assert_eq!(model("clip-tiny").eval_input(), (56, Resize::Shortest));
    }
}
