//! The settled-video index: which videos an earlier run committed (or failed for good), answered per video and
//! read lazily, so that a restart costs the same at 1,000 or 10M committed videos. Layout, consistency argument and
//! costs: docs/delivery.md ("The settled index").
//!
//! Under `index/{committed,failed}/` an output holds immutable segments (sorted 128-bit key hashes with a fence
//! table and a Bloom filter; see [`segment`]) and deltas (one small object per commit, written BEFORE the object it
//! vouches for, and counted only once that object exists; see [`delta`]). Compaction folds witnessed deltas into a
//! new segment and merges small segments; `INIT` marks an index that covers every manifest.

mod bloom;
mod cache;
pub mod compact;
pub mod delta;
mod hash;
mod init;
mod prepare;
pub mod segment;
mod settled;
mod snapshot;

pub use compact::{CompactReport, compact};
pub use delta::{write_delta, write_error_delta};
pub use hash::key_hash;
pub use init::ensure_init;
pub use prepare::{open_for_job, prepare};
pub use settled::{OpenOptions, Settled, SettledStats};

/// The two sets the source skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// Video keys listed in committed manifests.
    Committed,
    /// Video ids with a non-retryable error record.
    Failed,
}

impl IndexKind {
    /// The folder of this kind's index.
    pub fn dir(self) -> &'static str {
        match self {
            IndexKind::Committed => "index/committed",
            IndexKind::Failed => "index/failed",
        }
    }

    pub(crate) fn deltas(self) -> String {
        format!("{}/deltas", self.dir())
    }

    pub(crate) fn segments(self) -> String {
        format!("{}/segments", self.dir())
    }

    pub(crate) fn init_key(self) -> String {
        format!("{}/INIT", self.dir())
    }
}
