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

/// The tiny test towers: 56 px, patch 14, width 32, 2 layers, 4 heads, output 16.
fn tiny_vision(frames: Option<i64>, activation: Activation) -> VisionConfig {
    VisionConfig {
        image_size: 56,
        patch_size: 14,
        width: 32,
        layers: 2,
        heads: 4,
        output_dim: 16,
        activation,
        frames,
        drop_path: 0.0,
    }
}

fn tiny_text(context_length: i64, activation: Activation) -> TextConfig {
    TextConfig { context_length, vocab_size: 49408, width: 32, layers: 2, heads: 4, output_dim: 16, activation }
}

/// ViCLIP for training from scratch on a CPU or one small GPU (the synthetic benchmark): 112 px, patch 16 (7 x 7
/// patches a frame), width 128, 4 layers, 4 heads, 4 frames; text tower width 128, 4 layers, context 32; output 128.
fn small_viclip() -> ViclipConfig {
    ViclipConfig {
        vision: VisionConfig {
            image_size: 112,
            patch_size: 16,
            width: 128,
            layers: 4,
            heads: 4,
            output_dim: 128,
            activation: Activation::QuickGelu,
            frames: Some(4),
            drop_path: 0.0,
        },
        text: TextConfig {
            context_length: 32,
            vocab_size: 49408,
            width: 128,
            layers: 4,
            heads: 4,
            output_dim: 128,
            activation: Activation::QuickGelu,
        },
        mask_ratio: 0.9,
        freeze_text: true,
    }
}

impl Arch {
    pub fn by_name(name: &str) -> Result<Self, UnknownArch> {
        Ok(match name {
            "viclip-l14" => Self::Viclip(ViclipConfig::released(14, 1024, 24, 768, 768)),
            "viclip-b16" => Self::Viclip(ViclipConfig::released(16, 768, 12, 512, 512)),
            "viclip-small" => Self::Viclip(small_viclip()),
            "viclip-tiny" => Self::Viclip(ViclipConfig {
                vision: tiny_vision(Some(4), Activation::QuickGelu),
                text: tiny_text(32, Activation::QuickGelu),
                mask_ratio: 0.9,
                freeze_text: true,
            }),
            "clip-vit-l14" => Self::Clip(ClipConfig::openai(768, 14, 1024, 24, 768)),
            "clip-vit-b16" => Self::Clip(ClipConfig::openai(512, 16, 768, 12, 512)),
            "clip-vit-b32" => Self::Clip(ClipConfig::openai(512, 32, 768, 12, 512)),
            "clip-tiny" => Self::Clip(ClipConfig {
                vision: tiny_vision(None, Activation::Gelu),
                text: tiny_text(77, Activation::Gelu),
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
