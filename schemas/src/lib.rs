//! Data contracts of clipstream: the records that flow between stages and land in shards, the configuration with
//! its documented defaults, metric names, the Arrow schema of clip metadata, and the pure helpers that every crate
//! agrees on (InternVid timestamps, object-key sanitising). No I/O and no native dependencies.

pub mod arrow;
pub mod clip;
pub mod config;
pub mod error;
pub mod hash;
pub mod internvid;
pub mod key;
pub mod manifest;
pub mod metrics;
pub mod payload;
pub mod redact;
pub mod text;
pub mod timestamp;
pub mod video;

pub use clip::{ClipRecord, SourcePosition};
pub use config::Config;
pub use error::{ErrorRecord, Stage};
pub use internvid::InternVidRow;
pub use key::{KeyError, clip_key, safe_key};
pub use manifest::{ShardFile, ShardManifest};
pub use payload::{ClipPayload, CuratedVideo, Jpeg, Scratch, SpillRead};
pub use redact::redact_url;
pub use text::cut_at_char;
pub use timestamp::{TimestampError, format_timestamp, parse_timestamp};
pub use video::{VideoRequest, VideoRequestError};
