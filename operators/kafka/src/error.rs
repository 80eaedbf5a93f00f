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
    #[error(
        "{0} error records or dead letters could not be stored; offsets were not committed past them, so the next run \
         reads those messages again"
    )]
    Undurable(u64),
    #[error("offsets of {0} epochs could not be committed; they will be read again")]
    Uncommitted(usize),
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
