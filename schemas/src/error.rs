//! `ErrorRecord`: a video (or input row) that could not be curated, with the stage and reason. Nothing is dropped
//! silently: every failure becomes one of these in `errors/` (and in the dead-letter topic with Kafka).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clip::SourcePosition;

/// The pipeline stage where something failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Source,
    Fetch,
    Probe,
    SceneCut,
    Clip,
    Frames,
    Caption,
    Score,
    Filter,
    Sink,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 10] = [
        Stage::Source,
        Stage::Fetch,
        Stage::Probe,
        Stage::SceneCut,
        Stage::Clip,
        Stage::Frames,
        Stage::Caption,
        Stage::Score,
        Stage::Filter,
        Stage::Sink,
    ];

    /// The metric label / serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Source => "source",
            Stage::Fetch => "fetch",
            Stage::Probe => "probe",
            Stage::SceneCut => "scene_cut",
            Stage::Clip => "clip",
            Stage::Frames => "frames",
            Stage::Caption => "caption",
            Stage::Score => "score",
            Stage::Filter => "filter",
            Stage::Sink => "sink",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed video or input row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRecord {
    /// The video id if one could be determined, else empty.
    pub video_id: String,
    pub url: String,
    pub stage: Stage,
    /// A short, low-cardinality code (`probe.too_short`, `fetch.refused_address`, ...), used as a metric label.
    pub code: String,
    /// The full human-readable reason.
    pub reason: String,
    /// Whether trying again later may succeed (network trouble) or not (corrupt file, policy).
    pub retryable: bool,
    /// RFC 3339 time of the failure.
    pub at: String,
    pub source: Option<SourcePosition>,
    /// The original input bytes when the input itself was unreadable (bad list line, bad message), lossy UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

/// Implemented by every stage's error enum so failures become records and metric labels uniformly.
pub trait StageError: std::error::Error {
    /// Short low-cardinality code, `stage.reason` style.
    fn code(&self) -> &'static str;
    /// Whether a retry may succeed.
    fn retryable(&self) -> bool {
        false
    }
}

impl ErrorRecord {
    /// A record stamped with the current time; credentials and signatures in `url` are redacted, here and in the
    /// reason.
    pub fn new(stage: Stage, video_id: &str, url: &str, error: &dyn StageError) -> Self {
        let redacted = crate::redact_url(url);
        let reason = error_chain(error);
        Self {
            video_id: video_id.to_string(),
            reason: if redacted == url || url.is_empty() { reason } else { reason.replace(url, &redacted) },
            url: redacted,
            stage,
            code: error.code().to_string(),
            retryable: error.retryable(),
            at: now_rfc3339(),
            source: None,
            raw: None,
        }
    }

    /// The record of `request` failing at `stage`: its raw id, url (redacted) and source position.
    pub fn for_request(stage: Stage, request: &crate::VideoRequest, error: &dyn StageError) -> Self {
        Self { source: request.source, ..Self::new(stage, &request.raw_id(), &request.url, error) }
    }
}

impl ErrorRecord {
    /// A non-retryable record from plain parts (for failures that are not a [`StageError`]).
    pub fn from_parts(stage: Stage, video_id: &str, url: &str, code: &str, reason: impl Into<String>) -> Self {
        Self {
            video_id: video_id.to_string(),
            url: crate::redact_url(url),
            stage,
            code: code.to_string(),
            reason: reason.into(),
            retryable: false,
            at: now_rfc3339(),
            source: None,
            raw: None,
        }
    }
}

impl ErrorRecord {
    /// The record with its text fields (video id, url, reason, raw) cut to at most `max_bytes` bytes each.
    pub fn with_fields_cut(self, max_bytes: usize) -> Self {
        let cut = |text: &str| crate::cut_at_char(text, max_bytes).to_string();
        Self {
            video_id: cut(&self.video_id),
            url: cut(&self.url),
            reason: cut(&self.reason),
            raw: self.raw.as_deref().map(cut),
            ..self
        }
    }
}

/// The error and all its sources, joined by `: `.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let next = inner.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = inner.source();
    }
    text
}

/// Current time as RFC 3339 with milliseconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    impl StageError for Outer {
        fn code(&self) -> &'static str {
            "fetch.io"
        }
        fn retryable(&self) -> bool {
            true
        }
    }

    #[test]
    fn record_carries_chain_code_and_retry_hint() {
        let err = Outer(std::io::Error::other("disk gone"));
        let rec = ErrorRecord::new(Stage::Fetch, "v1", "/x.mp4", &err);
        assert_eq!(rec.code, "fetch.io");
        assert_eq!(rec.reason, "outer: disk gone");
        assert!(rec.retryable);
        let json = serde_json::to_string(&rec).expect("serializes");
        assert!(json.contains(r#""stage":"fetch""#));
        assert_eq!(serde_json::from_str::<ErrorRecord>(&json).expect("parses"), rec);
    }

    #[test]
    fn a_request_record_carries_its_id_redacted_url_and_source() {
        let mut request = crate::VideoRequest::new("https://user:secret@example.com/v.mp4");
        request.video_id = Some("vid".into());
        request.source = Some(crate::clip::SourcePosition { partition: 3, offset: 17 });
        let rec = ErrorRecord::for_request(Stage::Probe, &request, &Outer(std::io::Error::other("bad")));
        assert_eq!((rec.video_id.as_str(), rec.stage, rec.source), ("vid", Stage::Probe, request.source));
        assert!(!rec.url.contains("secret"), "{}", rec.url);
    }

    #[test]
    fn stage_names_are_stable() {
        for stage in Stage::ALL {
            let json = serde_json::to_string(&stage).expect("serializes");
            assert_eq!(json, format!("\"{}\"", stage.as_str()));
        }
    }
}
