//! Prometheus metrics of the sink (shards, bytes by kind, clips, shard time, error records), registered once in the
//! default registry under the names of `clipstream_schemas::metrics`.

use std::sync::OnceLock;

use clipstream_schemas::metrics as names;
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts};

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

/// Registers `collector`; if the name is taken (or invalid) the metric still counts, unexported, and a warning says so.
fn register<C: prometheus::core::Collector + Clone + 'static>(collector: C, name: &str) -> C {
    if let Err(error) = prometheus::default_registry().register(Box::new(collector.clone())) {
        tracing::warn!(metric = name, %error, "metric not registered; it will not be exported");
    }
    collector
}

/// The sink's metrics, created on first use.
pub(crate) fn sink_metrics() -> Option<&'static SinkMetrics> {
    static METRICS: OnceLock<Option<SinkMetrics>> = OnceLock::new();
    METRICS
        .get_or_init(|| {
            let built = (|| -> prometheus::Result<SinkMetrics> {
                let buckets = prometheus::exponential_buckets(0.01, 2.0, 16)?;
                Ok(SinkMetrics {
                    shards: register(
                        IntCounter::new(names::SINK_SHARDS_TOTAL, "Shards committed (manifest written)")?,
                        names::SINK_SHARDS_TOTAL,
                    ),
                    bytes: register(
                        IntCounterVec::new(
                            Opts::new(names::SINK_BYTES_TOTAL, "Bytes written to the output store by kind"),
                            &["kind"],
                        )?,
                        names::SINK_BYTES_TOTAL,
                    ),
                    clips: register(
                        IntCounter::new(names::SINK_CLIPS_TOTAL, "Clips committed in shards")?,
                        names::SINK_CLIPS_TOTAL,
                    ),
                    shard_seconds: register(
                        Histogram::with_opts(
                            HistogramOpts::new(names::SINK_SHARD_SECONDS, "Time to write one shard").buckets(buckets),
                        )?,
                        names::SINK_SHARD_SECONDS,
                    ),
                    upload_seconds: register(
                        HistogramVec::new(
                            HistogramOpts::new(names::SINK_UPLOAD_SECONDS, "Time to upload one object by kind")
                                .buckets(prometheus::exponential_buckets(0.001, 2.5, 14)?),
                            &["kind"],
                        )?,
                        names::SINK_UPLOAD_SECONDS,
                    ),
                    error_records: register(
                        IntCounter::new(names::ERROR_RECORDS_TOTAL, "Error records written")?,
                        names::ERROR_RECORDS_TOTAL,
                    ),
                    failures: register(
                        IntCounterVec::new(
                            Opts::new(names::SINK_FAILURES_TOTAL, "Writes that failed after every try"),
                            &["what"],
                        )?,
                        names::SINK_FAILURES_TOTAL,
                    ),
                })
            })();
            built.map_err(|error| tracing::warn!(%error, "sink metrics unavailable")).ok()
        })
        .as_ref()
}

/// Counts a write of `what` that failed after every try.
pub fn count_failure(what: &str) {
    if let Some(metrics) = sink_metrics() {
        metrics.failures.with_label_values(&[what]).inc();
    }
}

/// Counts `bytes` written of `kind` (`tar`, `parquet`, `manifest`, `errors`, `stats`).
pub(crate) fn count_bytes(kind: &str, bytes: u64) {
    if let Some(metrics) = sink_metrics() {
        metrics.bytes.with_label_values(&[kind]).inc_by(bytes);
    }
}

/// Runs `upload` and records its duration under `kind`.
pub(crate) fn timed_upload<T, E>(kind: &str, upload: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    let started = std::time::Instant::now();
    let result = upload();
    if let Some(metrics) = sink_metrics() {
        metrics.upload_seconds.with_label_values(&[kind]).observe(started.elapsed().as_secs_f64());
    }
    result
}
