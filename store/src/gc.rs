//! `gc`: removes orphans, the objects under `shards/` that no manifest references (left by a crash between the tar
//! upload and the manifest), and index deltas whose commit never finished. Only orphans older than `min_age` go, so
//! the in-flight shard of a running job survives.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use clipstream_schemas::manifest::SHARD_DIR;
use serde::Serialize;

use crate::error::StoreError;
use crate::index::IndexKind;
use crate::index::delta::list_deltas;
use crate::manifests::{read_manifests, shard_of_manifest_key};
use crate::output::Output;

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
pub fn gc(output: &Output, min_age: Duration, dry_run: bool) -> Result<GcReport, StoreError> {
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
    if let Some(root) = output.local_root() {
        sweep_staging(&root.join(SHARD_DIR), min_age, now, &mut report)?;
    }
    sweep_unwitnessed_deltas(output, min_age, now, &mut report)?;
    report.removed.sort();
    Ok(report)
}

/// Removes index deltas whose manifest or error file never appeared (a crash between the two writes), older than
/// `min_age`; they never count, so this only tidies.
fn sweep_unwitnessed_deltas(
    output: &Output,
    min_age: Duration,
    now: SystemTime,
    report: &mut GcReport,
) -> Result<(), StoreError> {
    for kind in [IndexKind::Committed, IndexKind::Failed] {
        for delta in list_deltas(output, kind)?.into_iter().filter(|d| !d.witnessed) {
            if now.duration_since(delta.modified).unwrap_or(Duration::ZERO) < min_age {
                report.kept_young.push(delta.key);
                continue;
            }
            if !report.dry_run {
                output.delete(&delta.key)?;
                tracing::info!(key = %delta.key, "removed an index delta whose commit never finished");
            }
            report.removed.push(delta.key);
        }
    }
    Ok(())
}

/// Removes the staged parts of multipart uploads that never finished in a local output (`shards/X.tar#N`, which
/// the object-store listing does not show), older than `min_age`.
fn sweep_staging(
    dir: &std::path::Path,
    min_age: Duration,
    now: SystemTime,
    report: &mut GcReport,
) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(StoreError::io("list staged uploads", dir, error)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("list staged uploads", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata() else { continue };
        if !name.contains('#') || !meta.is_file() {
            continue;
        }
        let key = format!("{SHARD_DIR}/{name}");
        let age = meta.modified().ok().and_then(|m| now.duration_since(m).ok()).unwrap_or(Duration::ZERO);
        if age < min_age {
            report.kept_young.push(key);
            continue;
        }
        if !report.dry_run {
            std::fs::remove_file(entry.path()).map_err(|e| StoreError::io("remove staged upload", entry.path(), e))?;
            tracing::info!(%key, bytes = meta.len(), "removed a staged part of an unfinished upload");
        }
        report.removed_bytes += meta.len();
        report.removed.push(key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;
    use crate::commit::{commit, parquet_key, tar_key};
    use crate::fixtures::{temp_output, video};
    use crate::shard::ShardBuilder;

    fn age(path: &std::path::Path, by: Duration) {
        let file = File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - by).unwrap();
    }

    #[test]
    fn removes_old_orphans_only() {
        let (dir, output) = temp_output();
        let root = dir.path().join("out");
        let mut builder = ShardBuilder::new().unwrap();
        builder.add(video("kept", 1, false)).unwrap();
        let committed = commit(&output, builder).unwrap();
        output.put(&tar_key("shard-old"), "old orphan").unwrap();
        output.put(&parquet_key("shard-old"), "old orphan").unwrap();
        output.put(&tar_key("shard-fresh"), "in flight").unwrap();
        output.put(&tar_key("shard-garbled"), "manifest unreadable").unwrap();
        output.put("manifests/shard-garbled.json", "{").unwrap();
        let hour = Duration::from_secs(3600);
        for key in [tar_key("shard-old"), parquet_key("shard-old"), tar_key("shard-garbled")] {
            age(&root.join(key), 2 * hour);
        }
        for file in &committed.files {
            age(&root.join(&file.path), 2 * hour);
        }

        let dry = gc(&output, hour, true).unwrap();
        assert_eq!(dry.removed, [parquet_key("shard-old"), tar_key("shard-old")]);
        assert!(root.join(tar_key("shard-old")).is_file(), "dry run removes nothing");

        let report = gc(&output, hour, false).unwrap();
        assert_eq!(report.removed, dry.removed);
        assert_eq!(report.removed_bytes, 20);
        assert_eq!(report.kept_young, [tar_key("shard-fresh")]);
        assert_eq!(report.referenced, 3);
        assert!(!root.join(tar_key("shard-old")).exists());
        assert!(root.join(tar_key("shard-fresh")).is_file());
        for file in &committed.files {
            assert!(root.join(&file.path).is_file(), "{} kept", file.path);
        }

        let now = gc(&output, Duration::ZERO, false).unwrap();
        assert_eq!(now.removed, [tar_key("shard-fresh")]);
    }

    #[test]
    fn sweeps_staged_parts_of_unfinished_uploads() {
        let (dir, output) = temp_output();
        let shards = dir.path().join("out").join(SHARD_DIR);
        std::fs::create_dir_all(&shards).unwrap();
        std::fs::write(shards.join("shard-x.tar#1"), b"part").unwrap();
        std::fs::write(shards.join("shard-y.tar#2"), b"young").unwrap();
        age(&shards.join("shard-x.tar#1"), Duration::from_secs(7200));
        let report = gc(&output, Duration::from_secs(3600), false).unwrap();
        assert_eq!(report.removed, ["shards/shard-x.tar#1"]);
        assert_eq!(report.kept_young, ["shards/shard-y.tar#2"]);
        assert!(!shards.join("shard-x.tar#1").exists() && shards.join("shard-y.tar#2").exists());
    }

    #[test]
    fn a_failed_upload_leaves_no_staged_parts() {
        let (dir, output) = temp_output();
        let file = dir.path().join("big.bin");
        std::fs::write(&file, vec![7u8; 10_000]).unwrap();
        // A folder where the object should go makes the completion fail after every part was staged.
        let key = tar_key("blocked");
        std::fs::create_dir_all(dir.path().join("out").join(&key).join("blocker")).unwrap();
        assert!(output.put_file_with_chunk(&key, &file, 1000).is_err());
        let staged: Vec<_> = std::fs::read_dir(dir.path().join("out").join(SHARD_DIR))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|name| name.contains('#'))
            .collect();
        assert!(staged.is_empty(), "{staged:?}");
    }
}
