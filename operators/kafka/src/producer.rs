//! `Producer`: keyed messages with headers, each confirmed by its delivery report. `send` queues; `flush` waits for
//! every queued message and fails if any was not delivered, so a caller knows what is durable before it moves on.

use std::time::Duration;

use clipstream_schemas::config::KafkaConfig;
use futures::executor::block_on;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;

use crate::client::client_config;
use crate::error::{Context, KafkaFailure};

/// How long `send` waits for room in a full local queue before it tries again.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(20);

pub struct Producer {
    inner: FutureProducer,
    pending: Vec<(String, DeliveryFuture)>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").field("pending", &self.pending.len()).finish()
    }
}

impl Producer {
    /// A producer for `config.brokers` that waits for all in-sync replicas (`acks=all`).
    pub fn open(config: &KafkaConfig) -> Result<Self, KafkaFailure> {
        let inner: FutureProducer = client_config(config)
            .set("acks", "all")
            .set("message.timeout.ms", (config.request_timeout_ms * 3).to_string())
            .create()
            .doing(|| format!("creating a producer for {}", config.brokers))?;
        Ok(Self { inner, pending: Vec::new() })
    }

    /// Queues one message (without a key the partitioner spreads messages); waits while the local queue is full.
    pub fn send(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        payload: &[u8],
        headers: &[(&str, &[u8])],
    ) -> Result<(), KafkaFailure> {
        let mut owned = OwnedHeaders::new_with_capacity(headers.len());
        for (name, value) in headers {
            owned = owned.insert(Header { key: name, value: Some(*value) });
        }
        let mut record = FutureRecord::to(topic).payload(payload).headers(owned);
        if let Some(key) = key {
            record = record.key(key);
        }
        loop {
            match self.inner.send_result(record) {
                Ok(delivery) => {
                    self.pending.push((topic.to_string(), delivery));
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(QUEUE_FULL_PAUSE);
                }
                Err((source, _)) => return Err(KafkaFailure::Delivery { topic: topic.to_string(), source }),
            }
        }
    }

    /// Messages queued and not yet confirmed.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Waits for the delivery report of every queued message; returns how many were delivered, or the first
    /// failure (after waiting for all of them).
    pub fn flush(&mut self) -> Result<usize, KafkaFailure> {
        let mut first_failure = None;
        let mut delivered = 0;
        for (topic, delivery) in self.pending.drain(..) {
            match block_on(delivery) {
                Ok(Ok(_)) => delivered += 1,
                Ok(Err((source, _))) => {
                    first_failure.get_or_insert(KafkaFailure::Delivery { topic, source });
                }
                Err(_) => {
                    first_failure.get_or_insert(KafkaFailure::Cancelled(topic));
                }
            }
        }
        first_failure.map_or(Ok(delivered), Err)
    }
}
