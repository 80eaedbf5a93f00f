//! Clip rows from a parquet file with the `ClipRecord` columns (a shard's parquet, or any file with at least
//! `video_id`, `start_s`, `end_s`): read batch by batch, only the columns the tools use.

use crate::data_error::{Context, Result};
use arrow_array::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::reader::ChunkReader;

use crate::metadata::columns::{float, required_float, required_text, text};
use crate::metadata::row::ClipRow;

/// Rows decoded per batch.
pub const BATCH_ROWS: usize = 8192;

/// The `ClipRecord` columns a [`ClipRow`] is made of.
const COLUMNS: [&str; 13] = [
    "video_id",
    "key",
    "shard",
    "start_s",
    "end_s",
    "start_ts",
    "end_ts",
    "caption",
    "asr",
    "sim_score",
    "aesthetic_score",
    "lang",
    "category",
];

/// The text columns left out when a tool asks for no text.
const TEXT_COLUMNS: [&str; 4] = ["caption", "asr", "lang", "category"];

/// A batch reader over the clip columns of one parquet file. `with_text = false` skips captions and other free
/// text (much less to decode when only ids, times and scores are needed).
pub fn open_clip_parquet<R: ChunkReader + 'static>(reader: R, with_text: bool) -> Result<ParquetRecordBatchReader> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(reader).context("reading the parquet footer")?;
    let roots: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| COLUMNS.contains(&f.name().as_str()))
        .filter(|(_, f)| with_text || !TEXT_COLUMNS.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().context("opening the parquet reader")
}

/// The rows of one batch of clip columns. `video_id`, `start_s` and `end_s` are required; `start_ts`/`end_ts`
/// are formatted from the seconds when absent.
pub fn clip_rows(batch: &RecordBatch) -> Result<Vec<ClipRow>> {
    let video_id = required_text(batch, "video_id")?;
    let start_s = required_float(batch, "start_s")?;
    let end_s = required_float(batch, "end_s")?;
    let key = text(batch, "key")?;
    let shard = text(batch, "shard")?;
    let (start_ts, end_ts) = (text(batch, "start_ts")?, text(batch, "end_ts")?);
    let (caption, asr) = (text(batch, "caption")?, text(batch, "asr")?);
    let (lang, category) = (text(batch, "lang")?, text(batch, "category")?);
    let (sim, aesthetic) = (float(batch, "sim_score")?, float(batch, "aesthetic_score")?);
    let mut rows = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let start = start_s.get(i).unwrap_or(0.0);
        let end = end_s.get(i).unwrap_or(0.0);
        let ts = |column: &Option<crate::metadata::columns::Text>, seconds: f64| {
            column.as_ref().and_then(|c| c.owned(i)).unwrap_or_else(|| clipstream_schemas::format_timestamp(seconds))
        };
        let opt = |column: &Option<crate::metadata::columns::Text>| column.as_ref().and_then(|c| c.owned(i));
        rows.push(ClipRow {
            video_id: video_id.owned(i).unwrap_or_default(),
            key: opt(&key),
            shard: opt(&shard),
            start_s: start,
            end_s: end,
            start_ts: ts(&start_ts, start),
            end_ts: ts(&end_ts, end),
            caption: opt(&caption),
            asr: opt(&asr),
            sim_score: sim.as_ref().and_then(|c| c.get(i)),
            aesthetic_score: aesthetic.as_ref().and_then(|c| c.get(i)),
            lang: opt(&lang),
            category: opt(&category),
        });
    }
    Ok(rows)
}
