//! Kafka metrics: messages read, lag and committed offsets per partition, commits, dead letters.

use std::sync::OnceLock;

use clipstream_schemas::metrics as names;
use prometheus::register_int_gauge_vec;
use prometheus::{IntCounter, IntCounterVec, IntGaugeVec, Opts, register_int_counter, register_int_counter_vec};

pub(crate) struct KafkaMetrics {
    pub messages: IntCounterVec,
    pub lag: IntGaugeVec,
    pub committed: IntGaugeVec,
    pub commits: IntCounterVec,
    pub dead_letters: IntCounter,
}

/// The process-wide metric families, registered in the default registry on first use.
pub(crate) fn metrics() -> &'static KafkaMetrics {
    static METRICS: OnceLock<KafkaMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let unique = "metric names are unique constants";
        KafkaMetrics {
            messages: register_int_counter_vec!(
                Opts::new(names::KAFKA_MESSAGES_TOTAL, "Messages read from Kafka by outcome"),
                &["outcome"]
            )
            .expect(unique),
            lag: register_int_gauge_vec!(
                Opts::new(names::KAFKA_CONSUMER_LAG, "Messages still to read per assigned partition"),
                &["topic", "partition"]
            )
            .expect(unique),
            committed: register_int_gauge_vec!(
                Opts::new(names::KAFKA_COMMITTED_OFFSET, "Last offset committed to the consumer group"),
                &["topic", "partition"]
            )
            .expect(unique),
            commits: register_int_counter_vec!(
                Opts::new(names::KAFKA_COMMITS_TOTAL, "Offset commits to the consumer group by outcome"),
                &["outcome"]
            )
            .expect(unique),
            dead_letters: register_int_counter!(
                names::DLQ_MESSAGES_TOTAL,
                "Messages produced to the dead-letter topic"
            )
            .expect(unique),
        }
    })
}

/// Counts one message read: `accepted` when it parsed into a request, `invalid` otherwise.
pub fn count_message(accepted: bool) {
    metrics().messages.with_label_values(&[if accepted { "accepted" } else { "invalid" }]).inc();
}
