//! `DeadLetters`: failed messages and videos to the dead-letter topic. The payload is the original message bytes
//! when they are at hand (bad messages) or the request rebuilt from the error record (videos that failed in a later
//! stage); the reason travels in headers, and the whole `ErrorRecord` as JSON in `clipstream.error`.

use clipstream_schemas::ErrorRecord;
use clipstream_schemas::config::KafkaConfig;

use crate::error::KafkaFailure;
use crate::metrics::metrics;
use crate::producer::Producer;

/// Header with the human-readable reason.
pub const HEADER_REASON: &str = "clipstream.reason";
/// Header with the low-cardinality error code.
pub const HEADER_CODE: &str = "clipstream.code";
/// Header with the failed stage.
pub const HEADER_STAGE: &str = "clipstream.stage";
/// Header with the whole error record as JSON.
pub const HEADER_RECORD: &str = "clipstream.error";

#[derive(Debug)]
pub struct DeadLetters {
    producer: Producer,
    topic: String,
}

impl DeadLetters {
    /// A dead-letter producer for `config.dlq_topic`; `None` when the topic is "" (disabled).
    pub fn open(config: &KafkaConfig) -> Result<Option<Self>, KafkaFailure> {
        if config.dlq_topic.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self { producer: Producer::open(config)?, topic: config.dlq_topic.clone() }))
    }

    /// Queues `payload` with `record`'s reason, keyed by the video id (or the url when there is none).
    pub fn send(&mut self, record: &ErrorRecord, payload: &[u8]) -> Result<(), KafkaFailure> {
        let key = if record.video_id.is_empty() { &record.url } else { &record.video_id };
        let json = serde_json::to_vec(record).unwrap_or_default();
        let headers: [(&str, &[u8]); 4] = [
            (HEADER_REASON, record.reason.as_bytes()),
            (HEADER_CODE, record.code.as_bytes()),
            (HEADER_STAGE, record.stage.as_str().as_bytes()),
            (HEADER_RECORD, &json),
        ];
        self.producer.send(&self.topic, Some(key.as_bytes()), payload, &headers)?;
        metrics().dead_letters.inc();
        Ok(())
    }

    /// Waits until every queued dead letter is confirmed by the broker.
    pub fn flush(&mut self) -> Result<usize, KafkaFailure> {
        self.producer.flush()
    }
}

/// The payload for a video that failed after its message was parsed: the request as JSON (url and id), which a
/// replay tool can enqueue again unchanged.
pub fn request_payload(record: &ErrorRecord) -> Vec<u8> {
    let mut request = serde_json::Map::new();
    request.insert("url".into(), record.url.clone().into());
    if !record.video_id.is_empty() {
        request.insert("video_id".into(), record.video_id.clone().into());
    }
    serde_json::Value::Object(request).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::{Stage, VideoRequest};

    use super::*;

    #[test]
    fn request_payload_is_a_valid_request() {
        let record = ErrorRecord::from_parts(Stage::Probe, "vid", "https://e.com/v.mp4", "probe.corrupt", "bad");
        let request: VideoRequest = serde_json::from_slice(&request_payload(&record)).expect("a request");
        assert_eq!(request.url, "https://e.com/v.mp4");
        assert_eq!(request.video_id.as_deref(), Some("vid"));
    }
}
