//! Crash points for the exactly-once tests. A process started with `CLIPSTREAM_FAULT=<point>` aborts (no unwinding,
//! no cleanup: what `kill -9` leaves behind) the first time it reaches `<point>`; unset, a point costs one
//! environment lookup per call. Points: `sink.before_manifest` (shard data uploaded, manifest not written) and
//! `kafka.before_commit` (manifests written, offsets not committed).
//!
//! Failure points make an operation fail instead: `CLIPSTREAM_FAULT=<point>:<n>` fails the first `n` times a
//! process reaches `<point>` (`n` = `always` fails every time). Point: `sink.finish_upload` (the completion of a
//! multipart upload).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the point to crash at.
pub const FAULT_ENV: &str = "CLIPSTREAM_FAULT";

fn armed() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED.get_or_init(|| std::env::var(FAULT_ENV).ok()).as_deref()
}

/// Aborts the process if `CLIPSTREAM_FAULT` names `point`.
pub fn crash_point(point: &str) {
    if armed() == Some(point) {
        eprintln!("clipstream: {FAULT_ENV}={point}: aborting at the crash point");
        std::process::abort();
    }
}

/// Whether the operation at `point` should fail now: `CLIPSTREAM_FAULT=<point>:<n>` makes the first `n` calls
/// return true (`always`: every call).
pub fn fail_point(point: &str) -> bool {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let Some((name, times)) = armed().and_then(|spec| spec.rsplit_once(':')) else { return false };
    if name != point {
        return false;
    }
    let call = CALLS.fetch_add(1, Ordering::SeqCst);
    let fail = times == "always" || times.parse::<u64>().is_ok_and(|n| call < n);
    if fail {
        eprintln!("clipstream: {FAULT_ENV}={point}:{times}: failing call {}", call + 1);
    }
    fail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unarmed_points_never_fail() {
        // The test process runs without CLIPSTREAM_FAULT.
        assert!(!fail_point("sink.finish_upload"));
        crash_point("sink.before_manifest");
    }
}
