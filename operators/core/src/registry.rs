//! One way for every crate to create its metric families in the default Prometheus registry. A family whose name
//! is already taken still counts, unexported, and a warning says so: a metric never stops a job. Names and labels
//! are the constants of `clipstream_schemas::metrics`, so building a family cannot fail on them (the tests of each
//! crate build all of its families).

use prometheus::core::Collector;
use prometheus::{Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts};

const VALID: &str = "metric names, labels and buckets are valid constants";

/// Registers `collector` under `name`, warning instead of failing when it cannot be.
fn register<C: Collector + Clone + 'static>(collector: C, name: &str) -> C {
    if let Err(error) = prometheus::default_registry().register(Box::new(collector.clone())) {
        tracing::warn!(metric = name, %error, "metric not registered; it will not be exported");
    }
    collector
}

/// A counter.
pub fn counter(name: &str, help: &str) -> IntCounter {
    register(IntCounter::new(name, help).expect(VALID), name)
}

/// A counter family with `labels`.
pub fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(IntCounterVec::new(Opts::new(name, help), labels).expect(VALID), name)
}

/// A float gauge.
pub fn gauge(name: &str, help: &str) -> Gauge {
    register(Gauge::new(name, help).expect(VALID), name)
}

/// An integer gauge family with `labels`.
pub fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    register(IntGaugeVec::new(Opts::new(name, help), labels).expect(VALID), name)
}

/// A histogram with `buckets`.
pub fn histogram(name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    register(Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets)).expect(VALID), name)
}

/// A histogram family with `buckets` and `labels`.
pub fn histogram_vec(name: &str, help: &str, buckets: Vec<f64>, labels: &[&str]) -> HistogramVec {
    register(HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels).expect(VALID), name)
}

/// `count` bucket bounds from `start`, each `factor` times the one before.
pub fn exponential_buckets(start: f64, factor: f64, count: usize) -> Vec<f64> {
    prometheus::exponential_buckets(start, factor, count).expect(VALID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_still_counts() {
        let first = counter("clipstream_test_registry_total", "a test counter");
        let second = counter("clipstream_test_registry_total", "the same name again");
        first.inc();
        second.inc_by(2);
        assert_eq!((first.get(), second.get()), (1, 2));
        let exported = prometheus::gather().into_iter().find(|f| f.name() == "clipstream_test_registry_total");
        assert_eq!(exported.expect("the first one is exported").get_metric()[0].get_counter().get_value(), 1.0);
    }
}
