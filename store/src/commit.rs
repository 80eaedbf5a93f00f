//! `commit`: uploads a closed shard's tar (multipart), its parquet and its index delta, then writes its manifest
//! LAST. A shard is part of the dataset only once `manifests/{shard}.json` exists; anything written before a failure
//! is an orphan for `gc`.

use std::time::Instant;

use clipstream_schemas::error::now_rfc3339;
use clipstream_schemas::manifest::SHARD_DIR;
use clipstream_schemas::{ShardFile, ShardManifest};

use crate::error::StoreError;
use crate::metrics::{count_bytes, sink_metrics, timed_upload};
use crate::output::{FileDigest, Output};
use crate::parquet::records_parquet;
use crate::shard::{ClosedShard, ShardBuilder};

/// Object key of a shard's tar.
pub fn tar_key(shard: &str) -> String {
    format!("{SHARD_DIR}/{shard}.tar")
}

/// Object key of a shard's parquet.
pub fn parquet_key(shard: &str) -> String {
    format!("{SHARD_DIR}/{shard}.parquet")
}

/// Closes `builder` and commits it.
pub fn commit(output: &Output, builder: ShardBuilder) -> Result<ShardManifest, StoreError> {
    let shard = builder.close()?;
    commit_closed(output, &shard)
}

/// Commits a closed shard: tar, then parquet, then the index delta, then the manifest.
pub fn commit_closed(output: &Output, shard: &ClosedShard) -> Result<ShardManifest, StoreError> {
    let started = Instant::now();
    let tar_key = tar_key(&shard.name);
    let tar = timed_upload("tar", || output.put_file_multipart(&tar_key, shard.tar_path()))?;
    count_bytes("tar", tar.bytes);

    let parquet_key = parquet_key(&shard.name);
    let parquet = records_parquet(&shard.name, &shard.records)?;
    let parquet_digest = FileDigest::of(&parquet);
    timed_upload("parquet", || output.put(&parquet_key, parquet))?;
    count_bytes("parquet", parquet_digest.bytes);

    let manifest = manifest_for(shard, vec![shard_file(tar_key, tar), shard_file(parquet_key, parquet_digest)]);
    let manifest_key = ShardManifest::path_for(&shard.name);
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|source| StoreError::Json { what: format!("manifest of {}", shard.name), source })?;
    let manifest_bytes = json.len() as u64;
    // The index delta goes first: it counts only once the manifest exists, and a manifest without one would be
    // invisible to the next start (docs/delivery.md, "The settled index").
    let keys = manifest.video_keys.clone();
    crate::index::write_delta(output, crate::index::IndexKind::Committed, &shard.name, &manifest_key, keys)?;
    clipstream_core::crash_point("sink.before_manifest");
    timed_upload("manifest", || output.put(&manifest_key, json))?;
    count_bytes("manifest", manifest_bytes);

    let metrics = sink_metrics();
    metrics.shards.inc();
    metrics.clips.inc_by(manifest.clips);
    metrics.shard_seconds.observe(started.elapsed().as_secs_f64());
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

#[cfg(test)]
mod tests {
    use arrow_array::{Array, Int32Array, StringArray, UInt32Array};
    use clipstream_schemas::arrow::clip_schema;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use crate::fixtures::{temp_output, video};

    fn builder(keys: &[&str]) -> ShardBuilder {
        let mut builder = ShardBuilder::new().unwrap();
        for key in keys {
            builder.add(video(key, 2, true)).unwrap();
        }
        builder
    }

    #[test]
    fn writes_tar_parquet_and_manifest() {
        let (_dir, output) = temp_output();
        let manifest = commit(&output, builder(&["vb", "va"])).unwrap();
        let name = manifest.shard.clone();
        assert_eq!(manifest.video_ids, ["id/va", "id/vb"]);
        assert_eq!(manifest.video_keys, ["va", "vb"]);
        assert_eq!(manifest.clips, 4);
        assert_eq!(manifest.clipstream_version, env!("CARGO_PKG_VERSION"));
        let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [tar_key(&name), parquet_key(&name)]);
        for file in &manifest.files {
            let data = output.get(&file.path).unwrap();
            assert_eq!(FileDigest::of(&data), FileDigest { bytes: file.bytes, sha256: file.sha256.clone() });
        }
        let stored: ShardManifest =
            serde_json::from_slice(&output.get(&ShardManifest::path_for(&name)).unwrap()).unwrap();
        assert_eq!(stored, manifest);

        let parquet = output.get(&parquet_key(&name)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(parquet).unwrap().build().unwrap();
        let batches: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 4);
        let batch = &batches[0];
        assert_eq!(batch.schema().fields(), clip_schema().fields());
        let strings = |name: &str| batch.column_by_name(name).unwrap().as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(strings("key").value(3), "vb_0001");
        assert!((0..4).all(|i| strings("shard").value(i) == name));
        assert_eq!(strings("caption").value(0), "a caption of va clip 0");
        assert!(strings("caption").is_null(1));
        assert_eq!(strings("metadata").value(0), r#"{"title":"T"}"#);
        let clip_index = batch.column_by_name("clip_index").unwrap().as_any().downcast_ref::<UInt32Array>().unwrap();
        assert_eq!(clip_index.values().to_vec(), [0, 1, 0, 1]);
        let partition =
            batch.column_by_name("source_partition").unwrap().as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(partition.value(0), 1);
    }

    /// Puts a non-empty directory where an object should go, so the local store cannot write it.
    fn block(output_root: &std::path::Path, key: &str) {
        std::fs::create_dir_all(output_root.join(key).join("blocker")).unwrap();
    }

    #[test]
    fn manifest_is_written_last() {
        let (dir, output) = temp_output();
        let root = dir.path().join("out");
        let shard = builder(&["v1"]);
        let name = shard.name();
        block(&root, &parquet_key(&name));
        let error = commit(&output, shard).unwrap_err();
        assert!(matches!(error, StoreError::Store { .. }), "{error}");
        assert!(error.to_string().contains(".parquet"), "{error}");
        assert!(root.join(tar_key(&name)).is_file(), "tar went first");
        assert!(!root.join(ShardManifest::path_for(&name)).exists(), "no manifest without parquet");

        let shard = builder(&["v2"]);
        let name = shard.name();
        block(&root, &tar_key(&name));
        assert!(commit(&output, shard).is_err());
        assert!(!root.join(parquet_key(&name)).is_file());
        assert!(!root.join(ShardManifest::path_for(&name)).exists());
    }

    #[test]
    fn recommitting_the_same_videos_is_idempotent() {
        let (_dir, output) = temp_output();
        let first = commit(&output, builder(&["a", "b"])).unwrap();
        let second = commit(&output, builder(&["b", "a"])).unwrap();
        assert_eq!(first.shard, second.shard);
        assert_eq!(first.files, second.files);
        assert_eq!(output.list(clipstream_schemas::manifest::MANIFEST_DIR).unwrap().len(), 1);
    }
}
