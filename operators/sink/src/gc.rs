//! `gc`: removes orphans, the objects under `shards/` that no manifest references (left by a crash between the tar
//! upload and the manifest). Only orphans older than `min_age` go, so the in-flight shard of a running job survives.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use clipstream_schemas::manifest::SHARD_DIR;
use serde::Serialize;

use crate::error::SinkError;
use crate::manifests::{read_manifests, shard_of_manifest_key};
use crate::store::Output;

/// What a gc run removed (or, with `dry_run`, would remove) and kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    /// Orphans removed (or to remove), sorted.
    pub removed: Vec<String>,
    pub removed_bytes: u64,
    /// Orphans younger than `min_age`, kept.
    pub kept_young: Vec<String>,
    /// Objects under `shards/` that belong to a committed shard.
    pub referenced: usize,
}

/// Removes unreferenced objects under `shards/` older than `min_age`; with `dry_run` only reports them. Objects of
/// a shard whose manifest exists but does not parse are kept.
pub fn gc(output: &Output, min_age: Duration, dry_run: bool) -> Result<GcReport, SinkError> {
    let manifests = read_manifests(output)?;
    let referenced_paths: HashSet<&str> =
        manifests.parsed.iter().flat_map(|m| m.files.iter().map(|f| f.path.as_str())).collect();
    let committed_shards: HashSet<&str> = manifests
        .parsed
        .iter()
        .map(|m| m.shard.as_str())
        .chain(manifests.unreadable.iter().filter_map(|key| shard_of_manifest_key(key)))
        .collect();
    let now = SystemTime::now();
    let mut report = GcReport { dry_run, ..GcReport::default() };
    for object in output.list(SHARD_DIR)? {
        let file_name = object.key.rsplit('/').next().unwrap_or(&object.key);
        let stem = file_name.split('.').next().unwrap_or(file_name);
        if referenced_paths.contains(object.key.as_str()) || committed_shards.contains(stem) {
            report.referenced += 1;
            continue;
        }
        let age = now.duration_since(object.modified).unwrap_or(Duration::ZERO);
        if age < min_age {
            report.kept_young.push(object.key);
            continue;
        }
        if !dry_run {
            output.delete(&object.key)?;
            tracing::info!(key = %object.key, bytes = object.bytes, "removed orphan");
        }
        report.removed_bytes += object.bytes;
        report.removed.push(object.key);
    }
    Ok(report)
}
