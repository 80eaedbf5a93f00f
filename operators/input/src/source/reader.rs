//! `read_list`: opens a list in the right format and returns one streaming iterator over its requests.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use clipstream_schemas::{ErrorRecord, VideoRequest};

use super::delimited::DelimitedRows;
use super::directory::DirectoryRows;
use super::error::SourceError;
use super::format::ListFormat;
use super::jsonl::parse_jsonl_line;
use super::lines::LineRows;
use super::parquet_rows::ParquetRows;
use super::text::parse_text_line;

/// The requests of one list, read lazily. Bad rows come out as `Err(ErrorRecord)` (stage `source`) and reading
/// goes on; every request carries `source = SourcePosition { partition: 0, offset }`.
pub struct ListReader {
    rows: Rows,
    format: ListFormat,
}

enum Rows {
    /// txt and jsonl.
    Lines(LineRows<BufReader<File>>),
    Delimited(DelimitedRows<BufReader<File>>),
    Parquet(Box<ParquetRows>),
    Directory(DirectoryRows),
}

impl std::fmt::Debug for ListReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListReader").field("format", &self.format).finish_non_exhaustive()
    }
}

impl ListReader {
    /// The format being read.
    pub fn format(&self) -> ListFormat {
        self.format
    }
}

impl Iterator for ListReader {
    type Item = Result<VideoRequest, ErrorRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.rows {
            Rows::Lines(rows) => rows.next(),
            Rows::Delimited(rows) => rows.next(),
            Rows::Parquet(rows) => rows.next(),
            Rows::Directory(rows) => rows.next(),
        }
    }
}

/// Opens the list at `path`. The format is `format`, or else guessed from the path (a directory, or the extension:
/// `.txt`/`.list`, `.csv`, `.tsv`, `.jsonl`/`.ndjson`, `.parquet`).
///
/// Offsets: the 0-based line index for txt and jsonl, the data-record index for csv/tsv, the row index for parquet,
/// the index among reported entries for a directory.
pub fn read_list(path: &Path, format: Option<ListFormat>) -> Result<ListReader, SourceError> {
    let format = format
        .or_else(|| ListFormat::from_path(path))
        .ok_or_else(|| SourceError::UnknownFormat { path: path.to_path_buf() })?;
    let open = || File::open(path).map_err(|source| SourceError::Open { path: path.to_path_buf(), source });
    let rows = match format {
        ListFormat::Text => Rows::Lines(LineRows::new(BufReader::new(open()?), parse_text_line)),
        ListFormat::Csv => Rows::Delimited(DelimitedRows::new(BufReader::new(open()?), false, path)?),
        ListFormat::Tsv => Rows::Delimited(DelimitedRows::new(BufReader::new(open()?), true, path)?),
        ListFormat::Jsonl => Rows::Lines(LineRows::new(BufReader::new(open()?), parse_jsonl_line)),
        ListFormat::Parquet => Rows::Parquet(Box::new(ParquetRows::open(open()?, path)?)),
        ListFormat::Directory => Rows::Directory(DirectoryRows::open(path)?),
    };
    Ok(ListReader { rows, format })
}
