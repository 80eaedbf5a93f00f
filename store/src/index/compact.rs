//! Compaction: the witnessed deltas and the small segments become one new segment; then (never before) the merged
//! segments and folded deltas are deleted. Each step writes its output before deleting its inputs, so a reader or
//! a second compactor running at the same time sees every key in some object (at worst twice).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::StoreError;
use crate::index::delta::list_deltas;
use crate::index::segment::{decode_all, encode};
use crate::index::snapshot::read_header;
use crate::index::{IndexKind, key_hash};
use crate::output::Output;

/// Segments with fewer entries are merged by every compaction; larger ones are left as they are (so a start-up
/// compaction never rewrites a large index). Lookups check each segment's Bloom filter, so a few large segments
/// cost nothing but their heads.
pub const MERGE_BELOW_ENTRIES: u64 = 1 << 20;

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactReport {
    pub deltas_folded: usize,
    pub segments_merged: usize,
    /// Entries of the new segment (0: nothing to do).
    pub entries: u64,
}

/// Compacts `kind`'s index.
pub fn compact(output: &Output, kind: IndexKind) -> Result<CompactReport, StoreError> {
    let witnessed: Vec<_> = list_deltas(output, kind)?.into_iter().filter(|d| d.witnessed).collect();
    let prefix = format!("{}/", kind.segments());
    let mut small = Vec::new();
    for info in output.list(&kind.segments())?.into_iter().filter(|o| o.key.starts_with(&prefix)) {
        if info.key.ends_with(".idx") && read_header(output, &info.key)?.entries < MERGE_BELOW_ENTRIES {
            small.push(info.key);
        }
    }
    if witnessed.is_empty() && small.len() < 2 {
        return Ok(CompactReport::default());
    }
    let mut hashes: Vec<u128> = witnessed.iter().flat_map(|d| d.delta.keys.iter()).map(|k| key_hash(k)).collect();
    for (key, body) in small.iter().zip(output.get_many(&small)) {
        hashes.extend(decode_all(key, &body?)?);
    }
    hashes.sort_unstable();
    hashes.dedup();
    let written = write_segment(output, kind, &hashes)?;
    for key in small.iter().filter(|k| **k != written).chain(witnessed.iter().map(|d| &d.key)) {
        output.delete(key)?;
    }
    let report =
        CompactReport { deltas_folded: witnessed.len(), segments_merged: small.len(), entries: hashes.len() as u64 };
    tracing::info!(index = kind.dir(), ?report, "index compacted");
    Ok(report)
}

/// Writes sorted, distinct `hashes` as a new segment of `kind`; returns its key (time-ordered, unique per process).
pub(crate) fn write_segment(output: &Output, kind: IndexKind, hashes: &[u128]) -> Result<String, StoreError> {
    static WRITTEN: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let seq = WRITTEN.fetch_add(1, Ordering::Relaxed);
    let key = format!("{}/{millis:013}-{}-{seq}.idx", kind.segments(), std::process::id());
    output.put(&key, encode(hashes))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::temp_output;
    use crate::index::snapshot::Snapshot;
    use crate::index::write_delta;

    fn witnessed_delta(output: &Output, name: &str, keys: &[&str]) {
        let witness = format!("manifests/{name}.json");
        output.put(&witness, "{}").unwrap();
        write_delta(output, IndexKind::Committed, name, &witness, keys.iter().map(|k| k.to_string()).collect())
            .unwrap();
    }

    #[test]
    fn folds_witnessed_deltas_and_merges_small_segments_only() {
        let (_dir, output) = temp_output();
        assert_eq!(compact(&output, IndexKind::Committed).unwrap(), CompactReport::default(), "nothing to do");
        witnessed_delta(&output, "s1", &["a", "b"]);
        assert_eq!(compact(&output, IndexKind::Committed).unwrap().entries, 2);
        witnessed_delta(&output, "s2", &["b", "c"]);
        let report = compact(&output, IndexKind::Committed).unwrap();
        assert_eq!(report, CompactReport { deltas_folded: 1, segments_merged: 1, entries: 3 });
        let snapshot = Snapshot::open(&output, IndexKind::Committed).unwrap();
        assert_eq!((snapshot.segments.len(), snapshot.deltas), (1, 0));
        // A large segment is left alone: the next compaction writes a second one beside it.
        let large: Vec<u128> = (0..MERGE_BELOW_ENTRIES as u128).map(|i| i * 7 + 1).collect();
        write_segment(&output, IndexKind::Committed, &large).unwrap();
        witnessed_delta(&output, "s3", &["d"]);
        let report = compact(&output, IndexKind::Committed).unwrap();
        assert_eq!((report.segments_merged, report.entries), (1, 4));
        let sizes: Vec<u64> =
            Snapshot::open(&output, IndexKind::Committed).unwrap().segments.iter().map(|s| s.header.entries).collect();
        assert_eq!(sizes.len(), 2);
        assert!(sizes.contains(&MERGE_BELOW_ENTRIES) && sizes.contains(&4));
    }
}
