//! `FetchError`: why a video's bytes could not be fetched, with a stable code and a retry hint.

use std::net::IpAddr;
use std::path::PathBuf;

use clipstream_schemas::VideoRequestError;
use clipstream_schemas::error::StageError;
use thiserror::Error;

/// A failed fetch.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error("unusable url")]
    BadUrl(#[source] VideoRequestError),
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0} is a local path outside fetch.local_roots; this source may not name local files there")]
    LocalRefused(String),
    #[error("bucket {0} is not in fetch.allow_buckets; this source may not fetch from it")]
    BucketRefused(String),
    #[error("{0} is not a regular file")]
    NotAFile(PathBuf),
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("more than {limit} redirects")]
    TooManyRedirects { limit: usize },
    #[error("redirect from {from} to unusable location {location:?}")]
    BadRedirect { from: String, location: String },
    #[error(
        "host {host} resolves to {addr}, a loopback/private/link-local/reserved address; list the host in \
         fetch.allow_hosts to permit it"
    )]
    RefusedAddress { host: String, addr: IpAddr },
    #[error("cannot resolve host {host}")]
    Dns {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url} answered HTTP {status}")]
    HttpStatus { url: String, status: u16 },
    #[error("timed out {0}")]
    Timeout(String),
    #[error("request to {url} failed")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("object store request for {url} failed")]
    ObjectStore {
        url: String,
        #[source]
        source: object_store::Error,
    },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid fetch setup: {0}")]
    Setup(String),
}

impl StageError for FetchError {
    fn code(&self) -> &'static str {
        match self {
            Self::BadUrl(_) => "fetch.bad_url",
            Self::NotFound(_) => "fetch.not_found",
            Self::LocalRefused(_) => "fetch.local_refused",
            Self::BucketRefused(_) => "fetch.bucket_refused",
            Self::NotAFile(_) => "fetch.not_a_file",
            Self::TooLarge { .. } => "fetch.too_large",
            Self::TooManyRedirects { .. } => "fetch.too_many_redirects",
            Self::BadRedirect { .. } => "fetch.bad_redirect",
            Self::RefusedAddress { .. } => "fetch.refused_address",
            Self::Dns { .. } => "fetch.dns",
            Self::HttpStatus { .. } => "fetch.http_status",
            Self::Timeout(_) => "fetch.timeout",
            Self::Http { source, .. } if source.is_connect() => "fetch.connect",
            Self::Http { .. } => "fetch.http",
            Self::ObjectStore { .. } => "fetch.object_store",
            Self::Io { .. } => "fetch.io",
            Self::Setup(_) => "fetch.setup",
        }
    }

    fn retryable(&self) -> bool {
        match self {
            Self::Dns { .. } | Self::Timeout(_) | Self::Http { .. } | Self::Io { .. } => true,
            Self::HttpStatus { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Self::ObjectStore { source, .. } => {
                matches!(source, object_store::Error::Generic { .. } | object_store::Error::JoinError { .. })
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_retry_hints() {
        let status = |status| FetchError::HttpStatus { url: "u".into(), status };
        assert!(!status(404).retryable());
        assert!(!status(403).retryable());
        assert!(status(503).retryable());
        assert!(status(429).retryable());
        assert!(status(408).retryable());
        assert_eq!(status(404).code(), "fetch.http_status");
        let refused = FetchError::RefusedAddress { host: "h".into(), addr: IpAddr::from([127, 0, 0, 1]) };
        assert_eq!(refused.code(), "fetch.refused_address");
        assert!(!refused.retryable());
    }
}
