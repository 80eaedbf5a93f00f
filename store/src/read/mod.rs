//! Reading committed shards back: samples grouped from a shard's tar entries, a reader streaming the shards of an
//! output one at a time, and the captioned-clip count per video from the parquet files.

pub mod clip_counts;
pub mod samples;
pub mod shards;

pub use clip_counts::captioned_clips_per_video;
pub use samples::{Sample, SkipReason, Skipped};
pub use shards::{Position, ReadStats, ShardReader};
