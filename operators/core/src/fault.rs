//! Crash points for the exactly-once tests. A process started with `CLIPSTREAM_FAULT=<point>` aborts (no unwinding,
//! no cleanup: what `kill -9` leaves behind) the first time it reaches `<point>`; unset, a point costs one
//! environment lookup per call. Points: `sink.before_manifest` (shard data uploaded, manifest not written) and
//! `kafka.before_commit` (manifests written, offsets not committed).

use std::sync::OnceLock;

/// The environment variable naming the point to crash at.
pub const FAULT_ENV: &str = "CLIPSTREAM_FAULT";

/// Aborts the process if `CLIPSTREAM_FAULT` names `point`.
pub fn crash_point(point: &str) {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    if ARMED.get_or_init(|| std::env::var(FAULT_ENV).ok()).as_deref() == Some(point) {
        eprintln!("clipstream: {FAULT_ENV}={point}: aborting at the crash point");
        std::process::abort();
    }
}
