//! `VideoRequest`: one video to curate, as read from a list file or a Kafka message, and where it lives.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use url::Url;

use crate::clip::SourcePosition;
use crate::key::{KeyError, safe_key};

/// A video to curate. `video_id` is optional; without it an id is derived from the URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoRequest {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_id: Option<String>,
    /// Free-form columns of the input row (title, category, ...), carried into every clip record.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Where the request came from (Kafka partition/offset or list line), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePosition>,
}

/// Where a video's bytes are, after validating its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file (plain path or `file://` URL).
    Local(PathBuf),
    /// `http://` or `https://`.
    Http(Url),
    /// An object-store URL: `s3://`, `gs://`, `az://`, `abfs://`, ...
    Object(Url),
}

/// Why a request cannot be processed at all.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VideoRequestError {
    #[error("url is empty")]
    EmptyUrl,
    #[error("url {0:?} contains control characters")]
    ControlCharacters(String),
    #[error("url {url:?} is not valid: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("url scheme {0:?} is not supported (file, http, https, s3, gs, az, abfs, adl)")]
    UnsupportedScheme(String),
    #[error("video id {id:?} is not usable: {source}")]
    BadId { id: String, source: KeyError },
}

impl crate::error::StageError for VideoRequestError {
    fn code(&self) -> &'static str {
        match self {
            VideoRequestError::EmptyUrl => "source.missing_url",
            VideoRequestError::ControlCharacters(_) | VideoRequestError::BadUrl { .. } => "source.bad_url",
            VideoRequestError::UnsupportedScheme(_) => "source.unsupported_scheme",
            VideoRequestError::BadId { .. } => "source.bad_id",
        }
    }
}

const OBJECT_SCHEMES: &[&str] = &["s3", "s3a", "gs", "az", "adl", "azure", "abfs", "abfss"];

impl VideoRequest {
    /// A request for `url` with no id or metadata.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), video_id: None, metadata: BTreeMap::new(), source: None }
    }

    /// Validates the URL and classifies it. Plain strings without a scheme are local paths.
    pub fn location(&self) -> Result<Location, VideoRequestError> {
        let raw = self.url.trim();
        if raw.is_empty() {
            return Err(VideoRequestError::EmptyUrl);
        }
        if raw.chars().any(char::is_control) {
            return Err(VideoRequestError::ControlCharacters(raw.to_string()));
        }
        let has_scheme = raw.split_once("://").is_some_and(|(scheme, _)| {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        if !has_scheme {
            return Ok(Location::Local(PathBuf::from(raw)));
        }
        let url =
            Url::parse(raw).map_err(|e| VideoRequestError::BadUrl { url: raw.to_string(), reason: e.to_string() })?;
        match url.scheme() {
            "file" => url
                .to_file_path()
                .map(Location::Local)
                .map_err(|()| VideoRequestError::BadUrl { url: raw.to_string(), reason: "not a local path".into() }),
            "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(Location::Http(url)),
            "http" | "https" => Err(VideoRequestError::BadUrl { url: raw.to_string(), reason: "no host".into() }),
            s if OBJECT_SCHEMES.contains(&s) => Ok(Location::Object(url)),
            other => Err(VideoRequestError::UnsupportedScheme(other.to_string())),
        }
    }

    /// The id as given, or one derived from the URL: the file stem plus a short hash of the whole URL
    /// (so two `video.mp4` in different folders differ).
    pub fn raw_id(&self) -> String {
        if let Some(id) = self.video_id.as_deref().filter(|id| !id.trim().is_empty()) {
            return id.trim().to_string();
        }
        let url = self.url.trim();
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let last = path.trim_end_matches('/').rsplit(['/', '\\']).next().unwrap_or("");
        let stem = last.rsplit_once('.').map_or(last, |(stem, _)| stem);
        let hash = hex::encode(&Sha256::digest(url.as_bytes())[..4]);
        if stem.is_empty() { format!("v-{hash}") } else { format!("{stem}-{hash}") }
    }

    /// The object-key-safe id used for shard keys and skip checks.
    pub fn key(&self) -> Result<String, VideoRequestError> {
        let id = self.raw_id();
        safe_key(&id).map_err(|source| VideoRequestError::BadId { id, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_locations() {
        assert_eq!(VideoRequest::new("/data/a.mp4").location(), Ok(Location::Local("/data/a.mp4".into())));
        assert_eq!(VideoRequest::new("rel/a.mp4").location(), Ok(Location::Local("rel/a.mp4".into())));
        assert_eq!(VideoRequest::new("file:///data/a.mp4").location(), Ok(Location::Local("/data/a.mp4".into())));
        assert!(matches!(VideoRequest::new("https://example.com/v.mp4").location(), Ok(Location::Http(_))));
        assert!(matches!(VideoRequest::new("s3://bucket/key.mp4").location(), Ok(Location::Object(_))));
        assert!(matches!(VideoRequest::new("gs://bucket/key.mp4").location(), Ok(Location::Object(_))));
    }

    #[test]
    fn rejects_bad_urls() {
        assert_eq!(VideoRequest::new("  ").location(), Err(VideoRequestError::EmptyUrl));
        assert!(matches!(VideoRequest::new("ftp://host/x").location(), Err(VideoRequestError::UnsupportedScheme(_))));
        assert!(matches!(VideoRequest::new("gopher://x").location(), Err(VideoRequestError::UnsupportedScheme(_))));
        assert!(matches!(VideoRequest::new("http://").location(), Err(VideoRequestError::BadUrl { .. })));
        assert!(matches!(VideoRequest::new("http://[::1").location(), Err(VideoRequestError::BadUrl { .. })));
        assert!(matches!(VideoRequest::new("/tmp/a\u{0}b").location(), Err(VideoRequestError::ControlCharacters(_))));
    }

    #[test]
    fn derives_stable_distinct_ids() {
        let a = VideoRequest::new("/x/video.mp4");
        let b = VideoRequest::new("/y/video.mp4");
        assert!(a.raw_id().starts_with("video-"));
        assert_ne!(a.raw_id(), b.raw_id());
        assert_eq!(a.raw_id(), VideoRequest::new("/x/video.mp4").raw_id());
        let mut given = VideoRequest::new("/x/video.mp4");
        given.video_id = Some("../../escape".into());
        let key = given.key().expect("hostile id is neutralised");
        assert!(!key.contains('/') && !key.contains(".."));
    }

    #[test]
    fn json_round_trip_and_strictness() {
        let json = r#"{"url":"https://e.com/a.mp4","video_id":"abc","metadata":{"title":"t"}}"#;
        let req: VideoRequest = serde_json::from_str(json).expect("parses");
        assert_eq!(req.video_id.as_deref(), Some("abc"));
        assert_eq!(serde_json::from_str::<VideoRequest>(&serde_json::to_string(&req).expect("ser")).ok(), Some(req));
        assert!(serde_json::from_str::<VideoRequest>(r#"{"video_id":"a"}"#).is_err());
        assert!(serde_json::from_str::<VideoRequest>(r#"{"url":"a","bogus":1}"#).is_err());
    }
}
