//! Prometheus metrics of the model stages: clips per model call, call latency, clips through each model (its
//! `rate()` is clips/s per model), and clips dropped by the score filter.

use std::sync::OnceLock;
use std::time::Duration;

use clipstream_core::registry::{counter_vec, exponential_buckets, histogram_vec};
use clipstream_schemas::metrics as names;
use prometheus::{HistogramVec, IntCounterVec};

struct Families {
    batch: HistogramVec,
    latency: HistogramVec,
    clips: IntCounterVec,
    filtered: IntCounterVec,
}

fn families() -> &'static Families {
    static FAMILIES: OnceLock<Families> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        let sizes = exponential_buckets(1.0, 2.0, 10);
        let seconds = exponential_buckets(0.001, 2.5, 14);
        Families {
            batch: histogram_vec(names::MODEL_BATCH_SIZE, "Clips per model call", sizes, &["model"]),
            latency: histogram_vec(names::MODEL_LATENCY_SECONDS, "Time of one batched model call", seconds, &["model"]),
            clips: counter_vec(names::MODEL_CLIPS_TOTAL, "Clips through a model", &["model"]),
            filtered: counter_vec(names::SCORE_FILTERED_TOTAL, "Clips dropped by the score filter", &["reason"]),
        }
    })
}

/// One model call over `clips` clips that took `elapsed`.
pub fn observe_call(model: &str, clips: usize, elapsed: Duration) {
    let f = families();
    f.batch.with_label_values(&[model]).observe(clips as f64);
    f.latency.with_label_values(&[model]).observe(elapsed.as_secs_f64());
    f.clips.with_label_values(&[model]).inc_by(clips as u64);
}

/// A clip dropped by the filter for `reason` (`similarity`, `aesthetic`).
pub fn count_filtered(reason: &str) {
    families().filtered.with_label_values(&[reason]).inc();
}
