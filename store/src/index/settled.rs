//! `Settled`: the set the source skips — videos committed by an earlier run and (unless `retry_errors`) videos
//! that failed for good — answered one key at a time from the index, reading a block only when the Bloom filter
//! cannot rule the key out. An output whose index is not initialized yet falls back to the full listing.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError, RwLock};

use crate::error::StoreError;
use crate::index::cache::BlockCache;
use crate::index::segment::block_contains;
use crate::index::snapshot::Snapshot;
use crate::index::{IndexKind, key_hash};
use crate::output::Output;

/// Lookups retried when a block's segment vanished (merged by a compaction since the index was opened).
const LOOKUP_ATTEMPTS: usize = 3;

/// How to open the set.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// Also skip permanently failed videos.
    pub include_failed: bool,
    /// Bytes of index blocks a process keeps in memory.
    pub cache_bytes: usize,
}

/// What was read at start, for logs and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettledStats {
    /// Hashes held (upper bound).
    pub entries: u64,
    pub segments: usize,
    pub deltas: usize,
    /// Kinds read by listing every manifest / error file (index not initialized).
    pub scanned_kinds: usize,
    /// Bytes held in memory at start.
    pub memory_bytes: usize,
}

/// The settled videos of an output.
#[derive(Debug)]
pub struct Settled {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    /// Every hash in memory (an uninitialized index, or keys given directly).
    Scanned(HashSet<u128>),
    Indexed(Box<Indexed>),
}

/// An initialized index of one kind: the snapshot read at start and the blocks read since.
#[derive(Debug)]
struct Indexed {
    output: Output,
    kind: IndexKind,
    snapshot: RwLock<Snapshot>,
    cache: Mutex<BlockCache>,
}

impl Settled {
    /// Opens the index of each kind asked for; a kind whose index has no `INIT` is read in full instead.
    pub fn open(output: &Output, options: OpenOptions) -> Result<Self, StoreError> {
        let kinds: &[IndexKind] =
            if options.include_failed { &[IndexKind::Committed, IndexKind::Failed] } else { &[IndexKind::Committed] };
        let mut parts = Vec::new();
        for &kind in kinds {
            let snapshot = Snapshot::open(output, kind)?;
            parts.push(if snapshot.initialized {
                let cache = Mutex::new(BlockCache::new(options.cache_bytes));
                Part::Indexed(Box::new(Indexed {
                    output: output.clone(),
                    kind,
                    snapshot: RwLock::new(snapshot),
                    cache,
                }))
            } else {
                tracing::warn!(index = kind.dir(), "index not initialized; reading every object instead");
                Part::Scanned(crate::index::init::scan(output, kind)?.into_iter().collect())
            });
        }
        Ok(Self { parts })
    }

    /// A set of the given keys, in memory.
    pub fn from_keys<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Self {
        Self { parts: vec![Part::Scanned(keys.into_iter().map(|k| key_hash(k.as_ref())).collect())] }
    }

    /// Whether `key` (a video key or id) is settled.
    pub fn contains(&self, key: &str) -> Result<bool, StoreError> {
        let hash = key_hash(key);
        for part in &self.parts {
            if part.contains(hash)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// What was read at start.
    pub fn stats(&self) -> SettledStats {
        let mut stats = SettledStats::default();
        for part in &self.parts {
            match part {
                Part::Scanned(set) => {
                    stats.entries += set.len() as u64;
                    stats.scanned_kinds += 1;
                    stats.memory_bytes += set.capacity() * 17;
                }
                Part::Indexed(indexed) => {
                    let snapshot = indexed.snapshot.read().unwrap_or_else(PoisonError::into_inner);
                    stats.entries += snapshot.entries();
                    stats.segments += snapshot.segments.len();
                    stats.deltas += snapshot.deltas;
                    stats.memory_bytes += snapshot.memory_bytes();
                }
            }
        }
        stats
    }
}

impl Part {
    fn contains(&self, hash: u128) -> Result<bool, StoreError> {
        match self {
            Part::Scanned(set) => Ok(set.contains(&hash)),
            Part::Indexed(indexed) => {
                let Indexed { output, kind, snapshot, cache } = indexed.as_ref();
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    // The read guard must be gone before the arm below takes the write lock.
                    let result = lookup(output, &snapshot.read().unwrap_or_else(PoisonError::into_inner), cache, hash);
                    match result {
                        Err(error) if error.is_not_found() && attempt < LOOKUP_ATTEMPTS => {
                            // A compaction merged a segment away; the index read now holds all the old one did.
                            let fresh = Snapshot::open(output, *kind)?;
                            *snapshot.write().unwrap_or_else(PoisonError::into_inner) = fresh;
                            cache.lock().unwrap_or_else(PoisonError::into_inner).clear();
                        }
                        result => return result,
                    }
                }
            }
        }
    }
}

fn lookup(output: &Output, snapshot: &Snapshot, cache: &Mutex<BlockCache>, hash: u128) -> Result<bool, StoreError> {
    if snapshot.recent.contains(&hash) {
        return Ok(true);
    }
    for (place, segment) in snapshot.segments.iter().enumerate() {
        let Some(block) = segment.candidate_block(hash) else { continue };
        let id = (place, block);
        let cached = cache.lock().unwrap_or_else(PoisonError::into_inner).get(id);
        let bytes = match cached {
            Some(bytes) => bytes,
            None => {
                let range = segment.header.block_range(block);
                let bytes = output.get_range(&segment.key, range.clone())?;
                if bytes.len() as u64 != range.end - range.start {
                    let reason =
                        format!("block {block} is {} bytes, its header says {}", bytes.len(), range.end - range.start);
                    return Err(StoreError::BadIndex { key: segment.key.clone(), reason });
                }
                cache.lock().unwrap_or_else(PoisonError::into_inner).insert(id, bytes.clone());
                bytes
            }
        };
        if block_contains(&bytes, hash) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::{ErrorRecord, Stage};

    use super::*;
    use crate::commit::commit;
    use crate::errors::ErrorWriter;
    use crate::fixtures::{temp_output, video};
    use crate::index::{compact, ensure_init};
    use crate::shard::ShardBuilder;

    const OPTIONS: OpenOptions = OpenOptions { include_failed: true, cache_bytes: 1 << 20 };

    fn commit_keys(output: &Output, keys: &[&str]) {
        let mut builder = ShardBuilder::new().unwrap();
        keys.iter().for_each(|k| builder.add(video(k, 1, false)).unwrap());
        commit(output, builder).unwrap();
    }

    fn fail(output: &Output, id: &str, retryable: bool) {
        let mut writer = ErrorWriter::new(output.clone(), format!("run-{id}"), 0);
        let mut record = ErrorRecord::from_parts(Stage::Probe, id, "u", "probe.x", "x");
        record.retryable = retryable;
        writer.push(record);
        writer.flush().unwrap();
    }

    fn contains(settled: &Settled, keys: &[&str]) -> Vec<bool> {
        keys.iter().map(|k| settled.contains(k).unwrap()).collect()
    }

    #[test]
    fn an_old_output_is_scanned_then_initialized_and_answers_the_same() {
        let (_dir, output) = temp_output();
        commit_keys(&output, &["a", "b"]);
        fail(&output, "bad", false);
        fail(&output, "flaky", true);
        // Written before the index existed: no deltas, no INIT.
        for kind in [IndexKind::Committed, IndexKind::Failed] {
            for delta in output.list(&kind.deltas()).unwrap() {
                output.delete(&delta.key).unwrap();
            }
        }
        let keys = ["a", "b", "bad", "flaky", "new"];
        let scanned = Settled::open(&output, OPTIONS).unwrap();
        assert_eq!(scanned.stats().scanned_kinds, 2);
        assert_eq!(contains(&scanned, &keys), [true, true, true, false, false]);
        assert_eq!(ensure_init(&output, IndexKind::Committed).unwrap(), 2);
        assert_eq!(ensure_init(&output, IndexKind::Failed).unwrap(), 1);
        assert_eq!(ensure_init(&output, IndexKind::Committed).unwrap(), 0, "initialized once");
        let indexed = Settled::open(&output, OPTIONS).unwrap();
        assert_eq!((indexed.stats().scanned_kinds, indexed.stats().segments), (0, 2));
        assert_eq!(contains(&indexed, &keys), [true, true, true, false, false]);
        let without_failed = Settled::open(&output, OpenOptions { include_failed: false, ..OPTIONS }).unwrap();
        assert_eq!(contains(&without_failed, &keys), [true, true, false, false, false]);
    }

    #[test]
    fn commits_after_init_count_through_their_deltas_and_survive_compaction() {
        let (_dir, output) = temp_output();
        ensure_init(&output, IndexKind::Committed).unwrap();
        ensure_init(&output, IndexKind::Failed).unwrap();
        commit_keys(&output, &["a"]);
        commit_keys(&output, &["b", "c"]);
        fail(&output, "bad", false);
        // A commit that crashed between its delta and its manifest settles nothing.
        crate::index::write_delta(&output, IndexKind::Committed, "s-x", "manifests/s-x.json", vec!["x".into()])
            .unwrap();
        let keys = ["a", "b", "c", "bad", "x", "new"];
        let expected = [true, true, true, true, false, false];
        let settled = Settled::open(&output, OPTIONS).unwrap();
        assert_eq!(settled.stats().deltas, 3);
        assert_eq!(contains(&settled, &keys), expected);
        let report = compact(&output, IndexKind::Committed).unwrap();
        assert_eq!((report.deltas_folded, report.entries), (2, 3));
        assert_eq!(output.list(&IndexKind::Committed.deltas()).unwrap().len(), 1, "the unwitnessed delta stays");
        let compacted = Settled::open(&output, OPTIONS).unwrap();
        assert_eq!(contains(&compacted, &keys), expected);
        // A set opened before a compaction still answers: it reads the index again when a segment it knew is gone.
        let early = Settled::open(&output, OPTIONS).unwrap();
        commit_keys(&output, &["d"]);
        assert_eq!(compact(&output, IndexKind::Committed).unwrap().segments_merged, 1);
        assert_eq!(contains(&early, &keys), expected);
        assert!(early.contains("d").unwrap(), "the index read again holds later commits too");
    }

    #[test]
    fn many_keys_over_many_blocks_with_a_tiny_cache() {
        let (_dir, output) = temp_output();
        ensure_init(&output, IndexKind::Committed).unwrap();
        let keys: Vec<String> = (0..3_000).map(|i| format!("video-{i}")).collect();
        for chunk in keys.chunks(500) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            commit_keys(&output, &refs);
        }
        compact(&output, IndexKind::Committed).unwrap();
        let settled = Settled::open(&output, OpenOptions { include_failed: false, cache_bytes: 4096 }).unwrap();
        assert_eq!(settled.stats().segments, 1);
        let before = output.requests();
        assert!(keys.iter().all(|k| settled.contains(k).unwrap()));
        assert!(output.requests() > before, "blocks are read on demand");
        let before = output.requests();
        let absent = (0..3_000).filter(|i| settled.contains(&format!("absent-{i}")).unwrap()).count();
        assert_eq!(absent, 0);
        assert!(output.requests() - before < 150, "the Bloom filter spares most reads of absent keys");
    }
}
