//! Errors of the list source: `SourceError` when a list cannot be opened at all, `RowError` for one bad row (which
//! becomes an `ErrorRecord` while the iterator goes on).

use std::path::PathBuf;

use clipstream_schemas::VideoRequestError;
use clipstream_schemas::error::StageError;
use thiserror::Error;

/// Why a whole list cannot be read.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("cannot open list {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot tell the format of list {path} from its extension (txt, list, csv, tsv, jsonl, ndjson, parquet)")]
    UnknownFormat { path: PathBuf },
    #[error("cannot read the header row of {path}")]
    Header {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("list {path} has no `url` column")]
    MissingUrlColumn { path: PathBuf },
    #[error("the `url` column of {path} is {found}, not a string column")]
    UrlColumnType { path: PathBuf, found: String },
    #[error("cannot read parquet file {path}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
}

impl StageError for SourceError {
    fn code(&self) -> &'static str {
        match self {
            Self::Open { .. } => "source.open",
            Self::UnknownFormat { .. } => "source.unknown_format",
            Self::Header { .. } => "source.bad_header",
            Self::MissingUrlColumn { .. } | Self::UrlColumnType { .. } => "source.missing_url_column",
            Self::Parquet { .. } => "source.parquet",
        }
    }
}

/// Why one row of a list was rejected.
#[derive(Debug, Error)]
pub(crate) enum RowError {
    #[error("not valid UTF-8")]
    InvalidUtf8,
    #[error("longer than {0} bytes")]
    TooLong(usize),
    #[error("message of {bytes} bytes is larger than kafka.max_message_bytes = {limit}; not parsed")]
    MessageTooLarge { bytes: usize, limit: usize },
    #[error("invalid JSON")]
    Json(#[source] serde_json::Error),
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    #[error("no url (missing or empty)")]
    MissingUrl,
    #[error("field {field:?} must be {expected}")]
    WrongType { field: String, expected: &'static str },
    #[error("{found} fields where the header has {expected}")]
    FieldCount { found: usize, expected: usize },
    #[error("unusable url")]
    BadUrl(#[source] VideoRequestError),
    #[error("unusable video id")]
    BadId(#[source] VideoRequestError),
    #[error("read failed")]
    Io(#[source] std::io::Error),
    #[error("malformed row")]
    Csv(#[source] csv::Error),
    #[error("cannot decode parquet batch")]
    Parquet(#[source] arrow_schema::ArrowError),
    #[error("symlink points outside the listed directory, to {0}")]
    OutsideTree(String),
}

impl StageError for RowError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidUtf8
            | Self::TooLong(_)
            | Self::Json(_)
            | Self::NotAnObject(_)
            | Self::WrongType { .. }
            | Self::FieldCount { .. }
            | Self::Csv(_) => "source.bad_row",
            Self::MessageTooLarge { .. } => "source.too_large",
            Self::MissingUrl => "source.missing_url",
            Self::BadUrl(_) => "source.bad_url",
            Self::BadId(_) => "source.bad_id",
            Self::Io(_) | Self::Parquet(_) => "source.io",
            Self::OutsideTree(_) => "source.outside_tree",
        }
    }
}
