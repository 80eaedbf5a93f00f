//! Per-stage Prometheus metrics (items in/out, errors by code, latency), registered once in the default registry.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clipstream_schemas::metrics as names;
use clipstream_schemas::{ErrorRecord, Stage};
use prometheus::{HistogramVec, IntCounterVec};

use crate::registry::{counter_vec, exponential_buckets, histogram_vec};

struct Families {
    items_in: IntCounterVec,
    items_out: IntCounterVec,
    errors: IntCounterVec,
    latency: HistogramVec,
}

fn families() -> &'static Families {
    static FAMILIES: OnceLock<Families> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        let buckets = exponential_buckets(0.001, 2.5, 14);
        Families {
            items_in: counter_vec(names::STAGE_ITEMS_IN_TOTAL, "Items entering a stage", &["stage"]),
            items_out: counter_vec(names::STAGE_ITEMS_OUT_TOTAL, "Items leaving a stage successfully", &["stage"]),
            errors: counter_vec(names::STAGE_ERRORS_TOTAL, "Failures of a stage by code", &["stage", "code"]),
            latency: histogram_vec(names::STAGE_LATENCY_SECONDS, "Time a stage spent on one item", buckets, &["stage"]),
        }
    })
}

/// The metrics of one stage; cheap to clone.
#[derive(Clone)]
pub struct StageMetrics {
    stage: Stage,
    items_in: prometheus::IntCounter,
    items_out: prometheus::IntCounter,
    latency: prometheus::Histogram,
}

impl StageMetrics {
    /// Handles for `stage`, creating its series on first use.
    pub fn for_stage(stage: Stage) -> Self {
        let f = families();
        let label = [stage.as_str()];
        Self {
            stage,
            items_in: f.items_in.with_label_values(&label),
            items_out: f.items_out.with_label_values(&label),
            latency: f.latency.with_label_values(&label),
        }
    }

    /// Runs `logic` on one item, counting it in, timing it, and counting the outcome.
    pub fn observe<R>(&self, logic: impl FnOnce() -> Result<R, ErrorRecord>) -> Result<R, ErrorRecord> {
        let started = Instant::now();
        let result = logic();
        self.record(started.elapsed(), result)
    }

    /// Counts one item whose work took `elapsed` and ended in `result` (for work timed elsewhere, e.g. one of many
    /// downloads in flight at once).
    pub fn record<R>(&self, elapsed: Duration, result: Result<R, ErrorRecord>) -> Result<R, ErrorRecord> {
        self.items_in.inc();
        self.latency.observe(elapsed.as_secs_f64());
        match &result {
            Ok(_) => self.items_out.inc(),
            Err(record) => self.error(&record.code),
        }
        result
    }

    /// Counts one failure with `code` (for failures found outside [`Self::observe`]).
    pub fn error(&self, code: &str) {
        families().errors.with_label_values(&[self.stage.as_str(), code]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("broken")]
    struct Broken;
    impl clipstream_schemas::error::StageError for Broken {
        fn code(&self) -> &'static str {
            "clip.test_broken"
        }
    }

    #[test]
    fn counts_in_out_and_errors_by_code() {
        let m = StageMetrics::for_stage(Stage::Clip);
        let before_in = m.items_in.get();
        let before_out = m.items_out.get();
        let errors = families().errors.with_label_values(&["clip", "clip.test_broken"]);
        let before_err = errors.get();
        assert_eq!(m.observe(|| Ok::<_, ErrorRecord>(3)).ok(), Some(3));
        let failed = m.observe(|| Err::<(), _>(ErrorRecord::new(Stage::Clip, "v", "u", &Broken)));
        assert!(failed.is_err());
        assert_eq!(m.items_in.get() - before_in, 2);
        assert_eq!(m.items_out.get() - before_out, 1);
        assert_eq!(errors.get() - before_err, 1);
        assert!(m.latency.get_sample_count() >= 2);
    }
}
