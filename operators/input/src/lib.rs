//! Input stages of clipstream: the list-file source (txt, csv, jsonl, parquet, a directory of videos) and fetch
//! (local files, http(s) behind an SSRF guard, object_store URLs).

pub mod fetch;
pub mod source;
pub mod stage;

pub use fetch::{FetchError, Fetched, Fetcher, is_forbidden};
pub use source::{ListFormat, ListReader, SourceError, read_list};
pub use stage::{FetchStage, FetchedVideo, start_fetch};
