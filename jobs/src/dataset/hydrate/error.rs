//! `HydrateError`: the failures of hydrate's own steps (the fetch, probe and cut failures are the input and media
//! crates' errors), each with its stable error code.

use std::path::PathBuf;

use clipstream_schemas::error::StageError;
use clipstream_schemas::key::KeyError;
use thiserror::Error;

/// Why a listed video could not be hydrated by hydrate itself.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HydrateError {
    #[error("video id {id:?} has characters that cannot name a file or URL, and its rows have no url")]
    UnsafeId { id: String },
    #[error("no file {id}.<{extensions}> under {}", root.display())]
    NotFound { id: String, extensions: String, root: PathBuf },
    #[error("video id {id:?}")]
    BadId {
        id: String,
        #[source]
        source: KeyError,
    },
}

impl StageError for HydrateError {
    fn code(&self) -> &'static str {
        match self {
            HydrateError::UnsafeId { .. } => "hydrate.unsafe_id",
            HydrateError::NotFound { .. } => "fetch.not_found",
            HydrateError::BadId { .. } => "source.bad_id",
        }
    }
}
