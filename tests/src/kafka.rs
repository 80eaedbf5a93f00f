//! Reading a whole topic back in tests (the dead-letter topic), with headers.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// One message as read back.
#[derive(Debug, Clone)]
pub struct ReadMessage {
    pub partition: i32,
    pub payload: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

/// Every message of `topic` from the beginning to the high watermarks at the time of the call.
pub fn read_topic(brokers: &str, topic: &str) -> anyhow::Result<Vec<ReadMessage>> {
    let timeout = Duration::from_secs(10);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("clipstream-tests-read-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a test consumer")?;
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let mut list = TopicPartitionList::new();
    let mut remaining = 0i64;
    for partition in metadata.topics().iter().filter(|t| t.name() == topic).flat_map(|t| t.partitions()) {
        let (low, high) = consumer.fetch_watermarks(topic, partition.id(), timeout)?;
        list.add_partition_offset(topic, partition.id(), Offset::Offset(low))?;
        remaining += high - low;
    }
    consumer.assign(&list)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut messages = Vec::new();
    while remaining > 0 {
        if Instant::now() > deadline {
            bail!("read {} messages of {topic}; {remaining} more expected", messages.len());
        }
        let Some(result) = consumer.poll(Duration::from_millis(200)) else { continue };
        let message = result?;
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|header| {
                        let value = header.value.map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
                        (header.key.to_string(), value)
                    })
                    .collect()
            })
            .unwrap_or_default();
        messages.push(ReadMessage {
            partition: message.partition(),
            payload: message.payload().unwrap_or_default().to_vec(),
            headers,
        });
        remaining -= 1;
    }
    Ok(messages)
}
