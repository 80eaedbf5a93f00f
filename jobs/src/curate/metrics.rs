//! The curate job's own metrics: videos by source outcome and bytes fetched. Registered once in the default
//! registry. (The media stages count clips and decoded frames themselves.)

use std::sync::OnceLock;

use clipstream_core::registry::{counter, counter_vec};
use clipstream_schemas::metrics as names;
use prometheus::{IntCounter, IntCounterVec};

struct CurateMetrics {
    source_videos: IntCounterVec,
    fetch_bytes: IntCounter,
}

fn metrics() -> &'static CurateMetrics {
    static METRICS: OnceLock<CurateMetrics> = OnceLock::new();
    METRICS.get_or_init(|| CurateMetrics {
        source_videos: counter_vec(names::SOURCE_VIDEOS_TOTAL, "Videos read from the source by outcome", &["outcome"]),
        fetch_bytes: counter(names::FETCH_BYTES_TOTAL, "Bytes fetched from video URLs"),
    })
}

/// What became of one source row: `accepted`, `skipped_done`, `duplicate` or `invalid`.
pub fn count_source(outcome: &str) {
    metrics().source_videos.with_label_values(&[outcome]).inc();
}

/// Bytes of one fetched video.
pub fn count_fetched(bytes: u64) {
    metrics().fetch_bytes.inc_by(bytes);
}
