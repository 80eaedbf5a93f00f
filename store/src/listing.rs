//! The committed shards of an output, the one definition every reader uses: a shard is committed when its manifest
//! exists (the manifest is written last) and its tar is there. A tar without a manifest is an uncommitted leftover
//! of a crashed run, a manifest without its tar is damage; both are listed, warned about and never read.

use std::collections::BTreeSet;

use clipstream_schemas::manifest::SHARD_DIR;

use crate::data_error::{Context, DataError, Result};
use crate::{Output, read_manifests};

/// The shards of an output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardList {
    /// Names of the shards with a manifest and a tar, sorted.
    pub committed: Vec<String>,
    /// Tars under `shards/` without a manifest (a run died before committing them), sorted.
    pub uncommitted: Vec<String>,
    /// Manifests whose tar is missing, sorted.
    pub missing_tar: Vec<String>,
    /// Manifest objects that do not parse.
    pub unreadable_manifests: Vec<String>,
}

/// Lists the shards of `output`. Only `committed` ones are part of the dataset; the others are warned about.
pub fn list_committed_shards(output: &Output) -> Result<ShardList> {
    let manifests = read_manifests(output).with_context(|| format!("reading the manifests of {}", output.url()))?;
    let tars: BTreeSet<String> = output
        .list(SHARD_DIR)
        .with_context(|| format!("listing the shards of {}", output.url()))?
        .into_iter()
        .filter_map(|object| {
            object.key.strip_prefix(SHARD_DIR)?.strip_prefix('/')?.strip_suffix(".tar").map(str::to_string)
        })
        .collect();
    let named: BTreeSet<String> = manifests.parsed.into_iter().map(|m| m.shard).collect();
    let (committed, missing_tar): (Vec<String>, Vec<String>) = named.iter().cloned().partition(|s| tars.contains(s));
    let uncommitted: Vec<String> = tars.iter().filter(|s| !named.contains(*s)).cloned().collect();
    if !uncommitted.is_empty() {
        tracing::warn!(count = uncommitted.len(), first = %uncommitted[0], "skipping shards without a manifest");
    }
    if !missing_tar.is_empty() {
        tracing::warn!(count = missing_tar.len(), first = %missing_tar[0], "skipping manifests whose tar is missing");
    }
    Ok(ShardList { committed, uncommitted, missing_tar, unreadable_manifests: manifests.unreadable })
}

/// Names of the committed shards of `output` (see [`list_committed_shards`]), sorted. Fails when there is none.
pub fn committed_shards(output: &Output) -> Result<Vec<String>> {
    let shards = list_committed_shards(output)?.committed;
    if shards.is_empty() {
        return Err(DataError::invalid(format!("{} has no committed shard (no manifests/*.json)", output.url())));
    }
    Ok(shards)
}
