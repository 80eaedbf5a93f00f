//! The CLIP towers (ViT image encoder and causal text transformer) and the two-tower CLIP model in the
//! OpenAI/open_clip state-dict layout (`visual.*`, `token_embedding`, `transformer.*`, `ln_final`,
//! `text_projection`, `logit_scale`).

mod model;
mod text;
pub mod vision;

pub use model::{Clip, ClipConfig};
pub use text::{TextConfig, TextTower};
pub use vision::{VisionConfig, VisionTower};
