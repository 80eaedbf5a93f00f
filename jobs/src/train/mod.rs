//! The data side of `clipstream train`: committed shards streamed sample by sample, JPEG frames decoded and
//! augmented into normalised clip tensors, and the clip-per-video batch sampler (with optional DIV epoch weights).
//! See DESIGN.md section 6. The training loop itself lives elsewhere.

pub mod clip_counts;
pub mod div;
pub mod frames;
pub mod resize;
pub mod sampler;
pub mod samples;
pub mod shards;

pub use clip_counts::captioned_clips_per_video;
pub use div::DivWeights;
pub use frames::{CLIP_MEAN, CLIP_STD, Crop, FrameError, FrameTransform, decode_rgb, frame_indices};
pub use resize::{Normalise, Region, RgbImage, resize_normalise};
pub use sampler::{BatchMode, ClipOfVideo, ClipSampler, SamplerCounters, same_video_pairs};
pub use samples::{Sample, SkipReason, Skipped};
pub use shards::{Position, ReadStats, ShardList, ShardReader, list_shards};
