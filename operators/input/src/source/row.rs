//! Turning the fields of one list row into a validated `VideoRequest`, or into an `ErrorRecord` that names the row
//! and keeps its original text.

use std::collections::BTreeMap;

use clipstream_schemas::{ErrorRecord, SourcePosition, Stage, VideoRequest};
use serde_json::{Map, Value};

use super::error::RowError;

/// Longest `raw` text kept in an error record.
pub(crate) const MAX_RAW_BYTES: usize = 4096;

/// Where a row sits in its list: the offset stored in `SourcePosition` and a human label for reasons.
#[derive(Debug, Clone)]
pub(crate) struct RowAt {
    /// The Kafka partition of a message; 0 for list files.
    pub partition: i32,
    /// 0-based position of the row (line index, record index, row index, entry index or message offset).
    pub offset: i64,
    /// `line 12`, `row 3`, `entry a/b.mp4`: used as the prefix of error reasons.
    pub label: String,
}

impl RowAt {
    /// A line of a text-like list; `index` is 0-based, the label 1-based.
    pub fn line(index: u64) -> Self {
        Self { partition: 0, offset: to_offset(index), label: format!("line {}", index.saturating_add(1)) }
    }

    /// A row of a list without meaningful line numbers; `index` is 0-based, the label 1-based.
    pub fn row(index: u64) -> Self {
        Self { partition: 0, offset: to_offset(index), label: format!("row {}", index.saturating_add(1)) }
    }

    /// A Kafka message.
    pub fn message(partition: i32, offset: i64) -> Self {
        Self { partition, offset, label: format!("partition {partition} offset {offset}") }
    }

    fn position(&self) -> SourcePosition {
        SourcePosition { partition: self.partition, offset: self.offset }
    }
}

fn to_offset(index: u64) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

/// The fields a row provides, before validation.
#[derive(Debug, Default)]
pub(crate) struct RowFields {
    pub url: String,
    pub video_id: Option<String>,
    pub metadata: BTreeMap<String, Value>,
}

/// Validates `fields` (url location, id key) into a request stamped with its position.
/// `raw` is called only on failure, to recover the row's original text.
pub(crate) fn finish(fields: RowFields, at: &RowAt, raw: impl FnOnce() -> String) -> Result<VideoRequest, ErrorRecord> {
    let request = VideoRequest {
        url: fields.url.trim().to_string(),
        video_id: fields.video_id.map(|id| id.trim().to_string()).filter(|id| !id.is_empty()),
        metadata: fields.metadata,
        source: Some(at.position()),
    };
    if request.url.is_empty() {
        return Err(reject(RowError::MissingUrl, at, &request.url, request.video_id.as_deref().unwrap_or(""), raw()));
    }
    if let Err(e) = request.location() {
        return Err(reject(RowError::BadUrl(e), at, &request.url, &request.raw_id(), raw()));
    }
    if let Err(e) = request.key() {
        return Err(reject(RowError::BadId(e), at, &request.url, &request.raw_id(), raw()));
    }
    Ok(request)
}

/// An error record for a row that failed before a url or id was known.
pub(crate) fn reject_raw(error: RowError, at: &RowAt, raw: String) -> ErrorRecord {
    reject(error, at, "", "", raw)
}

/// An error record of stage `source` for the row at `at`, keeping (a prefix of) its original text.
pub(crate) fn reject(error: RowError, at: &RowAt, url: &str, video_id: &str, raw: String) -> ErrorRecord {
    let mut record = ErrorRecord::new(Stage::Source, video_id, url, &error);
    record.reason = format!("{}: {}", at.label, record.reason);
    record.source = Some(at.position());
    record.raw = Some(raw);
    record.with_fields_cut(MAX_RAW_BYTES)
}

/// Splits a JSON object into url, id and metadata: `url` (string), `video_id` or else `id` (string or integer),
/// a nested `metadata` object merged in, every other key kept as metadata.
pub(crate) fn from_json_object(mut map: Map<String, Value>) -> Result<RowFields, RowError> {
    let url = match map.remove("url") {
        None | Some(Value::Null) => return Err(RowError::MissingUrl),
        Some(Value::String(url)) if url.trim().is_empty() => return Err(RowError::MissingUrl),
        Some(Value::String(url)) => url,
        Some(_) => return Err(RowError::WrongType { field: "url".into(), expected: "a string" }),
    };
    let video_id = match map.remove("video_id") {
        Some(value) if !value.is_null() => id_value("video_id", value)?,
        _ => match map.remove("id") {
            Some(value) => id_value("id", value)?,
            None => None,
        },
    };
    let mut metadata = BTreeMap::new();
    if let Some(Value::Object(nested)) = map.get("metadata") {
        metadata.extend(nested.iter().map(|(k, v)| (k.clone(), v.clone())));
        map.remove("metadata");
    }
    metadata.extend(map);
    Ok(RowFields { url, video_id, metadata })
}

fn id_value(field: &str, value: Value) -> Result<Option<String>, RowError> {
    match value {
        Value::Null => Ok(None),
        Value::String(id) => Ok(Some(id)),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        _ => Err(RowError::WrongType { field: field.into(), expected: "a string or an integer" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn splits_json_objects() {
        let fields = from_json_object(object(json!({
            "url": "https://e.com/a.mp4", "id": 7, "title": "t", "metadata": {"lang": "en"}
        })))
        .expect("valid");
        assert_eq!(fields.video_id.as_deref(), Some("7"));
        assert_eq!(fields.metadata.get("title"), Some(&json!("t")));
        assert_eq!(fields.metadata.get("lang"), Some(&json!("en")));
        assert!(!fields.metadata.contains_key("metadata"));

        let both = from_json_object(object(json!({"url": "u", "video_id": "a", "id": "b"}))).expect("valid");
        assert_eq!(both.video_id.as_deref(), Some("a"));
        assert_eq!(both.metadata.get("id"), Some(&json!("b")));

        assert!(matches!(from_json_object(object(json!({"id": "a"}))), Err(RowError::MissingUrl)));
        assert!(matches!(from_json_object(object(json!({"url": " "}))), Err(RowError::MissingUrl)));
        assert!(matches!(from_json_object(object(json!({"url": 3}))), Err(RowError::WrongType { .. })));
        assert!(matches!(from_json_object(object(json!({"url": "u", "id": [1]}))), Err(RowError::WrongType { .. })));
    }

    #[test]
    fn finish_validates_url_and_id() {
        let at = RowAt::line(4);
        let ok = finish(RowFields { url: " /v/a.mp4 ".into(), ..Default::default() }, &at, String::new).expect("ok");
        assert_eq!(ok.url, "/v/a.mp4");
        assert_eq!(ok.source, Some(SourcePosition { partition: 0, offset: 4 }));

        let bad = finish(RowFields { url: "ftp://h/x.mp4".into(), ..Default::default() }, &at, || "RAW".into())
            .expect_err("ftp refused");
        assert_eq!(bad.code, "source.bad_url");
        assert!(bad.reason.starts_with("line 5: "), "{}", bad.reason);
        assert_eq!(bad.raw.as_deref(), Some("RAW"));
        assert_eq!(bad.stage, Stage::Source);
        assert!(!bad.retryable);
    }

    #[test]
    fn truncates_on_char_boundary() {
        let long = "é".repeat(MAX_RAW_BYTES);
        let cut = clipstream_schemas::cut_at_char(&long, MAX_RAW_BYTES);
        assert!(cut.len() <= MAX_RAW_BYTES && cut.len() >= MAX_RAW_BYTES - 1);
        assert_eq!(clipstream_schemas::cut_at_char("short", MAX_RAW_BYTES), "short");
    }
}
