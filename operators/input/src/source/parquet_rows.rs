//! The parquet list: read batch by batch; column `url` (string), optional `video_id`/`id`, other columns become
//! metadata (strings, integers, floats and booleans; other types are skipped with a warning).

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use clipstream_schemas::{ErrorRecord, VideoRequest};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use serde_json::{Map, Value};

use super::error::{RowError, SourceError};
use super::row::{RowAt, finish, from_json_object, reject_raw};

/// Rows decoded per batch.
const BATCH_ROWS: usize = 1024;

/// Requests from a parquet file; `SourcePosition::offset` is the 0-based row index.
pub(crate) struct ParquetRows {
    reader: ParquetRecordBatchReader,
    /// Columns converted into the row object: index and name.
    columns: Vec<(usize, String)>,
    batch: Option<RecordBatch>,
    row_in_batch: usize,
    next_index: u64,
    done: bool,
}

impl ParquetRows {
    pub fn open(file: File, path: &Path) -> Result<Self, SourceError> {
        let parquet = |source| SourceError::Parquet { path: path.to_path_buf(), source };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet)?;
        let schema = builder.schema().clone();
        let url = schema
            .fields()
            .iter()
            .find(|f| f.name() == "url")
            .ok_or_else(|| SourceError::MissingUrlColumn { path: path.to_path_buf() })?;
        if !is_string(url.data_type()) {
            return Err(SourceError::UrlColumnType { path: path.to_path_buf(), found: url.data_type().to_string() });
        }
        let mut columns = Vec::new();
        for (i, field) in schema.fields().iter().enumerate() {
            if is_supported(field.data_type()) {
                columns.push((i, field.name().clone()));
            } else {
                tracing::warn!(
                    path = %path.display(), column = %field.name(), data_type = %field.data_type(),
                    "parquet column type not carried into metadata"
                );
            }
        }
        let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(parquet)?;
        Ok(Self { reader, columns, batch: None, row_in_batch: 0, next_index: 0, done: false })
    }
}

impl Iterator for ParquetRows {
    type Item = Result<VideoRequest, ErrorRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let Some(batch) = &self.batch else {
                match self.reader.next()? {
                    Ok(batch) => {
                        self.batch = Some(batch);
                        self.row_in_batch = 0;
                    }
                    Err(e) => {
                        self.done = true;
                        let at = RowAt::row(self.next_index);
                        return Some(Err(reject_raw(RowError::Parquet(e), &at, String::new())));
                    }
                }
                continue;
            };
            if self.row_in_batch >= batch.num_rows() {
                self.batch = None;
                continue;
            }
            let object = row_object(&self.columns, batch, self.row_in_batch);
            let at = RowAt::row(self.next_index);
            self.row_in_batch += 1;
            self.next_index += 1;
            let raw = || Value::Object(object.clone()).to_string();
            return Some(match from_json_object(object.clone()) {
                Ok(fields) => finish(fields, &at, raw),
                Err(e) => Err(reject_raw(e, &at, raw())),
            });
        }
    }
}

/// One row as a JSON object (null cells left out).
fn row_object(columns: &[(usize, String)], batch: &RecordBatch, row: usize) -> Map<String, Value> {
    let mut object = Map::new();
    for (i, name) in columns {
        if let Some(value) = cell(batch.column(*i).as_ref(), row) {
            object.insert(name.clone(), value);
        }
    }
    object
}

fn is_string(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_supported(data_type: &DataType) -> bool {
    is_string(data_type)
        || matches!(
            data_type,
            DataType::Boolean
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
                | DataType::UInt64
                | DataType::Float32
                | DataType::Float64
        )
}

/// One cell as JSON; `None` for nulls and unsupported types.
fn cell(array: &dyn Array, row: usize) -> Option<Value> {
    if row >= array.len() || array.is_null(row) {
        return None;
    }
    let int = |v: i64| Some(Value::from(v));
    match array.data_type() {
        DataType::Utf8 => Some(Value::from(array.as_string_opt::<i32>()?.value(row))),
        DataType::LargeUtf8 => Some(Value::from(array.as_string_opt::<i64>()?.value(row))),
        DataType::Utf8View => Some(Value::from(array.as_string_view_opt()?.value(row))),
        DataType::Boolean => Some(Value::from(array.as_boolean_opt()?.value(row))),
        DataType::Int8 => int(array.as_primitive_opt::<Int8Type>()?.value(row).into()),
        DataType::Int16 => int(array.as_primitive_opt::<Int16Type>()?.value(row).into()),
        DataType::Int32 => int(array.as_primitive_opt::<Int32Type>()?.value(row).into()),
        DataType::Int64 => int(array.as_primitive_opt::<Int64Type>()?.value(row)),
        DataType::UInt8 => int(array.as_primitive_opt::<UInt8Type>()?.value(row).into()),
        DataType::UInt16 => int(array.as_primitive_opt::<UInt16Type>()?.value(row).into()),
        DataType::UInt32 => int(array.as_primitive_opt::<UInt32Type>()?.value(row).into()),
        DataType::UInt64 => Some(Value::from(array.as_primitive_opt::<UInt64Type>()?.value(row))),
        DataType::Float32 => float(array.as_primitive_opt::<Float32Type>()?.value(row).into()),
        DataType::Float64 => float(array.as_primitive_opt::<Float64Type>()?.value(row)),
        _ => None,
    }
}

/// A float as JSON; NaN and infinities (not representable) become null.
fn float(v: f64) -> Option<Value> {
    Some(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
    use parquet::arrow::ArrowWriter;
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_rows_across_batches_with_typed_metadata() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("list.parquet");
        let n = BATCH_ROWS + 5;
        let urls: Vec<Option<String>> =
            (0..n).map(|i| if i == 3 { None } else { Some(format!("https://e.com/{i}.mp4")) }).collect();
        let ids: Vec<Option<String>> = (0..n).map(|i| (i % 2 == 0).then(|| format!("v{i}"))).collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("url", Arc::new(StringArray::from(urls))),
            ("video_id", Arc::new(StringArray::from(ids))),
            ("views", Arc::new(Int64Array::from_iter_values(0..n as i64))),
            ("score", Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64 / 2.0)))),
            ("hd", Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 3 == 0))))),
        ];
        let batch = RecordBatch::try_from_iter(columns).expect("batch");
        let mut writer = ArrowWriter::try_new(File::create(&path).expect("create"), batch.schema(), None).expect("w");
        writer.write(&batch).expect("write");
        writer.close().expect("close");

        let rows: Vec<_> = ParquetRows::open(File::open(&path).expect("open"), &path).expect("reader").collect();
        assert_eq!(rows.len(), n);
        let first = rows[0].as_ref().expect("row 0");
        assert_eq!(first.video_id.as_deref(), Some("v0"));
        assert_eq!(first.metadata.get("views"), Some(&json!(0)));
        assert_eq!(first.metadata.get("hd"), Some(&json!(true)));
        let missing = rows[3].as_ref().expect_err("null url");
        assert_eq!(missing.code, "source.missing_url");
        assert_eq!(missing.reason.split(':').next(), Some("row 4"));
        assert!(missing.raw.as_deref().is_some_and(|raw| raw.contains("\"views\":3")));
        let last = rows[n - 1].as_ref().expect("last row");
        assert_eq!(last.source.map(|s| s.offset), Some(n as i64 - 1));
        assert_eq!(last.metadata.get("score"), Some(&json!((n - 1) as f64 / 2.0)));
    }

    #[test]
    fn requires_a_string_url_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("list.parquet");
        let batch =
            RecordBatch::try_from_iter(vec![("url", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]).expect("batch");
        let mut writer = ArrowWriter::try_new(File::create(&path).expect("create"), batch.schema(), None).expect("w");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let err = ParquetRows::open(File::open(&path).expect("open"), &path).err().expect("int url refused");
        assert!(matches!(err, SourceError::UrlColumnType { .. }));
    }
}
