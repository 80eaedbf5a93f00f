//! A reader's view of one kind's index at start: the witnessed deltas' hashes in memory, and the head (fence table
//! and Bloom filter) of every segment; blocks are read later, per lookup.

use std::collections::HashSet;

use crate::error::StoreError;
use crate::index::IndexKind;
use crate::index::delta::list_deltas;
use crate::index::key_hash;
use crate::index::segment::{HEADER_BYTES, Header, SegmentHead};
use crate::output::Output;

/// Opens retried when a segment vanished under them (a compaction merged it away meanwhile).
const OPEN_ATTEMPTS: usize = 5;

/// One kind's index as read at start.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// `INIT` exists: every manifest (or permanent error) is in a segment or a witnessed delta.
    pub initialized: bool,
    pub segments: Vec<SegmentHead>,
    /// Hashes of the witnessed deltas.
    pub recent: HashSet<u128>,
    /// Witnessed deltas read.
    pub deltas: usize,
}

impl Snapshot {
    /// Reads the deltas, THEN lists the segments (the order the consistency argument needs: a delta gone by the
    /// time it is read was folded into a segment that this later listing sees).
    pub fn open(output: &Output, kind: IndexKind) -> Result<Self, StoreError> {
        let mut last = None;
        for _ in 0..OPEN_ATTEMPTS {
            match Self::try_open(output, kind) {
                Ok(snapshot) => return Ok(snapshot),
                Err(error) if error.is_not_found() => last = Some(error),
                Err(error) => return Err(error),
            }
        }
        Err(last.unwrap_or(StoreError::BadIndex { key: kind.dir().to_string(), reason: "cannot be opened".into() }))
    }

    fn try_open(output: &Output, kind: IndexKind) -> Result<Self, StoreError> {
        let witnessed: Vec<_> = list_deltas(output, kind)?.into_iter().filter(|d| d.witnessed).collect();
        let recent = witnessed.iter().flat_map(|d| d.delta.keys.iter()).map(|k| key_hash(k)).collect();
        let listed = output.list(kind.dir())?;
        let initialized = listed.iter().any(|o| o.key == kind.init_key());
        let prefix = format!("{}/", kind.segments());
        let mut segments = Vec::new();
        for info in listed.iter().filter(|o| o.key.starts_with(&prefix) && o.key.ends_with(".idx")) {
            segments.push(read_head(output, &info.key)?);
        }
        Ok(Self { initialized, segments, recent, deltas: witnessed.len() })
    }

    /// Hashes held: segment entries plus recent ones (an upper bound: a delta may repeat a segment's keys).
    pub fn entries(&self) -> u64 {
        self.segments.iter().map(|s| s.header.entries).sum::<u64>() + self.recent.len() as u64
    }

    /// Bytes held in memory (heads and recent hashes).
    pub fn memory_bytes(&self) -> usize {
        self.segments.iter().map(SegmentHead::memory_bytes).sum::<usize>() + self.recent.len() * 32
    }
}

/// Reads the header of segment `key` (one ranged GET of 64 bytes).
pub fn read_header(output: &Output, key: &str) -> Result<Header, StoreError> {
    Header::parse(key, &output.get_range(key, 0..HEADER_BYTES)?)
}

/// Reads the header and head of segment `key` (two ranged GETs).
pub fn read_head(output: &Output, key: &str) -> Result<SegmentHead, StoreError> {
    let header = read_header(output, key)?;
    let head = output.get_range(key, header.head_range())?;
    SegmentHead::parse(key, header, &head)
}
