//! Prometheus metrics of the caption stage (requests by outcome, request latency), registered once in the default
//! registry under the names of `clipstream_schemas::metrics`. Public so that backends built outside this crate
//! (`tags`) count their calls the same way.

use std::sync::OnceLock;

use clipstream_core::registry::{counter_vec, exponential_buckets, histogram_vec};
use clipstream_schemas::metrics as names;
use prometheus::{HistogramVec, IntCounterVec};

/// How one attempt of a caption request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The request succeeded (on whichever attempt).
    Ok,
    /// An attempt failed and the request is tried again.
    Retried,
    /// The request failed for good.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Retried => "retried",
            Outcome::Failed => "failed",
        }
    }
}

struct CaptionMetrics {
    requests: IntCounterVec,
    latency: HistogramVec,
}

fn caption_metrics() -> &'static CaptionMetrics {
    static METRICS: OnceLock<CaptionMetrics> = OnceLock::new();
    METRICS.get_or_init(|| CaptionMetrics {
        requests: counter_vec(
            names::CAPTION_REQUESTS_TOTAL,
            "Caption requests by backend, scale and outcome",
            &["backend", "scale", "outcome"],
        ),
        latency: histogram_vec(
            names::CAPTION_LATENCY_SECONDS,
            "Time of one caption request including retries",
            exponential_buckets(0.01, 2.0, 14),
            &["backend", "scale"],
        ),
    })
}

/// Counts one attempt of a request to `backend` at `scale` (`coarse`, `fine`, `summary`).
pub fn count_request(backend: &str, scale: &str, outcome: Outcome) {
    caption_metrics().requests.with_label_values(&[backend, scale, outcome.as_str()]).inc();
}

/// Records the time of one request to `backend` at `scale`, retries included.
pub fn observe_latency(backend: &str, scale: &str, seconds: f64) {
    caption_metrics().latency.with_label_values(&[backend, scale]).observe(seconds);
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::Encoder;

    #[test]
    fn counts_land_in_the_default_registry() {
        count_request("test-backend", "coarse", Outcome::Retried);
        count_request("test-backend", "coarse", Outcome::Ok);
        observe_latency("test-backend", "coarse", 0.25);
        let mut text = Vec::new();
        prometheus::TextEncoder::new().encode(&prometheus::gather(), &mut text).expect("encodes");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(text.contains(
            r#"clipstream_caption_requests_total{backend="test-backend",outcome="retried",scale="coarse"} 1"#
        ));
        assert!(text.contains(r#"clipstream_caption_latency_seconds_count{backend="test-backend",scale="coarse"} 1"#));
    }
}
