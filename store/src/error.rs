//! `StoreError`: everything that can go wrong while reading or writing the output, each variant naming the object or file and
//! the operation that failed.

use std::path::PathBuf;

use clipstream_schemas::error::StageError;
use thiserror::Error;

/// A failure of the sink. Object keys are relative to the output root.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot open output {url:?}: {reason}")]
    OpenOutput { url: String, reason: String },
    #[error("cannot open output {url:?}")]
    OpenStore {
        url: String,
        #[source]
        source: Box<object_store::Error>,
    },
    #[error("cannot start the I/O runtime of the sink")]
    Runtime(#[source] std::io::Error),
    #[error("object store: {op} {key:?} failed")]
    Store {
        op: &'static str,
        key: String,
        #[source]
        source: Box<object_store::Error>,
    },
    #[error("local file {path:?}: {op} failed")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("clip key {key:?} of video {video_id:?} is not a safe object key")]
    BadKey { video_id: String, key: String },
    #[error("cannot encode {what} as JSON")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write the parquet file of shard {shard}")]
    Parquet {
        shard: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("shard has no videos; nothing to commit")]
    EmptyShard,
    #[error("index object {key:?} is unreadable: {reason}")]
    BadIndex { key: String, reason: String },
}

impl StoreError {
    /// Wraps an object-store error with the operation and key.
    pub(crate) fn store(op: &'static str, key: &str, source: object_store::Error) -> Self {
        StoreError::Store { op, key: key.to_string(), source: Box::new(source) }
    }

    /// Whether the failure is an object that does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::Store { source, .. } if matches!(**source, object_store::Error::NotFound { .. }))
    }

    /// Wraps a local I/O error with the operation and path.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io { op, path: path.into(), source }
    }
}

impl StageError for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::OpenOutput { .. } | StoreError::OpenStore { .. } => "sink.open",
            StoreError::Runtime(_) => "sink.runtime",
            StoreError::Store { .. } => "sink.store",
            StoreError::Io { .. } => "sink.io",
            StoreError::BadKey { .. } => "sink.bad_key",
            StoreError::Json { .. } => "sink.json",
            StoreError::Parquet { .. } => "sink.parquet",
            StoreError::EmptyShard => "sink.empty_shard",
            StoreError::BadIndex { .. } => "sink.bad_index",
        }
    }

    /// Store and local-disk trouble may pass; bad keys and encoding errors will not.
    fn retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Store { .. } | StoreError::Io { .. } | StoreError::Runtime(_) | StoreError::OpenStore { .. }
        )
    }
}
