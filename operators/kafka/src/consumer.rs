//! `PartitionReader`: one timely worker's share of a topic. Partition `p` belongs to worker `p % workers`; the
//! reader assigns its partitions manually (no group rebalancing, so a worker's partitions never move while it
//! runs), starts at the group's committed offsets (the low watermark where none are committed), and commits only
//! the offsets it is given, synchronously. The end for `--until-empty` is the high watermarks at start (no broker
//! queries while consuming: a watermark request behind a long-poll fetch can stall for its whole timeout); the lag
//! gauges come from librdkafka's statistics, delivered by `poll`.

use std::collections::BTreeMap;
use std::time::Duration;

use clipstream_schemas::config::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use crate::client::client_config;
use crate::error::{Context, KafkaFailure};
use crate::metrics::metrics;

/// One message as read: where it was and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    pub partition: i32,
    pub offset: i64,
    /// The payload; empty for a null payload.
    pub payload: Vec<u8>,
}

/// The partitions of `all` that worker `worker` of `workers` owns: `p % workers == worker`.
pub fn assigned_partitions(worker: usize, workers: usize, all: &[i32]) -> Vec<i32> {
    let workers = workers.max(1) as i64;
    all.iter().copied().filter(|p| i64::from(*p).rem_euclid(workers) == worker as i64).collect()
}

/// How often librdkafka reports statistics (the lag gauges' refresh period).
const STATISTICS_INTERVAL_MS: &str = "1000";

/// Sets the lag gauges from librdkafka's statistics: high watermark minus the committed offset (the low watermark
/// before the first commit).
struct LagGauges {
    topic: String,
}

impl ClientContext for LagGauges {
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else { return };
        for (partition, stats) in &topic.partitions {
            if *partition < 0 || stats.hi_offset < 0 {
                continue;
            }
            let base = if stats.committed_offset >= 0 { stats.committed_offset } else { stats.lo_offset.max(0) };
            let lag = (stats.hi_offset - base).max(0);
            metrics().lag.with_label_values(&[&self.topic, &partition.to_string()]).set(lag);
        }
    }
}

impl ConsumerContext for LagGauges {}

pub struct PartitionReader {
    consumer: BaseConsumer<LagGauges>,
    topic: String,
    /// Next offset to read, per owned partition.
    next: BTreeMap<i32, i64>,
    /// High watermarks at start, per owned partition: where `--until-empty` stops.
    end: BTreeMap<i32, i64>,
}

impl std::fmt::Debug for PartitionReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionReader").field("topic", &self.topic).field("next", &self.next).finish()
    }
}

impl PartitionReader {
    /// Connects as worker `worker` of `workers`, assigns the owned partitions of `config.topic` and positions each
    /// at the group's committed offset.
    pub fn open(config: &KafkaConfig, worker: usize, workers: usize) -> Result<Self, KafkaFailure> {
        let timeout = Duration::from_millis(config.request_timeout_ms);
        let topic = config.topic.clone();
        let consumer: BaseConsumer<LagGauges> = client_config(config)
            .set("group.id", &config.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("statistics.interval.ms", STATISTICS_INTERVAL_MS)
            .create_with_context(LagGauges { topic: topic.clone() })
            .doing(|| format!("creating a consumer for {}", config.brokers))?;
        let metadata =
            consumer.fetch_metadata(Some(&topic), timeout).doing(|| format!("reading the metadata of {topic}"))?;
        let mut all: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        all.sort_unstable();
        if all.is_empty() {
            return Err(KafkaFailure::NoTopic(topic));
        }
        let mine = assigned_partitions(worker, workers, &all);
        let mut wanted = TopicPartitionList::new();
        mine.iter().for_each(|p| {
            wanted.add_partition(&topic, *p);
        });
        let committed = consumer
            .committed_offsets(wanted, timeout)
            .doing(|| format!("reading the committed offsets of group {}", config.group_id))?;
        let (mut next, mut end) = (BTreeMap::new(), BTreeMap::new());
        for element in committed.elements() {
            let (low, high) = consumer
                .fetch_watermarks(&topic, element.partition(), timeout)
                .doing(|| format!("reading the watermarks of {topic}/{}", element.partition()))?;
            let start = match element.offset() {
                Offset::Offset(offset) => offset,
                _ => low,
            };
            next.insert(element.partition(), start);
            end.insert(element.partition(), high);
        }
        let mut assignment = TopicPartitionList::new();
        for (partition, offset) in &next {
            assignment
                .add_partition_offset(&topic, *partition, Offset::Offset(*offset))
                .doing(|| format!("assigning {topic}/{partition}"))?;
        }
        consumer.assign(&assignment).doing(|| format!("assigning partitions {mine:?} of {topic}"))?;
        tracing::info!(worker, workers, topic, partitions = ?mine, start = ?next, "kafka partitions assigned");
        Ok(Self { consumer, topic, next, end })
    }

    /// The next message, waiting at most `wait`; `Ok(None)` when none arrived.
    pub fn poll(&mut self, wait: Duration) -> Result<Option<RawMessage>, KafkaFailure> {
        if self.next.is_empty() {
            std::thread::sleep(wait);
            return Ok(None);
        }
        let Some(result) = self.consumer.poll(wait) else {
            return Ok(None);
        };
        let message = result.doing(|| format!("reading from {}", self.topic))?;
        let raw = RawMessage {
            partition: message.partition(),
            offset: message.offset(),
            payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        };
        self.next.insert(raw.partition, raw.offset + 1);
        Ok(Some(raw))
    }

    /// Next offset to read per owned partition: what to commit once everything before it is durable.
    pub fn positions(&self) -> BTreeMap<i32, i64> {
        self.next.clone()
    }

    /// Commits `positions` (next offsets) to the consumer group, synchronously.
    pub fn commit(&self, positions: &BTreeMap<i32, i64>) -> Result<(), KafkaFailure> {
        if positions.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for (partition, offset) in positions {
            list.add_partition_offset(&self.topic, *partition, Offset::Offset(*offset))
                .doing(|| format!("committing {}/{partition}", self.topic))?;
        }
        let result =
            self.consumer.commit(&list, CommitMode::Sync).doing(|| format!("committing offsets of {}", self.topic));
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        metrics().commits.with_label_values(&[outcome]).inc();
        result?;
        for (partition, offset) in positions {
            metrics().committed.with_label_values(&[&self.topic, &partition.to_string()]).set(*offset);
        }
        Ok(())
    }

    /// True when every owned partition is read up to its high watermark as of [`PartitionReader::open`].
    pub fn reached_end(&self) -> bool {
        self.next.iter().all(|(p, next)| self.end.get(p).is_some_and(|end| next >= end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_spread_over_workers() {
        let all: Vec<i32> = (0..8).collect();
        assert_eq!(assigned_partitions(0, 3, &all), [0, 3, 6]);
        assert_eq!(assigned_partitions(2, 3, &all), [2, 5]);
        assert_eq!(assigned_partitions(0, 1, &all), all);
        assert!(assigned_partitions(5, 6, &[0, 1, 2]).is_empty());
        let union: Vec<i32> = (0..4).flat_map(|w| assigned_partitions(w, 4, &all)).collect();
        assert_eq!(union.len(), all.len());
    }
}
