//! The caption stage of clipstream. [`caption_video`] fills the coarse and fine captions of every clip of a video
//! through [`Captioner`] backends: [`VlmHttpCaptioner`] (an OpenAI-compatible chat-completions server with image
//! inputs: vLLM, SGLang, llama.cpp, Ollama) and [`TagsCaptioner`] (zero-shot, with a joint image-text model lent
//! through [`ZeroShot`]: the score crate's similarity model).
//! See `caption` in `schemas/src/config/default.toml` for the settings.

pub mod captioner;
pub mod error;
pub mod metrics;
pub mod stage;
pub mod tags;
pub mod vlm_http;

#[cfg(test)]
mod fixtures;

pub use captioner::{Captioner, Scale};
pub use error::CaptionError;
pub use stage::{Captioners, caption_video};
pub use tags::{TagsCaptioner, ZeroShot};
pub use vlm_http::VlmHttpCaptioner;
