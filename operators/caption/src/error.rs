//! `CaptionError`: why one caption could not be written, with a stable code and a retry hint.

use clipstream_schemas::error::StageError;
use thiserror::Error;

/// A failed caption (of one clip at one scale) or a failed caption backend setup.
#[derive(Debug, Error)]
pub enum CaptionError {
    /// No answer within the request timeout.
    #[error("POST {url} timed out after {timeout_s} s")]
    Timeout { url: String, timeout_s: f64 },
    /// The server could not be reached (refused, reset, DNS, TLS).
    #[error("cannot connect to {url}")]
    Connect {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The connection broke during the exchange.
    #[error("POST {url} failed")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status; `body` is the start of its answer.
    #[error("POST {url} answered HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
    /// A 2xx answer that is not a chat completion with a non-empty message.
    #[error("unusable answer from {url}: {reason}")]
    BadResponse { url: String, reason: String },
    /// The last error of a request that was tried `attempts` times.
    #[error("gave up after {attempts} attempts")]
    Exhausted {
        attempts: u32,
        #[source]
        last: Box<CaptionError>,
    },
    /// The clip has neither a middle frame nor sampled frames.
    #[error("the clip has no frame to caption")]
    NoFrames,
    /// A frame could not be read back from the video's spill file.
    #[error("reading a frame back from the spill file: {0}")]
    Spill(String),
    /// A model-backed captioner (such as `tags`) failed.
    #[error("caption model failed: {0}")]
    Model(String),
    /// Not attempted: another caption of the same call already failed, which fails the whole video.
    #[error("not attempted after another clip of the video failed")]
    Cancelled,
    /// The backend cannot be built or a request cannot be formed from the configuration.
    #[error("invalid caption setup: {0}")]
    Setup(String),
}

impl CaptionError {
    /// The error itself when it is not a wrapper: the last attempt's error of [`CaptionError::Exhausted`].
    pub fn root(&self) -> &CaptionError {
        match self {
            Self::Exhausted { last, .. } => last.root(),
            other => other,
        }
    }
}

impl StageError for CaptionError {
    fn code(&self) -> &'static str {
        match self {
            Self::Timeout { .. } => "caption.timeout",
            Self::Connect { .. } => "caption.connect",
            Self::Http { .. } => "caption.http",
            Self::Status { .. } => "caption.http_status",
            Self::BadResponse { .. } => "caption.bad_response",
            Self::Exhausted { last, .. } => last.code(),
            Self::NoFrames => "caption.no_frames",
            Self::Spill(_) => "caption.spill",
            Self::Model(_) => "caption.model",
            Self::Cancelled => "caption.cancelled",
            Self::Setup(_) => "caption.setup",
        }
    }

    /// Timeouts, connection trouble, HTTP 429 and 5xx: the server may answer later. Other 4xx, unusable answers,
    /// missing frames and model failures stay failed.
    fn retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Connect { .. } | Self::Http { .. } => true,
            Self::Status { status, .. } => *status == 429 || (500..=599).contains(status),
            Self::Exhausted { last, .. } => last.retryable(),
            Self::BadResponse { .. }
            | Self::NoFrames
            | Self::Spill(_)
            | Self::Model(_)
            | Self::Cancelled
            | Self::Setup(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipstream_schemas::error::error_chain;

    #[test]
    fn codes_and_retry_hints() {
        let status = |status| CaptionError::Status { url: "u".into(), status, body: String::new() };
        assert!(status(429).retryable());
        assert!(status(500).retryable());
        assert!(status(503).retryable());
        assert!(!status(400).retryable());
        assert!(!status(404).retryable());
        assert_eq!(status(400).code(), "caption.http_status");
        let timeout = CaptionError::Timeout { url: "http://h/v1/chat/completions".into(), timeout_s: 1.5 };
        assert!(timeout.retryable());
        let exhausted = CaptionError::Exhausted { attempts: 4, last: Box::new(timeout) };
        assert_eq!(exhausted.code(), "caption.timeout");
        assert!(exhausted.retryable());
        assert!(matches!(exhausted.root(), CaptionError::Timeout { .. }));
        assert_eq!(
            error_chain(&exhausted),
            "gave up after 4 attempts: POST http://h/v1/chat/completions timed out after 1.5 s"
        );
        let bad = CaptionError::BadResponse { url: "u".into(), reason: "empty caption".into() };
        assert_eq!((bad.code(), bad.retryable()), ("caption.bad_response", false));
        assert_eq!((CaptionError::NoFrames.code(), CaptionError::NoFrames.retryable()), ("caption.no_frames", false));
    }
}
