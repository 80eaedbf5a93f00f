//! A Kafka message as a request: the same JSON object as a jsonl row (`url`, optional `video_id`/`id`, other keys
//! metadata), positioned at its partition and offset.

use clipstream_schemas::{ErrorRecord, VideoRequest};

use super::error::RowError;
use super::jsonl::parse_line;
use super::row::{MAX_RAW_BYTES, RowAt, reject_raw};

/// Validates one message payload into a request, or an error record (stage `source`) whose reason names the
/// partition and offset and whose `raw` keeps (a prefix of) the payload. A payload over `max_bytes` is refused
/// unparsed (`source.too_large`).
pub fn parse_message(
    payload: &[u8],
    partition: i32,
    offset: i64,
    max_bytes: usize,
) -> Result<VideoRequest, ErrorRecord> {
    let at = RowAt::message(partition, offset);
    if payload.len() > max_bytes {
        let prefix = &payload[..payload.len().min(MAX_RAW_BYTES)];
        let error = RowError::MessageTooLarge { bytes: payload.len(), limit: max_bytes };
        return Err(reject_raw(error, &at, String::from_utf8_lossy(prefix).into()));
    }
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
        let request = parse_message(br#"{"url":"https://e.com/a.mp4","video_id":"a","title":"t"}"#, 3, 42, 1 << 20)
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
            let record = parse_message(payload, 1, 7, 1 << 20).expect_err("invalid");
            assert_eq!(record.code, code, "{:?}", String::from_utf8_lossy(payload));
            assert!(record.reason.starts_with("partition 1 offset 7: "), "{}", record.reason);
            assert_eq!(record.source, Some(SourcePosition { partition: 1, offset: 7 }));
        }
    }

    #[test]
    fn messages_over_the_limit_are_refused_unparsed_and_records_stay_small() {
        let long_id = format!(r#"{{"url":"https://e.com/a.mp4","video_id":"{}"}}"#, "i".repeat(3000));
        assert!(parse_message(long_id.as_bytes(), 0, 1, long_id.len()).is_ok(), "at the limit");
        let record = parse_message(long_id.as_bytes(), 0, 1, long_id.len() - 1).expect_err("over the limit");
        assert_eq!(record.code, "source.too_large");
        let huge = format!(r#"{{"url":"https://e.com/{}","video_id":"x"}}"#, "\\u0001".repeat(60_000));
        let record = parse_message(huge.as_bytes(), 0, 2, 1 << 20).expect_err("unusable url");
        assert_eq!(record.code, "source.bad_url");
        let raw = record.raw.as_deref().unwrap_or_default();
        for field in [&record.url, &record.video_id, &record.reason, raw] {
            assert!(field.len() <= MAX_RAW_BYTES, "a field of {} bytes", field.len());
        }
    }
}
