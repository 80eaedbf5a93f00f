//! Where a consumer group stands on a topic: per partition the committed offset, the high watermark and the lag
//! between them (`clipstream lag`, and the delivery checks of the tests).

use std::time::Duration;

use clipstream_schemas::config::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use crate::client::client_config;
use crate::error::{Context, KafkaFailure};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionLag {
    pub partition: i32,
    /// The group's committed offset (next message to read); `None` when the group never committed.
    pub committed: Option<i64>,
    pub low: i64,
    pub high: i64,
    /// Messages not yet committed: `high - max(committed, low)`.
    pub lag: i64,
}

/// The committed offsets of `config.group_id` on `config.topic` against the partitions' watermarks.
pub fn group_lag(config: &KafkaConfig) -> Result<Vec<PartitionLag>, KafkaFailure> {
    let timeout = Duration::from_millis(config.request_timeout_ms);
    let topic = &config.topic;
    let consumer: BaseConsumer = client_config(config)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .create()
        .doing(|| format!("creating a consumer for {}", config.brokers))?;
    let metadata =
        consumer.fetch_metadata(Some(topic), timeout).doing(|| format!("reading the metadata of {topic}"))?;
    let mut list = TopicPartitionList::new();
    for partition in metadata.topics().iter().filter(|t| t.name() == topic).flat_map(|t| t.partitions()) {
        list.add_partition(topic, partition.id());
    }
    if list.count() == 0 {
        return Err(KafkaFailure::NoTopic(topic.clone()));
    }
    let committed = consumer
        .committed_offsets(list, timeout)
        .doing(|| format!("reading the committed offsets of group {}", config.group_id))?;
    let mut lags = Vec::new();
    for element in committed.elements() {
        let (low, high) = consumer
            .fetch_watermarks(topic, element.partition(), timeout)
            .doing(|| format!("reading the watermarks of {topic}/{}", element.partition()))?;
        let committed = match element.offset() {
            Offset::Offset(offset) => Some(offset),
            _ => None,
        };
        let lag = high - committed.unwrap_or(low).max(low);
        lags.push(PartitionLag { partition: element.partition(), committed, low, high, lag });
    }
    lags.sort_by_key(|l| l.partition);
    Ok(lags)
}
