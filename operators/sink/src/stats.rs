//! `dataset_stats`: totals of the committed dataset (shards, videos, clips, bytes), from the manifests, written as
//! `_stats.json` at the output root.

use serde::{Deserialize, Serialize};

use crate::error::SinkError;
use crate::manifests::read_manifests;
use crate::metrics::count_bytes;
use crate::store::Output;

/// Object key of the dataset totals.
pub const DATASET_STATS_KEY: &str = "_stats.json";

/// Totals over all committed shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetStats {
    pub shards: u64,
    pub videos: u64,
    pub clips: u64,
    /// Bytes of all shard files (tar + parquet).
    pub bytes: u64,
}

/// Adds up every readable manifest.
pub fn dataset_stats(output: &Output) -> Result<DatasetStats, SinkError> {
    let manifests = read_manifests(output)?;
    Ok(manifests.parsed.iter().fold(DatasetStats::default(), |mut stats, m| {
        stats.shards += 1;
        stats.videos += m.video_keys.len() as u64;
        stats.clips += m.clips;
        stats.bytes += m.files.iter().map(|f| f.bytes).sum::<u64>();
        stats
    }))
}

/// Computes the totals and writes them to `_stats.json`.
pub fn write_dataset_stats(output: &Output) -> Result<DatasetStats, SinkError> {
    let stats = dataset_stats(output)?;
    let json = serde_json::to_vec_pretty(&stats)
        .map_err(|source| SinkError::Json { what: "dataset stats".to_string(), source })?;
    let bytes = json.len() as u64;
    output.put(DATASET_STATS_KEY, json)?;
    count_bytes("stats", bytes);
    Ok(stats)
}
