//! `ClipRecord`: the metadata of one curated clip, as written to `{key}.json`, the shard parquet and exports.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where the request of a clip's video came from: the Kafka partition and offset, or partition 0 and the
/// row index for list files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourcePosition {
    pub partition: i32,
    pub offset: i64,
}

/// One clip of one video. Times are seconds from the start of the source video; `*_ts` are the same times as
/// InternVid `HH:MM:SS.mmm` strings. Frame numbers are 0-based; `end_frame` is exclusive.
/// `Default` is the empty record (no strings, zeros, no scores): a base for records built field by field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipRecord {
    /// The video id as given in the request (or derived from its URL).
    pub video_id: String,
    /// `video_id` made safe for object keys (see [`crate::safe_key`]).
    pub video_key: String,
    pub clip_index: u32,
    /// The webdataset key of this clip in its shard.
    pub key: String,
    /// Shard name (`shards/{shard}.tar`), set by the sink.
    pub shard: String,
    pub url: String,
    pub start_s: f64,
    pub end_s: f64,
    pub start_ts: String,
    pub end_ts: String,
    pub duration_s: f64,
    pub start_frame: u64,
    pub end_frame: u64,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    /// Number of uniformly sampled frames stored as `{key}.f{i}.jpg`.
    pub num_frames: u32,
    /// Mean ContentDetector score over the clip's frames (0 = still); used by the still/dynamic filters.
    pub motion: f64,
    pub caption_coarse: Option<String>,
    pub caption_fine: Option<String>,
    /// The caption used for training (`{key}.txt`).
    pub caption: Option<String>,
    pub asr: Option<String>,
    pub sim_score: Option<f64>,
    pub aesthetic_score: Option<f64>,
    pub lang: Option<String>,
    pub category: Option<String>,
    /// Whether `{key}.mp4` is in the shard.
    pub has_video: bool,
    pub source: Option<SourcePosition>,
    /// The input row's extra columns.
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
}
