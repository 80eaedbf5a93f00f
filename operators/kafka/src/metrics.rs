//! Kafka metrics: messages read, lag and committed offsets per partition, commits, dead letters.

use std::sync::OnceLock;

use clipstream_core::registry::{counter, counter_vec, gauge_vec};
use clipstream_schemas::metrics as names;
use prometheus::{IntCounter, IntCounterVec, IntGaugeVec};

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
    METRICS.get_or_init(|| KafkaMetrics {
        messages: counter_vec(names::KAFKA_MESSAGES_TOTAL, "Messages read from Kafka by outcome", &["outcome"]),
        lag: gauge_vec(
            names::KAFKA_CONSUMER_LAG,
            "Messages still to read per assigned partition",
            &["topic", "partition"],
        ),
        committed: gauge_vec(
            names::KAFKA_COMMITTED_OFFSET,
            "Last offset committed to the consumer group",
            &["topic", "partition"],
        ),
        commits: counter_vec(
            names::KAFKA_COMMITS_TOTAL,
            "Offset commits to the consumer group by outcome",
            &["outcome"],
        ),
        dead_letters: counter(names::DLQ_MESSAGES_TOTAL, "Messages produced to the dead-letter topic"),
    })
}

/// Counts one message read: `accepted` when it parsed into a request, `invalid` otherwise.
pub fn count_message(accepted: bool) {
    metrics().messages.with_label_values(&[if accepted { "accepted" } else { "invalid" }]).inc();
}
