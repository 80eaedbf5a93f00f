//! The CSV/TSV list: a header row with a `url` column, optional `video_id` (or `id`), every other column kept as
//! string metadata.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use clipstream_schemas::{ErrorRecord, VideoRequest};
use csv::{ByteRecord, Reader, ReaderBuilder};
use serde_json::Value;

use super::error::{RowError, SourceError};
use super::row::{RowAt, RowFields, finish, reject_raw};

/// Which column holds what, found from the header row.
struct Columns {
    url: usize,
    video_id: Option<usize>,
    /// Every other column: index and header name.
    metadata: Vec<(usize, String)>,
    count: usize,
}

/// Requests from a delimited list; `SourcePosition::offset` is the 0-based data-record index (header excluded).
pub(crate) struct DelimitedRows<R> {
    reader: Reader<R>,
    columns: Columns,
    delimiter: u8,
    record: ByteRecord,
    next_index: u64,
    done: bool,
}

impl<R: Read> DelimitedRows<R> {
    /// Reads the header row. `tab` selects TSV (tab-separated, no quoting).
    pub fn new(input: R, tab: bool, path: &Path) -> Result<Self, SourceError> {
        let delimiter = if tab { b'\t' } else { b',' };
        let mut reader = ReaderBuilder::new().delimiter(delimiter).quoting(!tab).flexible(true).from_reader(input);
        let header = |source| SourceError::Header { path: path.to_path_buf(), source };
        let headers = reader.headers().map_err(header)?.clone();
        let names: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
        let find = |want: &str| names.iter().position(|n| n.eq_ignore_ascii_case(want));
        let url = find("url").ok_or_else(|| SourceError::MissingUrlColumn { path: path.to_path_buf() })?;
        let video_id = find("video_id").or_else(|| find("id"));
        let metadata = names
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != url && Some(*i) != video_id)
            .map(|(i, name)| (i, name.clone()))
            .collect();
        let columns = Columns { url, video_id, metadata, count: names.len() };
        Ok(Self { reader, columns, delimiter, record: ByteRecord::new(), next_index: 0, done: false })
    }

    /// The record as one line of text again, for error records.
    fn raw(&self) -> String {
        let parts: Vec<_> = self.record.iter().map(String::from_utf8_lossy).collect();
        parts.join(&char::from(self.delimiter).to_string())
    }

    fn fields(&self) -> Result<RowFields, RowError> {
        if self.record.len() != self.columns.count {
            return Err(RowError::FieldCount { found: self.record.len(), expected: self.columns.count });
        }
        let text = |i: usize| -> Result<&str, RowError> {
            std::str::from_utf8(self.record.get(i).unwrap_or_default()).map_err(|_| RowError::InvalidUtf8)
        };
        let url = text(self.columns.url)?;
        if url.trim().is_empty() {
            return Err(RowError::MissingUrl);
        }
        let video_id = self.columns.video_id.map(text).transpose()?.map(str::to_string);
        let mut metadata = BTreeMap::new();
        for (i, name) in &self.columns.metadata {
            metadata.insert(name.clone(), Value::String(text(*i)?.to_string()));
        }
        Ok(RowFields { url: url.to_string(), video_id, metadata })
    }
}

impl<R: Read> Iterator for DelimitedRows<R> {
    type Item = Result<VideoRequest, ErrorRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let index = self.next_index;
        let read = self.reader.read_byte_record(&mut self.record);
        let line = self.record.position().map_or(index + 2, |p| p.line());
        let at =
            RowAt { partition: 0, offset: i64::try_from(index).unwrap_or(i64::MAX), label: format!("line {line}") };
        match read {
            Ok(false) => {
                self.done = true;
                return None;
            }
            Ok(true) => {}
            Err(e) => {
                // I/O failures end the list; anything else is one malformed record.
                self.done = e.is_io_error();
                self.next_index += 1;
                return Some(Err(reject_raw(RowError::Csv(e), &at, String::new())));
            }
        }
        self.next_index += 1;
        Some(match self.fields() {
            Ok(fields) => finish(fields, &at, || self.raw()),
            Err(e) => Err(reject_raw(e, &at, self.raw())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(input: &[u8], tab: bool) -> Vec<Result<VideoRequest, ErrorRecord>> {
        DelimitedRows::new(input, tab, Path::new("t.csv")).expect("header").collect()
    }

    #[test]
    fn reads_csv_with_metadata_and_bad_rows() {
        let input = b"id,url,title\nA,https://e.com/a.mp4,\"Hello, world\"\nB,,x\nC,ftp://h/x,y\nD,/v/d.mp4\n\xff,/v/e.mp4,z\n../x,/v/f.mp4,w\n";
        let got = rows(input, false);
        assert_eq!(got.len(), 6);
        let a = got[0].as_ref().expect("a");
        assert_eq!(a.video_id.as_deref(), Some("A"));
        assert_eq!(a.metadata.get("title"), Some(&json!("Hello, world")));
        assert_eq!(a.source.map(|s| s.offset), Some(0));
        let codes: Vec<_> = got.iter().map(|r| r.as_ref().err().map(|e| e.code.clone())).collect();
        let codes: Vec<_> = codes.iter().map(Option::as_deref).collect();
        assert_eq!(
            codes,
            vec![
                None,
                Some("source.missing_url"),
                Some("source.bad_url"),
                Some("source.bad_row"),
                Some("source.bad_row"),
                None
            ]
        );
        let missing = got[1].as_ref().expect_err("missing");
        assert!(missing.reason.starts_with("line 3:"), "{}", missing.reason);
        assert_eq!(missing.raw.as_deref(), Some("B,,x"));
        let key = got[5].as_ref().expect("hostile id").key().expect("key");
        assert!(!key.contains('/') && !key.contains(".."));
    }

    #[test]
    fn reads_tsv_without_quoting() {
        let got = rows(b"url\tvideo_id\tnote\n/v/a.mp4\tv1\tsays \"hi\"\n", true);
        let a = got[0].as_ref().expect("a");
        assert_eq!(a.video_id.as_deref(), Some("v1"));
        assert_eq!(a.metadata.get("note"), Some(&json!("says \"hi\"")));
    }

    #[test]
    fn requires_url_column() {
        let err = DelimitedRows::new(&b"id,title\n1,2\n"[..], false, Path::new("t.csv")).err().expect("no url");
        assert!(matches!(err, SourceError::MissingUrlColumn { .. }));
    }
}
