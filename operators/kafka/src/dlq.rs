//! `DeadLetters`: failed messages and videos to the dead-letter topic. The payload is the original message bytes
//! when they are at hand (bad messages) or the request rebuilt from the error record (videos that failed in a later
//! stage); the reason travels in headers, and the whole `ErrorRecord` as JSON in `clipstream.error`. Every letter is
//! bounded whatever the message was: the payload is cut to `kafka.dlq_payload_bytes` (the whole original is stored
//! by the caller and named in `clipstream.original`), the record's text fields to [`MAX_HEADER_BYTES`], so a letter
//! always fits the broker's message limit.

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
/// Header with the whole error record as JSON (its text fields cut to [`MAX_HEADER_BYTES`]).
pub const HEADER_RECORD: &str = "clipstream.error";
/// Header with the object key of the whole original payload, when the letter carries only a prefix of it.
pub const HEADER_ORIGINAL: &str = "clipstream.original";
/// Header with `topic/partition/offset` of the message a letter is about (bad messages).
pub const HEADER_POSITION: &str = "clipstream.position";
/// The longest text field of the record in a letter's headers.
pub const MAX_HEADER_BYTES: usize = 4096;

#[derive(Debug)]
pub struct DeadLetters {
    producer: Producer,
    topic: String,
    /// The topic the letters' messages were read from (for the position header).
    source_topic: String,
    payload_bytes: usize,
}

impl DeadLetters {
    /// A dead-letter producer for `config.dlq_topic`; `None` when the topic is "" (disabled).
    pub fn open(config: &KafkaConfig) -> Result<Option<Self>, KafkaFailure> {
        if config.dlq_topic.is_empty() {
            return Ok(None);
        }
        let payload_bytes = config.dlq_payload_bytes;
        Ok(Some(Self {
            producer: Producer::open(config)?,
            topic: config.dlq_topic.clone(),
            source_topic: config.topic.clone(),
            payload_bytes,
        }))
    }

    /// Whether `payload` is longer than a letter carries (the caller then stores the original and names it).
    pub fn needs_original(&self, payload: &[u8]) -> bool {
        payload.len() > self.payload_bytes
    }

    /// Queues (a prefix of) `payload` with `record`'s reason, keyed by the video id (or the url when there is
    /// none); `original` names where the whole payload is stored when it was cut. A letter that cannot be queued is
    /// kept and sent again by the next [`DeadLetters::flush`], whose failure holds the offsets back.
    pub fn send(&mut self, record: &ErrorRecord, payload: &[u8], original: Option<&str>) {
        let record = record.clone().with_fields_cut(MAX_HEADER_BYTES);
        let key = if record.video_id.is_empty() { &record.url } else { &record.video_id };
        let json = serde_json::to_vec(&record).unwrap_or_default();
        let position = record.source.map(|s| format!("{}/{}/{}", self.source_topic, s.partition, s.offset));
        let mut headers: Vec<(&str, &[u8])> = vec![
            (HEADER_REASON, record.reason.as_bytes()),
            (HEADER_CODE, record.code.as_bytes()),
            (HEADER_STAGE, record.stage.as_str().as_bytes()),
            (HEADER_RECORD, &json),
        ];
        if let Some(original) = original {
            headers.push((HEADER_ORIGINAL, original.as_bytes()));
        }
        if let Some(position) = &position {
            headers.push((HEADER_POSITION, position.as_bytes()));
        }
        let payload = &payload[..payload.len().min(self.payload_bytes)];
        match self.producer.send(&self.topic, Some(key.as_bytes()), payload, &headers) {
            Ok(()) => metrics().dead_letters.inc(),
            Err(error) => tracing::error!(%error, "cannot queue a dead letter; it is sent again before offsets move"),
        }
    }

    /// Waits until every queued dead letter is confirmed by the broker; letters that were not are kept and sent again
    /// by the next call.
    pub fn flush(&mut self) -> Result<usize, KafkaFailure> {
        self.producer.flush()
    }

    /// Letters queued or kept for a retry, not yet confirmed.
    pub fn pending(&self) -> usize {
        self.producer.pending()
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
    fn letters_are_bounded() {
        let mut record = ErrorRecord::from_parts(Stage::Source, &"i".repeat(400_000), "u", "source.bad_id", "bad");
        record.reason = "é".repeat(100_000);
        record.raw = Some("r".repeat(100_000));
        let small = record.clone().with_fields_cut(MAX_HEADER_BYTES);
        assert!(small.video_id.len() == MAX_HEADER_BYTES && small.raw.as_ref().unwrap().len() == MAX_HEADER_BYTES);
        assert!(small.reason.len() <= MAX_HEADER_BYTES && small.reason.chars().all(|c| c == 'é'));
        assert!(serde_json::to_vec(&small).unwrap().len() < 5 * MAX_HEADER_BYTES);
        assert_eq!((small.code, small.stage), (record.code, record.stage));
    }

    #[test]
    fn request_payload_is_a_valid_request() {
        let record = ErrorRecord::from_parts(Stage::Probe, "vid", "https://e.com/v.mp4", "probe.corrupt", "bad");
        let request: VideoRequest = serde_json::from_slice(&request_payload(&record)).expect("a request");
        assert_eq!(request.url, "https://e.com/v.mp4");
        assert_eq!(request.video_id.as_deref(), Some("vid"));
    }
}
