//! The rdkafka boundary of clipstream. [`PartitionReader`]: one timely worker's share of a topic's partitions
//! (manual assignment, resuming at the consumer group's committed offsets, explicit synchronous commits);
//! [`DeadLetters`]: failed messages and videos to a dead-letter topic with their reasons as headers, plus its timely
//! wrapper; [`Producer`]: keyed JSON messages with delivery confirmation (`clipstream enqueue`); [`source`]: the
//! loop that feeds a worker's dataflow from its partitions and commits offsets once their epochs are durable.
//! Nothing here knows about videos beyond `ErrorRecord`; parsing messages into requests is the input crate's job.

mod client;
mod consumer;
mod dlq;
mod error;
mod lag;
mod metrics;
mod operator;
mod producer;
pub mod source;

pub use consumer::{PartitionReader, RawMessage, assigned_partitions};
pub use dlq::{
    DeadLetters, HEADER_CODE, HEADER_ORIGINAL, HEADER_POSITION, HEADER_REASON, HEADER_RECORD, HEADER_STAGE,
    request_payload,
};
pub use error::KafkaFailure;
pub use lag::{PartitionLag, group_lag};
pub use metrics::count_message;
pub use operator::DeadLetterExt;
pub use producer::Producer;
pub use source::{Feed, KafkaRun, ParseMessage};
