//! The data side of `clipstream train`: committed shards streamed sample by sample, JPEG frames decoded and
//! augmented into normalised clip tensors, and the clip-per-video batch sampler (with optional DIV epoch weights).
//! See DESIGN.md section 6. On top: the loader thread, the training loop with checkpoints, and retrieval eval.

pub mod checkpoint;
pub mod classify;
pub mod config;
pub mod div;
pub mod eval;
pub mod frames;
pub mod loader;
pub mod metrics;
pub mod resize;
pub mod retrieval;
pub mod sampler;
pub mod trainer;

pub use div::DivWeights;
pub use frames::{CLIP_MEAN, CLIP_STD, Crop, FrameError, FrameTransform, decode_rgb};
pub use resize::{Normalise, Region, RgbImage, resize_normalise};
pub use sampler::{BatchMode, ClipOfVideo, ClipSampler, SamplerCounters, same_video_pairs};
