//! The JSON-lines list: each non-blank line a JSON object with `url`, optional `video_id`/`id`, other keys metadata.

use clipstream_schemas::{ErrorRecord, VideoRequest};
use serde_json::Value;

use super::error::RowError;
use super::row::{RowAt, finish, from_json_object, reject_raw};

/// One line of a JSON-lines list; blank lines are skipped.
pub(crate) fn parse_jsonl_line(text: String, at: &RowAt) -> Option<Result<VideoRequest, ErrorRecord>> {
    (!text.trim().is_empty()).then(|| parse_line(&text, at))
}

pub(crate) fn parse_line(text: &str, at: &RowAt) -> Result<VideoRequest, ErrorRecord> {
    let object = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => object,
        Ok(other) => return Err(reject_raw(RowError::NotAnObject(json_kind(&other)), at, text.to_string())),
        Err(e) => return Err(reject_raw(RowError::Json(e), at, text.to_string())),
    };
    let fields = from_json_object(object).map_err(|e| reject_raw(e, at, text.to_string()))?;
    finish(fields, at, || text.to_string())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lines::LineRows;
    use serde_json::json;

    #[test]
    fn reads_objects_and_reports_bad_lines() {
        let input = concat!(
            "{\"url\":\"https://e.com/a.mp4\",\"video_id\":\"A\",\"title\":\"t\",\"n\":3}\n",
            "\n",
            "{not json\n",
            "{\"id\":\"x\"}\n",
            "[1,2]\n",
            "{\"url\":\"/v/b.mp4\",\"video_id\":\"../../etc\"}\n",
            "{\"url\":\"gopher://h/x\"}\n",
            "{\"url\":5}\n",
        );
        let rows: Vec<_> = LineRows::new(input.as_bytes(), parse_jsonl_line).collect();
        assert_eq!(rows.len(), 7);
        let a = rows[0].as_ref().expect("a");
        assert_eq!(a.video_id.as_deref(), Some("A"));
        assert_eq!(a.metadata.get("title"), Some(&json!("t")));
        assert_eq!(a.metadata.get("n"), Some(&json!(3)));
        let codes: Vec<_> = rows.iter().map(|r| r.as_ref().err().map(|e| e.code.as_str())).collect();
        assert_eq!(
            codes,
            vec![
                None,
                Some("source.bad_row"),
                Some("source.missing_url"),
                Some("source.bad_row"),
                None,
                Some("source.bad_url"),
                Some("source.bad_row"),
            ]
        );
        let bad_json = rows[1].as_ref().expect_err("bad json");
        assert!(bad_json.reason.starts_with("line 3: invalid JSON: "), "{}", bad_json.reason);
        assert_eq!(bad_json.raw.as_deref(), Some("{not json"));
        assert_eq!(bad_json.source.map(|s| s.offset), Some(2));
        let hostile = rows[4].as_ref().expect("hostile id still usable");
        let key = hostile.key().expect("key");
        assert!(!key.contains('/') && !key.contains(".."), "{key}");
    }
}
