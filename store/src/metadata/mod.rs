//! `Metadata`: the clip rows a dataset tool reads, from any of the places clip metadata lives: a committed dataset
//! (a directory or object-store URL with `manifests/`), a parquet file of clip columns (a shard's parquet, an
//! export), or released InternVid metadata (jsonl, or parquet with the InternVid column names). Always streaming;
//! rows that cannot be used are counted and logged, never fatal.

mod clip_parquet;
pub mod columns;
mod dataset;
mod internvid;
pub mod row;
pub mod write;

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Output;
use crate::data_error::{Context, DataError, Result};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub use clip_parquet::{BATCH_ROWS, clip_rows, open_clip_parquet};
pub use dataset::DatasetRows;
pub use internvid::{BadRow, Listed, MAX_LINE_BYTES, read_internvid};

use crate::metadata::row::ClipRow;

/// Bad rows logged individually before only counting them.
const LOGGED_BAD_ROWS: u64 = 10;

/// What kind of metadata a location holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Committed shards under an output root.
    Dataset,
    /// A parquet file of `ClipRecord` columns.
    ClipParquet,
    /// Released InternVid metadata (jsonl or parquet).
    InternVid,
}

/// A stream of clip rows; see the module docs.
pub struct Metadata {
    kind: SourceKind,
    rows: Box<dyn Iterator<Item = Result<ClipRow>> + Send>,
    bad_rows: Arc<AtomicU64>,
    dataset: Option<Output>,
}

impl std::fmt::Debug for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metadata").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl Metadata {
    /// Opens `location`: an existing file (by extension and columns) or else a dataset root (local directory,
    /// `file://`, `s3://`, `gs://`, `az://`). `with_text = false` may skip captions and other text columns.
    pub fn open(location: &str, with_text: bool) -> Result<Self> {
        let path = Path::new(location);
        let bad_rows = Arc::new(AtomicU64::new(0));
        if path.is_file() {
            return if is_parquet(path) && !has_column(path, "YoutubeID")? {
                let file = File::open(path).with_context(|| format!("opening {location}"))?;
                let reader = open_clip_parquet(file, with_text).with_context(|| format!("reading {location}"))?;
                let rows = reader.flat_map(|batch| match batch.context("decoding rows").and_then(|b| clip_rows(&b)) {
                    Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(e)],
                });
                Ok(Self { kind: SourceKind::ClipParquet, rows: Box::new(rows), bad_rows, dataset: None })
            } else {
                let rows = internvid_rows(read_internvid(path)?, bad_rows.clone());
                Ok(Self { kind: SourceKind::InternVid, rows: Box::new(rows), bad_rows, dataset: None })
            };
        }
        let local = !location.contains("://") || location.starts_with("file://");
        if local {
            let dir = location.strip_prefix("file://").unwrap_or(location);
            if !Path::new(dir).is_dir() {
                return Err(DataError::invalid(format!(
                    "{location} is neither a metadata file nor a dataset directory"
                )));
            }
        }
        let output = Output::open(location).with_context(|| format!("opening dataset {location}"))?;
        let rows = DatasetRows::open(output.clone(), with_text)?;
        Ok(Self { kind: SourceKind::Dataset, rows: Box::new(rows), bad_rows, dataset: Some(output) })
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The output root, when the rows come from a committed dataset.
    pub fn dataset(&self) -> Option<&Output> {
        self.dataset.as_ref()
    }

    /// Rows skipped so far because they were unusable.
    pub fn bad_rows(&self) -> u64 {
        self.bad_rows.load(Ordering::Relaxed)
    }
}

impl Iterator for Metadata {
    type Item = Result<ClipRow>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next()
    }
}

fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn has_column(path: &Path, name: &str) -> Result<bool> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("reading the parquet footer of {}", path.display()))?;
    Ok(builder.schema().fields().iter().any(|f| f.name() == name))
}

/// InternVid rows as clip rows; unusable rows are counted in `bad` and logged (the first few).
fn internvid_rows(
    listed: impl Iterator<Item = Result<Listed>> + Send,
    bad: Arc<AtomicU64>,
) -> impl Iterator<Item = Result<ClipRow>> + Send {
    listed.filter_map(move |item| {
        let listed = match item {
            Ok(listed) => listed,
            Err(e) => return Some(Err(e)),
        };
        let reason = match listed.parsed.map_err(|b| b.reason).and_then(ClipRow::from_internvid) {
            Ok(row) => return Some(Ok(row)),
            Err(reason) => reason,
        };
        let count = bad.fetch_add(1, Ordering::Relaxed) + 1;
        if count <= LOGGED_BAD_ROWS {
            tracing::warn!(row = listed.row + 1, %reason, "skipping an unusable metadata row");
        }
        None
    })
}
