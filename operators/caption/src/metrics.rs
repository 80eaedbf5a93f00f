//! Prometheus metrics of the caption stage (requests by outcome, request latency), registered once in the default
//! registry under the names of `clipstream_schemas::metrics`. Public so that backends built outside this crate
//! (`tags`) count their calls the same way.

use std::sync::OnceLock;

use clipstream_schemas::metrics as names;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};

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

/// Registers `collector`; if the name is taken (or invalid) the metric still counts, unexported, and a warning says so.
fn register<C: prometheus::core::Collector + Clone + 'static>(collector: C, name: &str) -> C {
    if let Err(error) = prometheus::default_registry().register(Box::new(collector.clone())) {
        tracing::warn!(metric = name, %error, "metric not registered; it will not be exported");
    }
    collector
}

fn caption_metrics() -> Option<&'static CaptionMetrics> {
    static METRICS: OnceLock<Option<CaptionMetrics>> = OnceLock::new();
    METRICS
        .get_or_init(|| {
            let built = (|| -> prometheus::Result<CaptionMetrics> {
                Ok(CaptionMetrics {
                    requests: register(
                        IntCounterVec::new(
                            Opts::new(names::CAPTION_REQUESTS_TOTAL, "Caption requests by backend, scale and outcome"),
                            &["backend", "scale", "outcome"],
                        )?,
                        names::CAPTION_REQUESTS_TOTAL,
                    ),
                    latency: register(
                        HistogramVec::new(
                            HistogramOpts::new(
                                names::CAPTION_LATENCY_SECONDS,
                                "Time of one caption request including retries",
                            )
                            .buckets(prometheus::exponential_buckets(0.01, 2.0, 14)?),
                            &["backend", "scale"],
                        )?,
                        names::CAPTION_LATENCY_SECONDS,
                    ),
                })
            })();
            built.map_err(|error| tracing::warn!(%error, "caption metrics unavailable")).ok()
        })
        .as_ref()
}

/// Counts one attempt of a request to `backend` at `scale` (`coarse`, `fine`, `summary`).
pub fn count_request(backend: &str, scale: &str, outcome: Outcome) {
    if let Some(metrics) = caption_metrics() {
        metrics.requests.with_label_values(&[backend, scale, outcome.as_str()]).inc();
    }
}

/// Records the time of one request to `backend` at `scale`, retries included.
pub fn observe_latency(backend: &str, scale: &str, seconds: f64) {
    if let Some(metrics) = caption_metrics() {
        metrics.latency.with_label_values(&[backend, scale]).observe(seconds);
    }
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
