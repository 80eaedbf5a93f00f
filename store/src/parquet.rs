//! Clip records as an Arrow `RecordBatch` in the column order of `clip_schema()`, and as snappy parquet bytes.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use clipstream_schemas::ClipRecord;
use clipstream_schemas::arrow::clip_schema;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use crate::error::StoreError;

/// One row per record; `metadata` becomes a JSON object string, `source` two nullable columns.
pub fn records_batch(records: &[ClipRecord]) -> Result<RecordBatch, ParquetError> {
    fn text<'a>(records: &'a [ClipRecord], field: impl Fn(&'a ClipRecord) -> &'a str) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(records.iter().map(field)))
    }
    fn opt_text<'a>(records: &'a [ClipRecord], field: impl Fn(&'a ClipRecord) -> &'a Option<String>) -> ArrayRef {
        Arc::new(records.iter().map(|r| field(r).as_deref()).collect::<StringArray>())
    }
    fn float(records: &[ClipRecord], field: impl Fn(&ClipRecord) -> f64) -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(records.iter().map(field)))
    }
    fn opt_float(records: &[ClipRecord], field: impl Fn(&ClipRecord) -> Option<f64>) -> ArrayRef {
        Arc::new(records.iter().map(field).collect::<Float64Array>())
    }
    fn uint32(records: &[ClipRecord], field: impl Fn(&ClipRecord) -> u32) -> ArrayRef {
        Arc::new(UInt32Array::from_iter_values(records.iter().map(field)))
    }
    fn uint64(records: &[ClipRecord], field: impl Fn(&ClipRecord) -> u64) -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(records.iter().map(field)))
    }

    let metadata = records
        .iter()
        .map(|r| serde_json::to_string(&r.metadata))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ParquetError::General(format!("metadata is not JSON: {e}")))?;
    let columns: Vec<ArrayRef> = vec![
        text(records, |r| &r.video_id),
        text(records, |r| &r.video_key),
        uint32(records, |r| r.clip_index),
        text(records, |r| &r.key),
        text(records, |r| &r.shard),
        text(records, |r| &r.url),
        float(records, |r| r.start_s),
        float(records, |r| r.end_s),
        text(records, |r| &r.start_ts),
        text(records, |r| &r.end_ts),
        float(records, |r| r.duration_s),
        uint64(records, |r| r.start_frame),
        uint64(records, |r| r.end_frame),
        float(records, |r| r.fps),
        uint32(records, |r| r.width),
        uint32(records, |r| r.height),
        uint32(records, |r| r.num_frames),
        float(records, |r| r.motion),
        opt_text(records, |r| &r.caption_coarse),
        opt_text(records, |r| &r.caption_fine),
        opt_text(records, |r| &r.caption),
        opt_text(records, |r| &r.asr),
        opt_float(records, |r| r.sim_score),
        opt_float(records, |r| r.aesthetic_score),
        opt_text(records, |r| &r.lang),
        opt_text(records, |r| &r.category),
        Arc::new(records.iter().map(|r| Some(r.has_video)).collect::<BooleanArray>()),
        Arc::new(records.iter().map(|r| r.source.map(|s| s.partition)).collect::<Int32Array>()),
        Arc::new(records.iter().map(|r| r.source.map(|s| s.offset)).collect::<Int64Array>()),
        Arc::new(StringArray::from(metadata)),
    ];
    Ok(RecordBatch::try_new(clip_schema(), columns)?)
}

/// The records of shard `shard` as one snappy-compressed parquet file in memory.
pub fn records_parquet(shard: &str, records: &[ClipRecord]) -> Result<Vec<u8>, StoreError> {
    let wrap = |source| StoreError::Parquet { shard: shard.to_string(), source };
    let batch = records_batch(records).map_err(wrap)?;
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut writer = ArrowWriter::try_new(Vec::new(), clip_schema(), Some(props)).map_err(wrap)?;
    writer.write(&batch).map_err(wrap)?;
    writer.into_inner().map_err(wrap)
}
