//! `export`: the clip metadata of a dataset in the released InternVid layout (jsonl, parquet or csv), streaming
//! shard by shard. The jsonl has exactly the released columns (see [`crate::dataset::write`]).

use std::path::Path;

use serde::Serialize;

use clipstream_store::metadata::Metadata;
use clipstream_store::metadata::write::{RowFormat, RowWriter};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportSummary {
    pub rows: u64,
    /// Input rows skipped as unusable.
    pub bad_rows: u64,
    pub out: String,
}

/// Writes every clip of `source` (any [`Metadata`] location) to `out` in `format`.
pub fn export(source: &str, format: RowFormat, out: &Path) -> anyhow::Result<ExportSummary> {
    let mut rows = Metadata::open(source, true)?;
    let mut writer = RowWriter::create(out, format)?;
    for row in rows.by_ref() {
        writer.write(&row?)?;
    }
    let written = writer.finish()?;
    Ok(ExportSummary { rows: written, bad_rows: rows.bad_rows(), out: out.display().to_string() })
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::InternVidRow;

    use super::*;
    use clipstream_store::fixtures::row;

    #[test]
    fn internvid_jsonl_has_the_released_columns_and_skips_bad_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.jsonl");
        let good = serde_json::to_string(&row("vid", 3, 61.5).to_internvid()).expect("json");
        std::fs::write(&input, format!("{good}\nnot json\n")).expect("write");
        let out = dir.path().join("out/export.jsonl");
        let summary = export(input.to_str().expect("utf8"), RowFormat::InternVidJsonl, &out).expect("export");
        assert_eq!((summary.rows, summary.bad_rows), (1, 1));
        let text = std::fs::read_to_string(&out).expect("read");
        let value: serde_json::Value = serde_json::from_str(text.trim()).expect("json line");
        let keys: Vec<&str> = value.as_object().expect("object").keys().map(String::as_str).collect();
        let mut expected =
            vec!["YoutubeID", "Start_timestamp", "End_timestamp", "Caption", "UMT_Score", "Aesthetic_Score", "Type"];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        let parsed: InternVidRow = serde_json::from_value(value).expect("row");
        assert_eq!((parsed.start_timestamp.as_str(), parsed.end_timestamp.as_str()), ("00:01:01.500", "00:01:03.500"));
        assert_eq!(parsed.aesthetic_score, None);
        assert!(text.contains("\"Aesthetic_Score\":null"), "missing scores are written as null: {text}");
    }
}
