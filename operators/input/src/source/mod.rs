//! The list-file source: reads video requests from a txt/csv/tsv/jsonl/parquet list or a directory of videos,
//! streaming, one `Result<VideoRequest, ErrorRecord>` per row.

mod delimited;
mod directory;
mod error;
mod format;
mod jsonl;
mod lines;
mod message;
mod parquet_rows;
mod reader;
mod row;
mod text;

pub use error::SourceError;
pub use format::{ListFormat, UnknownFormat, VIDEO_EXTENSIONS, is_video_file_name};
pub use message::parse_message;
pub use reader::{ListReader, read_list};
