//! Failures talking to Kafka, each naming what was being done.

use rdkafka::error::KafkaError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum KafkaFailure {
    #[error("{what}")]
    Client {
        what: String,
        #[source]
        source: KafkaError,
    },
    #[error("topic {0:?} does not exist or has no partitions (create it first; deploy/local/up does)")]
    NoTopic(String),
    #[error("message to {topic} was not delivered")]
    Delivery {
        topic: String,
        #[source]
        source: KafkaError,
    },
    #[error("delivery report for a message to {0} never came (producer closed)")]
    Cancelled(String),
}

/// Adds what was being done to an rdkafka result.
pub(crate) trait Context<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, KafkaFailure>;
}

impl<T> Context<T> for Result<T, KafkaError> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, KafkaFailure> {
        self.map_err(|source| KafkaFailure::Client { what: what(), source })
    }
}
