//! The named architectures: the released ViCLIP and OpenAI CLIP sizes and the tiny test sizes (the layouts of
//! `tests/fixtures`). `clipstream convert --arch NAME` and the `score.arch` config use these names.

use crate::clip::{ClipConfig, TextConfig, VisionConfig};
use crate::nn::Activation;
use crate::viclip::ViclipConfig;

/// A model family with its shapes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arch {
    Clip(ClipConfig),
    Viclip(ViclipConfig),
    /// The LAION aesthetic MLP.
    Aesthetic,
}

/// Every architecture name, for help texts and errors.
pub const ARCH_NAMES: &[&str] = &[
    "viclip-l14",
    "viclip-b16",
    "viclip-small",
    "viclip-small-t2",
    "viclip-small-t2-p28",
    "viclip-tiny",
    "clip-vit-l14",
    "clip-vit-b16",
    "clip-vit-b32",
    "clip-tiny",
    "aesthetic-mlp",
];

#[derive(Debug, thiserror::Error)]
#[error("unknown architecture {0:?}; known: {names}", names = ARCH_NAMES.join(", "))]
pub struct UnknownArch(pub String);

/// The shape of a scaled-down tower pair: vision at `image_size` px with `patch_size` patches, both towers `width`
/// wide and `layers` deep with 4 heads, embeddings of `output_dim`.
#[derive(Clone, Copy)]
struct Scaled {
    image_size: i64,
    patch_size: i64,
    width: i64,
    layers: i64,
    output_dim: i64,
}

/// The tiny test towers: 56 px, patch 14, width 32, 2 layers, 4 heads, output 16.
const TINY: Scaled = Scaled { image_size: 56, patch_size: 14, width: 32, layers: 2, output_dim: 16 };

/// ViCLIP for training from scratch on a CPU or one small GPU (the synthetic benchmark): 112 px, patch 16 (7 x 7
/// patches a frame), width 128, 4 layers, 4 heads; output 128.
const SMALL: Scaled = Scaled { image_size: 112, patch_size: 16, width: 128, layers: 4, output_dim: 128 };

/// `SMALL` with 28-pixel patches (4 x 4 a frame): a third of the tokens, each seeing more of the frame (on the
/// synthetic benchmark, 2 x 2 cells of a checkered background or two bands of a striped one).
const SMALL_P28: Scaled = Scaled { patch_size: 28, ..SMALL };

fn scaled_vision(size: Scaled, frames: Option<i64>, tubelet: i64, activation: Activation) -> VisionConfig {
    VisionConfig {
        image_size: size.image_size,
        patch_size: size.patch_size,
        width: size.width,
        layers: size.layers,
        heads: 4,
        output_dim: size.output_dim,
        activation,
        frames,
        tubelet,
        drop_path: 0.0,
    }
}

fn scaled_text(size: Scaled, context_length: i64, activation: Activation) -> TextConfig {
    TextConfig {
        context_length,
        vocab_size: 49408,
        width: size.width,
        layers: size.layers,
        heads: 4,
        output_dim: size.output_dim,
        activation,
    }
}

/// A scaled-down ViCLIP: 4 frames, patch tokens spanning `tubelet` frames, context 32, QuickGELU, masking 0.9, text
/// frozen unless training asks.
fn scaled_viclip(size: Scaled, tubelet: i64) -> ViclipConfig {
    ViclipConfig {
        vision: scaled_vision(size, Some(4), tubelet, Activation::QuickGelu),
        text: scaled_text(size, 32, Activation::QuickGelu),
        mask_ratio: 0.9,
        freeze_text: true,
    }
}

impl Arch {
    pub fn by_name(name: &str) -> Result<Self, UnknownArch> {
        Ok(match name {
            "viclip-l14" => Self::Viclip(ViclipConfig::released(14, 1024, 24, 768, 768)),
            "viclip-b16" => Self::Viclip(ViclipConfig::released(16, 768, 12, 512, 512)),
            "viclip-small" => Self::Viclip(scaled_viclip(SMALL, 1)),
            "viclip-small-t2" => Self::Viclip(scaled_viclip(SMALL, 2)),
            "viclip-small-t2-p28" => Self::Viclip(scaled_viclip(SMALL_P28, 2)),
            "viclip-tiny" => Self::Viclip(scaled_viclip(TINY, 1)),
            "clip-vit-l14" => Self::Clip(ClipConfig::openai(768, 14, 1024, 24, 768)),
            "clip-vit-b16" => Self::Clip(ClipConfig::openai(512, 16, 768, 12, 512)),
            "clip-vit-b32" => Self::Clip(ClipConfig::openai(512, 32, 768, 12, 512)),
            "clip-tiny" => Self::Clip(ClipConfig {
                vision: scaled_vision(TINY, None, 1, Activation::Gelu),
                text: scaled_text(TINY, 77, Activation::Gelu),
            }),
            "aesthetic-mlp" => Self::Aesthetic,
            other => return Err(UnknownArch(other.to_string())),
        })
    }
}

impl Arch {
    /// The `(name, shape)` of every parameter of this architecture (built once on the CPU).
    pub fn parameter_shapes(&self) -> std::collections::BTreeMap<String, Vec<i64>> {
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let root = vs.root();
        match self {
            Self::Clip(config) => drop(crate::clip::Clip::new(&root, config)),
            Self::Viclip(config) => drop(crate::viclip::Viclip::new(&root, *config)),
            Self::Aesthetic => drop(crate::aesthetic::AestheticMlp::new(&root, crate::aesthetic::AESTHETIC_INPUT)),
        }
        crate::weights::model_shapes(&vs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves_and_unknown_names_fail() {
        for name in ARCH_NAMES {
            assert!(Arch::by_name(name).is_ok(), "{name}");
        }
        assert!(Arch::by_name("viclip-xl").is_err());
    }

    /// The small size keeps the released ViCLIP layout: its parameter names are ViCLIP-B/16's with the blocks past
    /// its 4 layers left out.
    #[test]
    fn small_viclip_has_the_released_names() {
        let names = |arch: &str| Arch::by_name(arch).expect("known").parameter_shapes().into_keys();
        let block = |name: &str| {
            name.split(".resblocks.").nth(1).and_then(|rest| rest.split('.').next()).and_then(|n| n.parse::<u32>().ok())
        };
        let small: Vec<String> = names("viclip-small").collect();
        let base: Vec<String> = names("viclip-b16").filter(|n| block(n).is_none_or(|b| b < 4)).collect();
        assert_eq!(small, base);
    }
}
