//! `ShardManifest`: written LAST for each shard; a shard without a manifest is an orphan that readers ignore and
//! `clipstream gc` removes.

use serde::{Deserialize, Serialize};

/// Manifests live under this prefix, one `{shard}.json` each.
pub const MANIFEST_DIR: &str = "manifests";
/// Tar and parquet files live under this prefix.
pub const SHARD_DIR: &str = "shards";
/// Error records live under this prefix, as jsonl files.
pub const ERROR_DIR: &str = "errors";
/// Per-run summaries live under this prefix (`_stats/{run}.json`).
pub const STATS_DIR: &str = "_stats";

/// One file of a shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardFile {
    /// Path relative to the output root, e.g. `shards/shard-0a1b2c3d4e5f6a7b.tar`.
    pub path: String,
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// The commit record of one shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardManifest {
    pub shard: String,
    /// Video ids (as given) whose clips are all in this shard, sorted.
    pub video_ids: Vec<String>,
    /// Safe keys of the same videos, in the same order.
    pub video_keys: Vec<String>,
    pub clips: u64,
    pub files: Vec<ShardFile>,
    /// RFC 3339 time of the commit.
    pub created_at: String,
    pub clipstream_version: String,
}

impl ShardManifest {
    /// Object path of a shard's manifest.
    pub fn path_for(shard: &str) -> String {
        format!("{MANIFEST_DIR}/{shard}.json")
    }
}
