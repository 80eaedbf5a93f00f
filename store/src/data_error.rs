//! `DataError`: a failure reading or writing dataset tables and shards (metadata files, shard tars, exports), each
//! saying what was being done, with the underlying error as its typed source; and `Context`, which attaches that
//! description to a `Result` or an `Option`.

use thiserror::Error;

use crate::error::StoreError;

/// The result of a dataset reader or writer.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// A failure of a dataset reader or writer. `Display` says what was being done; the source says why.
#[derive(Debug, Error)]
pub enum DataError {
    #[error("{what}")]
    Failed {
        what: String,
        #[source]
        cause: Cause,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The input is well-formed but cannot be used (a missing column, a wrong type, no committed shard).
    #[error("{0}")]
    Invalid(String),
}

/// The error underneath a [`DataError::Failed`].
#[derive(Debug, Error)]
pub enum Cause {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Data(Box<DataError>),
}

impl From<DataError> for Cause {
    fn from(error: DataError) -> Self {
        Cause::Data(Box::new(error))
    }
}

impl DataError {
    /// An unusable input, described by `what`.
    pub fn invalid(what: impl Into<String>) -> Self {
        DataError::Invalid(what.into())
    }
}

/// Says what was being done when a `Result` failed (or an `Option` was empty).
pub trait Context<T> {
    /// Wraps the failure with `what`.
    fn context(self, what: impl Into<String>) -> Result<T, DataError>;
    /// Wraps the failure with the description `what` builds (only on failure).
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T, DataError>;
}

impl<T, E: Into<Cause>> Context<T> for Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T, DataError> {
        self.map_err(|error| DataError::Failed { what: what.into(), cause: error.into() })
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T, DataError> {
        self.map_err(|error| DataError::Failed { what: what(), cause: error.into() })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: impl Into<String>) -> Result<T, DataError> {
        self.ok_or_else(|| DataError::Invalid(what.into()))
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T, DataError> {
        self.ok_or_else(|| DataError::Invalid(what()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_the_cause_as_the_source() {
        let io: Result<(), std::io::Error> = Err(std::io::Error::other("disk on fire"));
        let error = io.context("writing x").context("exporting y").unwrap_err();
        assert_eq!(error.to_string(), "exporting y");
        let inner = std::error::Error::source(&error).expect("source");
        assert_eq!(inner.to_string(), "writing x");
        let root = std::error::Error::source(inner).expect("root");
        assert_eq!(root.to_string(), "disk on fire");
        let missing: Option<u8> = None;
        assert!(
            matches!(missing.context("column c is missing"), Err(DataError::Invalid(w)) if w == "column c is missing")
        );
    }
}
