//! Typed access to the columns of an Arrow batch by name, accepting the string and float encodings that parquet
//! writers produce (`string`/`large_string`/`string_view`, `float32`/`float64`).

use crate::data_error::{Context, DataError, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

/// A string column.
pub enum Text<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl Text<'_> {
    /// The cell, `None` when null.
    pub fn get(&self, row: usize) -> Option<&str> {
        match self {
            Text::Utf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            Text::Large(a) => (!a.is_null(row)).then(|| a.value(row)),
            Text::View(a) => (!a.is_null(row)).then(|| a.value(row)),
        }
    }

    /// The cell as an owned string.
    pub fn owned(&self, row: usize) -> Option<String> {
        self.get(row).map(str::to_string)
    }
}

/// A float column.
pub enum Float<'a> {
    F64(&'a arrow_array::Float64Array),
    F32(&'a arrow_array::Float32Array),
}

impl Float<'_> {
    /// The cell, `None` when null or not finite.
    pub fn get(&self, row: usize) -> Option<f64> {
        let value = match self {
            Float::F64(a) => (!a.is_null(row)).then(|| a.value(row)),
            Float::F32(a) => (!a.is_null(row)).then(|| f64::from(a.value(row))),
        };
        value.filter(|v| v.is_finite())
    }
}

/// The string column `name`, `None` when the batch has no such column.
pub fn text<'a>(batch: &'a RecordBatch, name: &str) -> Result<Option<Text<'a>>> {
    let Some(column) = batch.column_by_name(name) else { return Ok(None) };
    let typed = match column.data_type() {
        DataType::Utf8 => column.as_string_opt::<i32>().map(Text::Utf8),
        DataType::LargeUtf8 => column.as_string_opt::<i64>().map(Text::Large),
        DataType::Utf8View => column.as_string_view_opt().map(Text::View),
        other => return Err(DataError::invalid(format!("column {name} is {other}, not a string"))),
    };
    typed.map(Some).with_context(|| format!("column {name} cannot be read as a string"))
}

/// The string column `name`, which must exist.
pub fn required_text<'a>(batch: &'a RecordBatch, name: &str) -> Result<Text<'a>> {
    text(batch, name)?.with_context(|| format!("column {name} is missing"))
}

/// The float column `name`, `None` when the batch has no such column.
pub fn float<'a>(batch: &'a RecordBatch, name: &str) -> Result<Option<Float<'a>>> {
    let Some(column) = batch.column_by_name(name) else { return Ok(None) };
    let typed = match column.data_type() {
        DataType::Float64 => column.as_primitive_opt::<Float64Type>().map(Float::F64),
        DataType::Float32 => column.as_primitive_opt::<Float32Type>().map(Float::F32),
        other => return Err(DataError::invalid(format!("column {name} is {other}, not a float"))),
    };
    typed.map(Some).with_context(|| format!("column {name} cannot be read as a float"))
}

/// The float column `name`, which must exist.
pub fn required_float<'a>(batch: &'a RecordBatch, name: &str) -> Result<Float<'a>> {
    float(batch, name)?.with_context(|| format!("column {name} is missing"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float32Array, Int64Array, LargeStringArray};

    use super::*;

    #[test]
    fn reads_alternative_encodings_and_refuses_wrong_types() {
        let batch = RecordBatch::try_from_iter(vec![
            ("name", Arc::new(LargeStringArray::from(vec![Some("a"), None])) as ArrayRef),
            ("score", Arc::new(Float32Array::from(vec![Some(0.5), Some(f32::NAN)])) as ArrayRef),
            ("count", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])
        .expect("batch");
        let names = required_text(&batch, "name").expect("text");
        assert_eq!((names.get(0), names.get(1)), (Some("a"), None));
        let scores = required_float(&batch, "score").expect("float");
        assert_eq!((scores.get(0), scores.get(1)), (Some(0.5), None));
        assert!(text(&batch, "missing").expect("absent is fine").is_none());
        assert!(required_text(&batch, "missing").is_err());
        let wrong = float(&batch, "count").err().expect("int is not float");
        assert!(wrong.to_string().contains("not a float"), "{wrong}");
    }
}
