//! `InternVidRow`: one row of the released InternVid metadata (`InternVid-10M-FLT.jsonl` and friends): a clip of a
//! YouTube video given by id and `HH:MM:SS.mmm` timestamps, with its caption and scores. The serde names are the
//! released column names exactly; `clipstream export --format internvid` writes these rows and `clipstream hydrate`
//! reads them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clip::ClipRecord;

/// The released column names, in the order `export` writes them (`Lang` and `Type` only when known).
pub const INTERNVID_COLUMNS: [&str; 8] =
    ["YoutubeID", "Start_timestamp", "End_timestamp", "Caption", "UMT_Score", "Aesthetic_Score", "Lang", "Type"];

/// One clip of the released metadata. Columns other than the released ones (a `url`, a title, ...) are kept in
/// `extra` when reading and written back as they were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InternVidRow {
    #[serde(rename = "YoutubeID")]
    pub youtube_id: String,
    #[serde(rename = "Start_timestamp")]
    pub start_timestamp: String,
    #[serde(rename = "End_timestamp")]
    pub end_timestamp: String,
    #[serde(rename = "Caption", default)]
    pub caption: Option<String>,
    /// Video-text similarity (UMT in the release; the `sim_score` of a [`ClipRecord`]).
    #[serde(rename = "UMT_Score", default)]
    pub umt_score: Option<f64>,
    #[serde(rename = "Aesthetic_Score", default)]
    pub aesthetic_score: Option<f64>,
    #[serde(rename = "Lang", default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The video category (`Type` in the FLT-INFO files; the `category` of a [`ClipRecord`]).
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl InternVidRow {
    /// The released columns of a curated clip (no extra columns).
    pub fn from_clip(record: &ClipRecord) -> Self {
        Self {
            youtube_id: record.video_id.clone(),
            start_timestamp: record.start_ts.clone(),
            end_timestamp: record.end_ts.clone(),
            caption: record.caption.clone(),
            umt_score: record.sim_score,
            aesthetic_score: record.aesthetic_score,
            lang: record.lang.clone(),
            kind: record.category.clone(),
            extra: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_the_released_columns() {
        let line = r#"{"YoutubeID": "zyxGGSdYq2Y", "Start_timestamp": "00:07:33.689", "End_timestamp": "00:07:51.085", "Caption": "a man is cooking in a kitchen", "Aesthetic_Score": 4.7, "UMT_Score": 0.43, "url": "/v/z.mp4"}"#;
        let row: InternVidRow = serde_json::from_str(line).expect("parses");
        assert_eq!(row.youtube_id, "zyxGGSdYq2Y");
        assert_eq!(row.umt_score, Some(0.43));
        assert_eq!(row.kind, None);
        assert_eq!(row.extra.get("url"), Some(&serde_json::json!("/v/z.mp4")));
        let written = serde_json::to_string(&row).expect("serializes");
        assert!(written.starts_with(r#"{"YoutubeID":"zyxGGSdYq2Y","Start_timestamp":"00:07:33.689","#), "{written}");
        assert!(!written.contains("Lang") && written.contains(r#""url":"/v/z.mp4""#), "{written}");
        let minimal: InternVidRow =
            serde_json::from_str(r#"{"YoutubeID":"a","Start_timestamp":"0:0:1","End_timestamp":"0:0:2"}"#).expect("ok");
        assert_eq!((minimal.caption, minimal.umt_score), (None, None));
        assert!(
            serde_json::from_str::<InternVidRow>(r#"{"Start_timestamp":"0:0:1","End_timestamp":"0:0:2"}"#).is_err()
        );
    }

    #[test]
    fn columns_match_the_serde_names() {
        let row = InternVidRow {
            youtube_id: "a".into(),
            start_timestamp: "00:00:01.000".into(),
            end_timestamp: "00:00:02.000".into(),
            caption: Some("c".into()),
            umt_score: Some(0.5),
            aesthetic_score: None,
            lang: Some("en".into()),
            kind: Some("Sports".into()),
            extra: BTreeMap::new(),
        };
        let value = serde_json::to_value(&row).expect("serializes");
        let mut names: Vec<&String> = value.as_object().expect("object").keys().collect();
        names.sort_unstable();
        let mut expected: Vec<&str> = INTERNVID_COLUMNS.to_vec();
        expected.sort_unstable();
        assert_eq!(names, expected);
    }
}
