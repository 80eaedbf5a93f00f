//! `RowWriter`: writes clip rows to a local file in one of the output formats of the dataset tools, streaming
//! (parquet in row groups of [`BATCH_ROWS`]). The file appears under its name only when complete: rows go to
//! `{name}.partial`, renamed by [`RowWriter::finish`].
//!
//! - InternVid formats: the released columns `YoutubeID, Start_timestamp, End_timestamp, Caption, UMT_Score,
//!   Aesthetic_Score` (+ `Lang`, `Type`: in jsonl only when known, in csv/parquet always, empty/null if unknown).
//! - Clip formats: the `ClipRow` columns under their `ClipRecord` names (`video_id, key, shard, start_s, end_s,
//!   start_ts, end_ts, caption, asr, sim_score, aesthetic_score, lang, category`), so a clip parquet written here
//!   is itself an input of every dataset tool.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data_error::{Context, Result};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::metadata::BATCH_ROWS;
use crate::metadata::row::ClipRow;

/// The layout of an output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    InternVidJsonl,
    InternVidParquet,
    InternVidCsv,
    ClipParquet,
    ClipJsonl,
}

enum Inner {
    Jsonl(BufWriter<File>),
    Csv(csv::Writer<BufWriter<File>>),
    Parquet { writer: ArrowWriter<File>, buffer: Vec<ClipRow> },
}

/// A file being written; see the module docs.
pub struct RowWriter {
    format: RowFormat,
    inner: Inner,
    path: PathBuf,
    partial: PathBuf,
    rows: u64,
}

impl RowWriter {
    /// Creates `{path}.partial` (and the parent folder).
    pub fn create(path: &Path, format: RowFormat) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let inner = match format {
            RowFormat::InternVidJsonl | RowFormat::ClipJsonl => Inner::Jsonl(BufWriter::new(file)),
            RowFormat::InternVidCsv => {
                let mut writer = csv::Writer::from_writer(BufWriter::new(file));
                writer.write_record(clipstream_schemas::internvid::INTERNVID_COLUMNS).context("writing the header")?;
                Inner::Csv(writer)
            }
            RowFormat::InternVidParquet | RowFormat::ClipParquet => {
                let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
                let writer = ArrowWriter::try_new(file, schema(format), Some(props)).context("starting parquet")?;
                Inner::Parquet { writer, buffer: Vec::with_capacity(BATCH_ROWS) }
            }
        };
        Ok(Self { format, inner, path: path.to_path_buf(), partial, rows: 0 })
    }

    /// Appends one row.
    pub fn write(&mut self, row: &ClipRow) -> Result<()> {
        let context = || format!("writing {}", self.partial.display());
        match &mut self.inner {
            Inner::Jsonl(out) => {
                match self.format {
                    RowFormat::ClipJsonl => serde_json::to_writer(&mut *out, row),
                    _ => serde_json::to_writer(&mut *out, &row.to_internvid()),
                }
                .with_context(context)?;
                out.write_all(b"\n").with_context(context)?;
            }
            Inner::Csv(out) => {
                let float = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                let text = |v: &Option<String>| v.clone().unwrap_or_default();
                out.write_record([
                    row.video_id.clone(),
                    row.start_ts.clone(),
                    row.end_ts.clone(),
                    text(&row.caption),
                    float(row.sim_score),
                    float(row.aesthetic_score),
                    text(&row.lang),
                    text(&row.category),
                ])
                .with_context(context)?;
            }
            Inner::Parquet { writer, buffer } => {
                buffer.push(row.clone());
                if buffer.len() >= BATCH_ROWS {
                    let batch = batch(self.format, buffer)?;
                    writer.write(&batch).with_context(context)?;
                    buffer.clear();
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Gives up on the file: removes the partial file.
    pub fn abandon(self) {
        drop(self.inner);
        if let Err(error) = std::fs::remove_file(&self.partial) {
            tracing::warn!(path = %self.partial.display(), %error, "cannot remove an abandoned partial file");
        }
    }

    /// Flushes, closes and renames the file into place; returns the rows written.
    pub fn finish(self) -> Result<u64> {
        let context = || format!("finishing {}", self.partial.display());
        match self.inner {
            Inner::Jsonl(mut out) => out.flush().with_context(context)?,
            Inner::Csv(mut out) => out.flush().with_context(context)?,
            Inner::Parquet { mut writer, buffer } => {
                if !buffer.is_empty() {
                    writer.write(&batch(self.format, &buffer)?).with_context(context)?;
                }
                writer.close().with_context(context)?;
            }
        }
        std::fs::rename(&self.partial, &self.path)
            .with_context(|| format!("renaming {} to {}", self.partial.display(), self.path.display()))?;
        Ok(self.rows)
    }
}

fn schema(format: RowFormat) -> SchemaRef {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    let float = |name: &str, nullable| Field::new(name, DataType::Float64, nullable);
    let fields = if format == RowFormat::ClipParquet {
        vec![
            text("video_id", false),
            text("key", true),
            text("shard", true),
            float("start_s", false),
            float("end_s", false),
            text("start_ts", false),
            text("end_ts", false),
            text("caption", true),
            text("asr", true),
            float("sim_score", true),
            float("aesthetic_score", true),
            text("lang", true),
            text("category", true),
        ]
    } else {
        vec![
            text("YoutubeID", false),
            text("Start_timestamp", false),
            text("End_timestamp", false),
            text("Caption", true),
            float("UMT_Score", true),
            float("Aesthetic_Score", true),
            text("Lang", true),
            text("Type", true),
        ]
    };
    Arc::new(Schema::new(fields))
}

fn batch(format: RowFormat, rows: &[ClipRow]) -> Result<RecordBatch> {
    let text = |f: fn(&ClipRow) -> Option<&str>| -> ArrayRef { Arc::new(rows.iter().map(f).collect::<StringArray>()) };
    let float = |f: fn(&ClipRow) -> Option<f64>| -> ArrayRef { Arc::new(rows.iter().map(f).collect::<Float64Array>()) };
    let columns = if format == RowFormat::ClipParquet {
        vec![
            text(|r| Some(&r.video_id)),
            text(|r| r.key.as_deref()),
            text(|r| r.shard.as_deref()),
            float(|r| Some(r.start_s)),
            float(|r| Some(r.end_s)),
            text(|r| Some(&r.start_ts)),
            text(|r| Some(&r.end_ts)),
            text(|r| r.caption.as_deref()),
            text(|r| r.asr.as_deref()),
            float(|r| r.sim_score),
            float(|r| r.aesthetic_score),
            text(|r| r.lang.as_deref()),
            text(|r| r.category.as_deref()),
        ]
    } else {
        vec![
            text(|r| Some(&r.video_id)),
            text(|r| Some(&r.start_ts)),
            text(|r| Some(&r.end_ts)),
            text(|r| r.caption.as_deref()),
            float(|r| r.sim_score),
            float(|r| r.aesthetic_score),
            text(|r| r.lang.as_deref()),
            text(|r| r.category.as_deref()),
        ]
    };
    RecordBatch::try_new(schema(format), columns).context("assembling a batch of rows")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::row;
    use crate::metadata::Metadata;

    #[test]
    fn every_format_round_trips_through_its_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rows: Vec<ClipRow> = (0..(BATCH_ROWS as u32 + 3)).map(|i| row("v", i, f64::from(i))).collect();
        for format in [RowFormat::ClipParquet, RowFormat::InternVidParquet, RowFormat::InternVidJsonl] {
            let path = dir.path().join(format!("{format:?}.out"));
            let path = path.with_extension(if format == RowFormat::InternVidJsonl { "jsonl" } else { "parquet" });
            let mut writer = RowWriter::create(&path, format).expect("create");
            rows.iter().for_each(|r| writer.write(r).expect("write"));
            assert!(!path.exists(), "only the partial file exists while writing");
            assert_eq!(writer.finish().expect("finish"), rows.len() as u64);
            let back: Vec<ClipRow> =
                Metadata::open(path.to_str().expect("utf8"), true).expect("open").map(|r| r.expect("row")).collect();
            assert_eq!(back.len(), rows.len(), "{format:?}");
            if format == RowFormat::ClipParquet {
                assert_eq!(back, rows);
            } else {
                let expected: Vec<ClipRow> =
                    rows.iter().map(|r| ClipRow { key: None, shard: None, ..r.clone() }).collect();
                let first_diff = back.iter().zip(&expected).position(|(a, b)| a != b);
                assert_eq!(first_diff, None, "{format:?}: {:?}", first_diff.map(|i| (&back[i], &expected[i])));
            }
        }
    }

    #[test]
    fn csv_has_the_released_header() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.csv");
        let mut writer = RowWriter::create(&path, RowFormat::InternVidCsv).expect("create");
        writer.write(&row("v", 1, 3.0)).expect("write");
        writer.finish().expect("finish");
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("YoutubeID,Start_timestamp,End_timestamp,Caption,UMT_Score,Aesthetic_Score,Lang,Type")
        );
        assert_eq!(lines.next(), Some(r#"v,00:00:03.000,00:00:05.000,"caption 1, with ""quotes""",0.26,,,Sports"#));
    }
}
