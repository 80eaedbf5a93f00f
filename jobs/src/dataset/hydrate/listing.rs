//! Pass 1 of hydrate: every row of the released metadata is validated and spilled into the group-by under its
//! video id; a row that cannot be used becomes an error record (stage `source`) with its line and raw text.

use std::collections::BTreeMap;
use std::path::Path;

use clipstream_schemas::{ErrorRecord, InternVidRow, SourcePosition, Stage, safe_key};
use serde::{Deserialize, Serialize};

use crate::dataset::group::GroupBy;
use clipstream_store::metadata::row::clip_times;
use clipstream_store::metadata::{BadRow, read_internvid};

/// One listed clip of a video, as spilled and read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedClip {
    /// 0-based row of the input.
    pub row: u64,
    pub start_s: f64,
    pub end_s: f64,
    pub start_ts: String,
    pub end_ts: String,
    pub caption: Option<String>,
    pub sim_score: Option<f64>,
    pub aesthetic_score: Option<f64>,
    pub lang: Option<String>,
    pub category: Option<String>,
    pub asr: Option<String>,
    /// Where the video is, when the row says (`url` column).
    pub url: Option<String>,
    /// The row's other columns, kept as clip metadata.
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// What pass 1 saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ListingCounts {
    pub rows: u64,
    pub bad_rows: u64,
}

/// Checks a row: a usable video id and timestamps with the end after the start; returns the clip's times or the
/// error code and reason.
pub fn check_row(parsed: &InternVidRow) -> Result<(f64, f64), (&'static str, String)> {
    safe_key(parsed.youtube_id.trim())
        .map_err(|e| ("source.bad_id", format!("YoutubeID {:?}: {e}", parsed.youtube_id)))?;
    clip_times(&parsed.start_timestamp, &parsed.end_timestamp).map_err(|e| ("source.bad_timestamp", e))
}

/// The listed clip of a checked row and its video id.
pub fn listed_clip(row: u64, parsed: InternVidRow, (start_s, end_s): (f64, f64)) -> (String, ListedClip) {
    let mut extra = parsed.extra;
    let text = |value: Option<serde_json::Value>| value.and_then(|v| v.as_str().map(str::to_string));
    let url = text(extra.remove("url"));
    let asr = text(extra.remove("asr"));
    let clip = ListedClip {
        row,
        start_s,
        end_s,
        start_ts: parsed.start_timestamp,
        end_ts: parsed.end_timestamp,
        caption: parsed.caption,
        sim_score: parsed.umt_score,
        aesthetic_score: parsed.aesthetic_score,
        lang: parsed.lang,
        category: parsed.kind,
        asr,
        url,
        extra,
    };
    (parsed.youtube_id.trim().to_string(), clip)
}

/// The error record of an unusable row of `input`.
pub fn row_error(input: &Path, row: u64, video_id: &str, code: &str, reason: &str, raw: Option<String>) -> ErrorRecord {
    let mut record = ErrorRecord::from_parts(
        Stage::Source,
        video_id,
        &input.display().to_string(),
        code,
        format!("row {}: {reason}", row + 1),
    );
    record.source = Some(SourcePosition { partition: 0, offset: i64::try_from(row).unwrap_or(i64::MAX) });
    record.raw = raw;
    record
}

/// Reads `input`, spilling usable rows into `group` and handing an error record for each unusable row to `errors`
/// (whose failure stops the reading).
pub fn list_rows(
    input: &Path,
    group: &mut GroupBy<ListedClip>,
    mut errors: impl FnMut(ErrorRecord) -> anyhow::Result<()>,
) -> anyhow::Result<ListingCounts> {
    let mut counts = ListingCounts::default();
    for listed in read_internvid(input)? {
        let listed = listed?;
        counts.rows += 1;
        match listed.parsed {
            Ok(parsed) => match check_row(&parsed) {
                Ok(times) => {
                    let (id, clip) = listed_clip(listed.row, parsed, times);
                    group.push(&id, &clip)?;
                }
                Err((code, reason)) => {
                    counts.bad_rows += 1;
                    let raw = serde_json::to_string(&parsed).ok();
                    errors(row_error(input, listed.row, parsed.youtube_id.trim(), code, &reason, raw))?;
                }
            },
            Err(BadRow { row, reason, raw }) => {
                counts.bad_rows += 1;
                errors(row_error(input, row, "", "source.bad_row", &reason, raw))?;
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_spilled_or_recorded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("meta.jsonl");
        let lines = [
            r#"{"YoutubeID":"vidA","Start_timestamp":"00:00:01.000","End_timestamp":"00:00:03.500","Caption":"a","UMT_Score":0.4,"url":"/v/a.mp4","Title":"t"}"#,
            r#"{"YoutubeID":"vidA","Start_timestamp":"00:00:05.000","End_timestamp":"00:00:04.000","Caption":"backwards"}"#,
            r#"{"YoutubeID":"","Start_timestamp":"00:00:01.000","End_timestamp":"00:00:02.000"}"#,
            r#"{"Start_timestamp":"00:00:01.000","End_timestamp":"00:00:02.000"}"#,
            r#"{"YoutubeID":"vidB","Start_timestamp":"00:00:00.000","End_timestamp":"00:00:02.000","asr":"hi"}"#,
        ];
        std::fs::write(&input, lines.join("\n")).expect("write");
        let mut group = GroupBy::new(2, Path::new("")).expect("group");
        let mut records = Vec::new();
        let counts = list_rows(&input, &mut group, |r| {
            records.push(r);
            Ok(())
        })
        .expect("listing");
        assert_eq!(counts, ListingCounts { rows: 5, bad_rows: 3 });
        let codes: Vec<(&str, &str)> = records.iter().map(|r| (r.video_id.as_str(), r.code.as_str())).collect();
        assert_eq!(codes, [("vidA", "source.bad_timestamp"), ("", "source.bad_id"), ("", "source.bad_row")]);
        assert!(records[0].reason.starts_with("row 2: "), "{}", records[0].reason);
        assert_eq!(records[2].source.map(|s| s.offset), Some(3));
        assert!(records.iter().all(|r| r.stage == Stage::Source && r.raw.is_some() && !r.retryable));
        let mut groups: Vec<(String, Vec<ListedClip>)> =
            group.finish().expect("finish").map(|g| g.expect("group")).collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(groups.len(), 2);
        let a = &groups[0].1[0];
        assert_eq!((a.start_s, a.end_s, a.url.as_deref()), (1.0, 3.5, Some("/v/a.mp4")));
        assert_eq!(a.extra.get("Title"), Some(&serde_json::json!("t")));
        assert_eq!(groups[1].1[0].asr.as_deref(), Some("hi"));
    }
}
