//! Initializing an index: an output written before the index existed (or by a tool that does not write deltas
//! yet) is read in full once, its hashes become the first segment, and `INIT` is written last. From then on every
//! commit writes a delta, so the segments and witnessed deltas hold every manifest.

use clipstream_schemas::error::now_rfc3339;

use crate::done::permanent_failures;
use crate::error::StoreError;
use crate::index::compact::write_segment;
use crate::index::{IndexKind, key_hash};
use crate::manifests::each_manifest;
use crate::output::Output;

/// Every hash of `kind` by the full listing (manifests, or error files): what the index replaces.
pub fn scan(output: &Output, kind: IndexKind) -> Result<Vec<u128>, StoreError> {
    let mut hashes: Vec<u128> = match kind {
        IndexKind::Committed => {
            let mut hashes = Vec::new();
            each_manifest(output, |m| hashes.extend(m.video_keys.iter().map(|k| key_hash(k))))?;
            hashes
        }
        IndexKind::Failed => permanent_failures(output)?.iter().map(|k| key_hash(k)).collect(),
    };
    hashes.sort_unstable();
    hashes.dedup();
    Ok(hashes)
}

/// Initializes `kind`'s index unless `INIT` exists; returns the hashes written (0 when already initialized or
/// the output holds nothing of this kind). Commits that run meanwhile write deltas, so nothing slips between the
/// scan and `INIT`. Only one process of a job does this (curate's process 0, or `clipstream index`).
pub fn ensure_init(output: &Output, kind: IndexKind) -> Result<u64, StoreError> {
    let init_key = kind.init_key();
    if output.exist_many(std::slice::from_ref(&init_key)).pop().transpose()?.unwrap_or(false) {
        return Ok(0);
    }
    let hashes = scan(output, kind)?;
    if !hashes.is_empty() {
        write_segment(output, kind, &hashes)?;
    }
    output.put(&init_key, format!("{{\"created_at\":\"{}\"}}\n", now_rfc3339()))?;
    tracing::info!(index = kind.dir(), entries = hashes.len(), "index initialized");
    Ok(hashes.len() as u64)
}
