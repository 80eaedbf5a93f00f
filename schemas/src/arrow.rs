//! The Arrow schema of [`crate::ClipRecord`], used for the per-shard parquet files and exports. Column order and
//! names are part of the output contract; `metadata` is the input row's extra columns as a JSON object string.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

/// Arrow schema of one clip row.
pub fn clip_schema() -> SchemaRef {
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, false);
    let opt_utf8 = |name: &str| Field::new(name, DataType::Utf8, true);
    let f64_ = |name: &str| Field::new(name, DataType::Float64, false);
    let opt_f64 = |name: &str| Field::new(name, DataType::Float64, true);
    Arc::new(Schema::new(vec![
        utf8("video_id"),
        utf8("video_key"),
        Field::new("clip_index", DataType::UInt32, false),
        utf8("key"),
        utf8("shard"),
        utf8("url"),
        f64_("start_s"),
        f64_("end_s"),
        utf8("start_ts"),
        utf8("end_ts"),
        f64_("duration_s"),
        Field::new("start_frame", DataType::UInt64, false),
        Field::new("end_frame", DataType::UInt64, false),
        f64_("fps"),
        Field::new("width", DataType::UInt32, false),
        Field::new("height", DataType::UInt32, false),
        Field::new("num_frames", DataType::UInt32, false),
        f64_("motion"),
        opt_utf8("caption_coarse"),
        opt_utf8("caption_fine"),
        opt_utf8("caption"),
        opt_utf8("asr"),
        opt_f64("sim_score"),
        opt_f64("aesthetic_score"),
        opt_utf8("lang"),
        opt_utf8("category"),
        Field::new("has_video", DataType::Boolean, false),
        Field::new("source_partition", DataType::Int32, true),
        Field::new("source_offset", DataType::Int64, true),
        utf8("metadata"),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clip::ClipRecord;

    #[test]
    fn schema_covers_every_record_field() {
        let schema = clip_schema();
        let record = ClipRecord::default();
        let json = serde_json::to_value(&record).expect("serializes");
        let object = json.as_object().expect("record is an object");
        for key in object.keys() {
            let column = if key == "source" { "source_partition" } else { key.as_str() };
            assert!(schema.field_with_name(column).is_ok(), "column for {key}");
        }
        assert_eq!(schema.fields().len(), object.len() + 1, "source is two columns");
    }
}
