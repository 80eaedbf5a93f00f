//! Released InternVid metadata, streamed: a jsonl file (one JSON object per line, the released format) or a
//! parquet file with the same column names. Each row comes out parsed or as a [`BadRow`] with the reason and the
//! raw text, so callers can record it and go on.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::data_error::{Context, Result};
use arrow_array::RecordBatch;
use clipstream_schemas::InternVidRow;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use crate::metadata::columns::{float, required_text, text};

/// Longest jsonl line accepted (bytes); longer lines are bad rows, not an out-of-memory.
pub const MAX_LINE_BYTES: u64 = 1 << 20;
const BATCH_ROWS: usize = 8192;

/// An input row that is not a usable InternVid row.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    /// 0-based row (line) index in the file.
    pub row: u64,
    pub reason: String,
    /// The row's text (lossy UTF-8, truncated to 4 KiB), when there was one.
    pub raw: Option<String>,
}

/// One row of the file: its 0-based index and the parsed row or why it is unusable.
#[derive(Debug, Clone)]
pub struct Listed {
    pub row: u64,
    pub parsed: Result<InternVidRow, BadRow>,
}

/// Streams the rows of `path` (`.parquet`, otherwise jsonl). The outer error is a failure to read the file at all.
pub fn read_internvid(path: &Path) -> Result<Box<dyn Iterator<Item = Result<Listed>> + Send>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
            .with_context(|| format!("opening parquet {}", path.display()))?;
        Ok(Box::new(ParquetListed { reader, pending: Vec::new().into_iter(), next_row: 0 }))
    } else {
        Ok(Box::new(JsonlListed { reader: BufReader::new(file), next_row: 0, done: false }))
    }
}

/// The prefix of a bad row kept in its record.
const RAW_BYTES: usize = 4096;

struct JsonlListed<R> {
    reader: R,
    next_row: u64,
    done: bool,
}

impl<R: BufRead> JsonlListed<R> {
    /// Reads one line (without its newline); `None` at the end. Lines over the limit are consumed and flagged.
    fn line(&mut self) -> std::io::Result<Option<(Vec<u8>, bool)>> {
        let mut line = Vec::new();
        let read = (&mut self.reader).take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(None);
        }
        let too_long = line.len() as u64 > MAX_LINE_BYTES && line.last() != Some(&b'\n');
        if too_long {
            let mut rest = Vec::new();
            loop {
                rest.clear();
                let n = (&mut self.reader).take(MAX_LINE_BYTES).read_until(b'\n', &mut rest)?;
                if n == 0 || rest.last() == Some(&b'\n') {
                    break;
                }
            }
            line.truncate(4096);
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(Some((line, too_long)))
    }
}

impl<R: BufRead> Iterator for JsonlListed<R> {
    type Item = Result<Listed>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let (bytes, too_long) = match self.line() {
                Ok(Some(line)) => line,
                Ok(None) => return None,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e).with_context(|| format!("reading line {}", self.next_row + 1)));
                }
            };
            let row = self.next_row;
            self.next_row += 1;
            let text = String::from_utf8_lossy(&bytes);
            let bad = |reason: String| {
                Some(Ok(Listed {
                    row,
                    parsed: Err(BadRow {
                        row,
                        reason,
                        raw: Some(clipstream_schemas::cut_at_char(&text, RAW_BYTES).to_string()),
                    }),
                }))
            };
            if too_long {
                return bad(format!("line is longer than {MAX_LINE_BYTES} bytes"));
            }
            if std::str::from_utf8(&bytes).is_err() {
                return bad("line is not valid UTF-8".to_string());
            }
            if text.trim().is_empty() {
                continue;
            }
            return match serde_json::from_str::<InternVidRow>(&text) {
                Ok(parsed) => Some(Ok(Listed { row, parsed: Ok(parsed) })),
                Err(e) => bad(format!("not an InternVid row: {e}")),
            };
        }
    }
}

struct ParquetListed {
    reader: ParquetRecordBatchReader,
    pending: std::vec::IntoIter<Listed>,
    next_row: u64,
}

impl Iterator for ParquetListed {
    type Item = Result<Listed>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(listed) = self.pending.next() {
                return Some(Ok(listed));
            }
            let batch = match self.reader.next()? {
                Ok(batch) => batch,
                Err(e) => return Some(Err(e).context(format!("decoding parquet rows after row {}", self.next_row))),
            };
            match batch_rows(&batch, self.next_row) {
                Ok(rows) => {
                    self.next_row += batch.num_rows() as u64;
                    self.pending = rows.into_iter();
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The rows of one parquet batch whose first row has index `first`.
fn batch_rows(batch: &RecordBatch, first: u64) -> Result<Vec<Listed>> {
    let id = required_text(batch, "YoutubeID")?;
    let start = required_text(batch, "Start_timestamp")?;
    let end = required_text(batch, "End_timestamp")?;
    let caption = text(batch, "Caption")?;
    let (umt, aesthetic) = (float(batch, "UMT_Score")?, float(batch, "Aesthetic_Score")?);
    let (lang, kind) = (text(batch, "Lang")?, text(batch, "Type")?);
    let extras = [("url", text(batch, "url")?), ("asr", text(batch, "asr")?)];
    let mut rows = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let row = first + i as u64;
        let parsed = match (id.get(i), start.get(i), end.get(i)) {
            (Some(id), Some(start), Some(end)) => Ok(InternVidRow {
                youtube_id: id.to_string(),
                start_timestamp: start.to_string(),
                end_timestamp: end.to_string(),
                caption: caption.as_ref().and_then(|c| c.owned(i)),
                umt_score: umt.as_ref().and_then(|c| c.get(i)),
                aesthetic_score: aesthetic.as_ref().and_then(|c| c.get(i)),
                lang: lang.as_ref().and_then(|c| c.owned(i)),
                kind: kind.as_ref().and_then(|c| c.owned(i)),
                extra: extras
                    .iter()
                    .filter_map(|(name, c)| Some(((*name).to_string(), c.as_ref()?.get(i)?.into())))
                    .collect(),
            }),
            _ => Err(BadRow {
                row,
                reason: "YoutubeID, Start_timestamp and End_timestamp must not be null".to_string(),
                raw: None,
            }),
        };
        rows.push(Listed { row, parsed });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float32Array, StringArray};
    use parquet::arrow::ArrowWriter;

    use super::*;

    fn rows(path: &Path) -> Vec<Listed> {
        read_internvid(path).expect("opens").map(|r| r.expect("readable")).collect()
    }

    #[test]
    fn jsonl_rows_and_bad_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.jsonl");
        let long = format!("{{\"YoutubeID\":\"{}\"}}", "x".repeat(MAX_LINE_BYTES as usize + 10));
        let mut body = String::from(
            "{\"YoutubeID\":\"a\",\"Start_timestamp\":\"00:00:01.000\",\"End_timestamp\":\"00:00:02.000\",\"Caption\":\"c\"}\n\n{oops\n",
        );
        body.push_str(&long);
        body.push('\n');
        body.push_str(
            "{\"YoutubeID\":\"b\",\"Start_timestamp\":\"00:00:01.000\",\"End_timestamp\":\"00:00:02.000\"}\r\n",
        );
        std::fs::write(&path, body).expect("write");
        let listed = rows(&path);
        assert_eq!(listed.iter().map(|l| l.row).collect::<Vec<_>>(), [0, 2, 3, 4]);
        assert_eq!(listed[0].parsed.as_ref().expect("a").caption.as_deref(), Some("c"));
        let bad = listed[1].parsed.as_ref().expect_err("bad json");
        assert!(bad.reason.starts_with("not an InternVid row"), "{}", bad.reason);
        assert_eq!(bad.raw.as_deref(), Some("{oops"));
        let long = listed[2].parsed.as_ref().expect_err("too long");
        assert!(long.reason.contains("longer than"), "{}", long.reason);
        assert!(long.raw.as_ref().is_some_and(|r| r.len() <= 4096));
        assert_eq!(listed[3].parsed.as_ref().expect("b").youtube_id, "b");
    }

    #[test]
    fn parquet_rows_with_float32_scores_and_nulls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.parquet");
        let batch = RecordBatch::try_from_iter(vec![
            ("YoutubeID", Arc::new(StringArray::from(vec![Some("a"), None])) as ArrayRef),
            ("Start_timestamp", Arc::new(StringArray::from(vec!["00:00:01.000", "00:00:01.000"])) as ArrayRef),
            ("End_timestamp", Arc::new(StringArray::from(vec!["00:00:03.000", "00:00:02.000"])) as ArrayRef),
            ("UMT_Score", Arc::new(Float32Array::from(vec![Some(0.25), None])) as ArrayRef),
            ("url", Arc::new(StringArray::from(vec![Some("/v/a.mp4"), None])) as ArrayRef),
        ])
        .expect("batch");
        let mut writer = ArrowWriter::try_new(File::create(&path).expect("create"), batch.schema(), None).expect("w");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let listed = rows(&path);
        let a = listed[0].parsed.as_ref().expect("a");
        assert_eq!((a.umt_score, a.caption.as_deref()), (Some(0.25), None));
        assert_eq!(a.extra.get("url"), Some(&serde_json::json!("/v/a.mp4")));
        assert_eq!(listed[1].parsed.as_ref().expect_err("null id").row, 1);
    }
}
