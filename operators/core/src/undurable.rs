//! `Undurable`: the count, shared by a process's sinks, of records that could not be stored even after every
//! retry (error records and dead letters at shutdown). A sink that gives up must release its epoch so the dataflow
//! can end, so the offset committer looks here instead: while the count is not 0 it commits nothing more, and the
//! job exits with an error; the messages are read again by the next run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A shared count of records given up on; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct Undurable(Arc<AtomicU64>);

impl Undurable {
    /// Records that `records` more records were given up on.
    pub fn add(&self, records: u64) {
        self.0.fetch_add(records, Ordering::SeqCst);
    }

    /// Records given up on so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_count() {
        let a = Undurable::default();
        let b = a.clone();
        b.add(2);
        a.add(1);
        assert_eq!((a.count(), b.count()), (3, 3));
    }
}
