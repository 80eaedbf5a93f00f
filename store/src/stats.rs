//! `dataset_stats`: totals of the committed dataset (shards, videos, clips, bytes), from the manifests, written as
//! `_stats.json` at the output root; and the per-run summaries under `_stats/{run_id}.json`.

use clipstream_schemas::manifest::STATS_DIR;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::manifests::each_manifest;
use crate::metrics::count_bytes;
use crate::output::Output;

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

/// Adds up every readable manifest (a few in memory at a time).
pub fn dataset_stats(output: &Output) -> Result<DatasetStats, StoreError> {
    let mut stats = DatasetStats::default();
    each_manifest(output, |m| {
        stats.shards += 1;
        stats.videos += m.video_keys.len() as u64;
        stats.clips += m.clips;
        stats.bytes += m.files.iter().map(|f| f.bytes).sum::<u64>();
    })?;
    Ok(stats)
}

/// Computes the totals and writes them to `_stats.json`.
pub fn write_dataset_stats(output: &Output) -> Result<DatasetStats, StoreError> {
    let stats = dataset_stats(output)?;
    let json = serde_json::to_vec_pretty(&stats)
        .map_err(|source| StoreError::Json { what: "dataset stats".to_string(), source })?;
    let bytes = json.len() as u64;
    output.put(DATASET_STATS_KEY, json)?;
    count_bytes("stats", bytes);
    Ok(stats)
}

/// Writes the summary of one run (any serializable value) to `_stats/{run_id}.json`; returns the key.
pub fn write_run_summary<S: Serialize>(output: &Output, run_id: &str, summary: &S) -> Result<String, StoreError> {
    let key = format!("{STATS_DIR}/{run_id}.json");
    let json = serde_json::to_vec_pretty(summary)
        .map_err(|source| StoreError::Json { what: format!("summary of run {run_id}"), source })?;
    let bytes = json.len() as u64;
    output.put(&key, json)?;
    count_bytes("stats", bytes);
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::commit;
    use crate::fixtures::{temp_output, video};
    use crate::shard::ShardBuilder;

    #[test]
    fn totals_over_manifests_written_at_root() {
        let (_dir, output) = temp_output();
        assert_eq!(write_dataset_stats(&output).unwrap(), DatasetStats::default());
        let mut bytes = 0;
        for keys in [&["a", "b"][..], &["c"][..]] {
            let mut builder = ShardBuilder::new().unwrap();
            keys.iter().for_each(|k| builder.add(video(k, 2, false)).unwrap());
            bytes += commit(&output, builder).unwrap().files.iter().map(|f| f.bytes).sum::<u64>();
        }
        let stats = write_dataset_stats(&output).unwrap();
        assert_eq!(stats, DatasetStats { shards: 2, videos: 3, clips: 6, bytes });
        let stored: DatasetStats = serde_json::from_slice(&output.get(DATASET_STATS_KEY).unwrap()).unwrap();
        assert_eq!(stored, stats);
    }

    #[test]
    fn run_summaries_go_under_stats_dir() {
        let (_dir, output) = temp_output();
        let key = write_run_summary(&output, "r1", &serde_json::json!({"clips": 3})).unwrap();
        assert_eq!(key, "_stats/r1.json");
        let stored: serde_json::Value = serde_json::from_slice(&output.get(&key).unwrap()).unwrap();
        assert_eq!(stored["clips"], 3);
    }
}
