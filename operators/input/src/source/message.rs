//! A Kafka message as a request: the same JSON object as a jsonl row (`url`, optional `video_id`/`id`, other keys
//! metadata), positioned at its partition and offset.

use clipstream_schemas::{ErrorRecord, VideoRequest};

use super::error::RowError;
use super::jsonl::parse_line;
use super::row::{RowAt, reject_raw};

/// Validates one message payload into a request, or an error record (stage `source`) whose reason names the
/// partition and offset and whose `raw` keeps (a prefix of) the payload.
pub fn parse_message(payload: &[u8], partition: i32, offset: i64) -> Result<VideoRequest, ErrorRecord> {
    let at = RowAt::message(partition, offset);
    let Ok(text) = std::str::from_utf8(payload) else {
        return Err(reject_raw(RowError::InvalidUtf8, &at, String::from_utf8_lossy(payload).into()));
    };
    parse_line(text, &at)
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::SourcePosition;

    use super::*;

    #[test]
    fn parses_requests_and_positions_them() {
        let request = parse_message(br#"{"url":"https://e.com/a.mp4","video_id":"a","title":"t"}"#, 3, 42)
            .expect("valid message");
        assert_eq!(request.video_id.as_deref(), Some("a"));
        assert_eq!(request.source, Some(SourcePosition { partition: 3, offset: 42 }));
    }

    #[test]
    fn bad_messages_become_records_with_reasons() {
        let cases: [(&[u8], &str); 5] = [
            (b"not json", "source.bad_row"),
            (b"{\"video_id\":\"a\"}", "source.missing_url"),
            (b"{\"url\":\"ftp://h/a.mp4\"}", "source.bad_url"),
            (b"\xff\xfe", "source.bad_row"),
            (b"", "source.bad_row"),
        ];
        for (payload, code) in cases {
            let record = parse_message(payload, 1, 7).expect_err("invalid");
            assert_eq!(record.code, code, "{:?}", String::from_utf8_lossy(payload));
            assert!(record.reason.starts_with("partition 1 offset 7: "), "{}", record.reason);
            assert_eq!(record.source, Some(SourcePosition { partition: 1, offset: 7 }));
        }
    }
}
