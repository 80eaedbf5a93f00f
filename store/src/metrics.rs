//! Prometheus metrics of the sink (shards, bytes by kind, clips, shard time, error records), registered once in the
//! default registry under the names of `clipstream_schemas::metrics`.

use std::sync::OnceLock;

use clipstream_core::registry::{counter, counter_vec, exponential_buckets, histogram, histogram_vec};
use clipstream_schemas::metrics as names;
use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec};

/// Handles to the sink's metric families.
pub(crate) struct SinkMetrics {
    pub shards: IntCounter,
    pub bytes: IntCounterVec,
    pub clips: IntCounter,
    pub shard_seconds: Histogram,
    pub upload_seconds: HistogramVec,
    pub error_records: IntCounter,
    pub failures: IntCounterVec,
}

/// The sink's metrics, created on first use.
pub(crate) fn sink_metrics() -> &'static SinkMetrics {
    static METRICS: OnceLock<SinkMetrics> = OnceLock::new();
    METRICS.get_or_init(|| SinkMetrics {
        shards: counter(names::SINK_SHARDS_TOTAL, "Shards committed (manifest written)"),
        bytes: counter_vec(names::SINK_BYTES_TOTAL, "Bytes written to the output store by kind", &["kind"]),
        clips: counter(names::SINK_CLIPS_TOTAL, "Clips committed in shards"),
        shard_seconds: histogram(
            names::SINK_SHARD_SECONDS,
            "Time to write one shard",
            exponential_buckets(0.01, 2.0, 16),
        ),
        upload_seconds: histogram_vec(
            names::SINK_UPLOAD_SECONDS,
            "Time to upload one object by kind",
            exponential_buckets(0.001, 2.5, 14),
            &["kind"],
        ),
        error_records: counter(names::ERROR_RECORDS_TOTAL, "Error records written"),
        failures: counter_vec(names::SINK_FAILURES_TOTAL, "Writes that failed after every try", &["what"]),
    })
}

/// Counts a write of `what` that failed after every try.
pub fn count_failure(what: &str) {
    sink_metrics().failures.with_label_values(&[what]).inc();
}

/// Counts `bytes` written of `kind` (`tar`, `parquet`, `manifest`, `errors`, `stats`).
pub(crate) fn count_bytes(kind: &str, bytes: u64) {
    sink_metrics().bytes.with_label_values(&[kind]).inc_by(bytes);
}

/// Runs `upload` and records its duration under `kind`.
pub(crate) fn timed_upload<T, E>(kind: &str, upload: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let started = std::time::Instant::now();
    let result = upload();
    sink_metrics().upload_seconds.with_label_values(&[kind]).observe(started.elapsed().as_secs_f64());
    result
}
