//! What the first process of a job does with the index before it is opened: initialize each kind (a full read,
//! once per output), and compact once enough deltas piled up, so the next start reads few objects.

use std::time::Instant;

use crate::error::StoreError;
use crate::index::{IndexKind, OpenOptions, Settled, compact, ensure_init};
use crate::output::Output;

/// Initializes both kinds and compacts each that has at least `compact_deltas` deltas.
pub fn prepare(output: &Output, compact_deltas: usize) -> Result<(), StoreError> {
    for kind in [IndexKind::Committed, IndexKind::Failed] {
        ensure_init(output, kind)?;
        if output.list(&kind.deltas())?.len() >= compact_deltas.max(1) {
            compact(output, kind)?;
        }
    }
    Ok(())
}

/// A job's start: the first process prepares the index ([`prepare`]), every process opens it; logs what the start
/// cost (seconds, store requests, entries, memory).
pub fn open_for_job(
    output: &Output,
    first_process: bool,
    compact_deltas: usize,
    options: OpenOptions,
) -> Result<Settled, StoreError> {
    let (started, requests) = (Instant::now(), output.requests());
    if first_process {
        prepare(output, compact_deltas)?;
    }
    let settled = Settled::open(output, options)?;
    let stats = settled.stats();
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        requests = output.requests() - requests,
        entries = stats.entries,
        segments = stats.segments,
        deltas = stats.deltas,
        scanned_kinds = stats.scanned_kinds,
        memory_bytes = stats.memory_bytes,
        "settled index opened; videos already in the output are skipped"
    );
    Ok(settled)
}
