//! `Producer`: keyed messages with headers, each confirmed by its delivery report. `send` queues; `flush` waits for
//! every queued message and fails if any was not delivered, so a caller knows what is durable before it moves on.
//! A message that was not delivered (or could not even be queued) is kept and sent again by the next `flush`, so a
//! failed flush never forgets a message.

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

/// A message as queued, kept until its delivery is confirmed.
#[derive(Debug, Clone)]
struct Outgoing {
    topic: String,
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
}

pub struct Producer {
    inner: FutureProducer,
    pending: Vec<(Outgoing, DeliveryFuture)>,
    /// Messages whose delivery failed or that could not be queued; sent again by the next `flush`.
    retry: Vec<Outgoing>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").field("pending", &self.pending.len()).field("retry", &self.retry.len()).finish()
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
        Ok(Self { inner, pending: Vec::new(), retry: Vec::new() })
    }

    /// Queues one message (without a key the partitioner spreads messages); waits while the local queue is full.
    /// A message that cannot be queued is kept for the next `flush` and its error returned.
    pub fn send(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        payload: &[u8],
        headers: &[(&str, &[u8])],
    ) -> Result<(), KafkaFailure> {
        let message = Outgoing {
            topic: topic.to_string(),
            key: key.map(<[u8]>::to_vec),
            payload: payload.to_vec(),
            headers: headers.iter().map(|(name, value)| (name.to_string(), value.to_vec())).collect(),
        };
        self.queue(message)
    }

    fn queue(&mut self, message: Outgoing) -> Result<(), KafkaFailure> {
        let mut owned = OwnedHeaders::new_with_capacity(message.headers.len());
        for (name, value) in &message.headers {
            owned = owned.insert(Header { key: name, value: Some(value) });
        }
        let mut record = FutureRecord::to(&message.topic).payload(&message.payload).headers(owned);
        if let Some(key) = &message.key {
            record = record.key(key);
        }
        loop {
            match self.inner.send_result(record) {
                Ok(delivery) => {
                    self.pending.push((message, delivery));
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(QUEUE_FULL_PAUSE);
                }
                Err((source, _)) => {
                    let topic = message.topic.clone();
                    self.retry.push(message);
                    return Err(KafkaFailure::Delivery { topic, source });
                }
            }
        }
    }

    /// Messages queued or kept for a retry, not yet confirmed.
    pub fn pending(&self) -> usize {
        self.pending.len() + self.retry.len()
    }

    /// Sends the kept messages again, then waits for the delivery report of every queued message; returns how many
    /// were delivered, or the first failure (after waiting for all of them; the failed ones are kept).
    pub fn flush(&mut self) -> Result<usize, KafkaFailure> {
        let mut first_failure = None;
        for message in std::mem::take(&mut self.retry) {
            if let Err(failure) = self.queue(message) {
                first_failure.get_or_insert(failure);
            }
        }
        let mut delivered = 0;
        for (message, delivery) in std::mem::take(&mut self.pending) {
            match block_on(delivery) {
                Ok(Ok(_)) => delivered += 1,
                Ok(Err((source, _))) => {
                    first_failure.get_or_insert(KafkaFailure::Delivery { topic: message.topic.clone(), source });
                    self.retry.push(message);
                }
                Err(_) => {
                    first_failure.get_or_insert(KafkaFailure::Cancelled(message.topic.clone()));
                    self.retry.push(message);
                }
            }
        }
        first_failure.map_or(Ok(delivered), Err)
    }
}
