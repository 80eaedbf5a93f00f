//! The ViCLIP trainer of clipstream: samples of committed shards (read by `clipstream-store`) decoded and augmented
//! into normalised clip tensors (the models crate's CLIP transform, with left/right caption words swapped
//! for flipped clips), the clip-per-video batch sampler (with optional DIV epoch weights), the loader
//! thread, AdamW and the learning-rate schedule, the training loop with checkpoints, and retrieval eval. See
//! DESIGN.md section 6. Builds without rdkafka, ffmpeg or timely.

pub mod checkpoint;
pub mod classify;
pub mod config;
pub mod ddp;
pub mod div;
pub mod error;
pub mod eval;
pub mod flip;
pub mod loader;
pub mod metrics;
pub mod optim;
pub mod retrieval;
pub mod sampler;
pub mod step;
pub mod text_cache;
pub mod trainer;

pub use div::DivWeights;
pub use error::TrainError;
pub use sampler::{ClipOfVideo, ClipSampler, SamplerCounters, same_video_pairs};
