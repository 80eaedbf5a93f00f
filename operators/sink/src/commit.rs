//! `commit`: uploads a closed shard's tar (multipart) and parquet, then writes its manifest LAST. A shard is part of
//! the dataset only once `manifests/{shard}.json` exists; anything written before a failure is an orphan for `gc`.

use std::time::Instant;

use clipstream_schemas::error::now_rfc3339;
use clipstream_schemas::manifest::SHARD_DIR;
use clipstream_schemas::{ShardFile, ShardManifest};

use crate::error::SinkError;
use crate::metrics::{count_bytes, sink_metrics};
use crate::parquet::records_parquet;
use crate::shard::{ClosedShard, ShardBuilder};
use crate::store::{FileDigest, Output};

/// Object key of a shard's tar.
pub fn tar_key(shard: &str) -> String {
    format!("{SHARD_DIR}/{shard}.tar")
}

/// Object key of a shard's parquet.
pub fn parquet_key(shard: &str) -> String {
    format!("{SHARD_DIR}/{shard}.parquet")
}

/// Closes `builder` and commits it.
pub fn commit(output: &Output, builder: ShardBuilder) -> Result<ShardManifest, SinkError> {
    let shard = builder.close()?;
    commit_closed(output, &shard)
}

/// Commits a closed shard: tar, then parquet, then the manifest.
pub fn commit_closed(output: &Output, shard: &ClosedShard) -> Result<ShardManifest, SinkError> {
    let started = Instant::now();
    let tar_key = tar_key(&shard.name);
    let tar = output.put_file_multipart(&tar_key, shard.tar_path())?;
    count_bytes("tar", tar.bytes);

    let parquet_key = parquet_key(&shard.name);
    let parquet = records_parquet(&shard.name, &shard.records)?;
    let parquet_digest = FileDigest::of(&parquet);
    output.put(&parquet_key, parquet)?;
    count_bytes("parquet", parquet_digest.bytes);

    let manifest = manifest_for(shard, vec![shard_file(tar_key, tar), shard_file(parquet_key, parquet_digest)]);
    let manifest_key = ShardManifest::path_for(&shard.name);
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|source| SinkError::Json { what: format!("manifest of {}", shard.name), source })?;
    let manifest_bytes = json.len() as u64;
    output.put(&manifest_key, json)?;
    count_bytes("manifest", manifest_bytes);

    if let Some(metrics) = sink_metrics() {
        metrics.shards.inc();
        metrics.clips.inc_by(manifest.clips);
        metrics.shard_seconds.observe(started.elapsed().as_secs_f64());
    }
    tracing::info!(shard = %shard.name, videos = shard.videos.len(), clips = manifest.clips, "shard committed");
    Ok(manifest)
}

fn shard_file(path: String, digest: FileDigest) -> ShardFile {
    ShardFile { path, bytes: digest.bytes, sha256: digest.sha256 }
}

/// The manifest of `shard`: video ids sorted, keys in the same order.
fn manifest_for(shard: &ClosedShard, files: Vec<ShardFile>) -> ShardManifest {
    let mut videos: Vec<(&str, &str)> =
        shard.videos.iter().map(|v| (v.video_id.as_str(), v.video_key.as_str())).collect();
    videos.sort_unstable();
    ShardManifest {
        shard: shard.name.clone(),
        video_ids: videos.iter().map(|(id, _)| (*id).to_string()).collect(),
        video_keys: videos.iter().map(|(_, key)| (*key).to_string()).collect(),
        clips: shard.records.len() as u64,
        files,
        created_at: now_rfc3339(),
        clipstream_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}
