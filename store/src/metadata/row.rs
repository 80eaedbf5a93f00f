//! `ClipRow`: the columns of one clip that the dataset tools work on, read from committed shards, a clip parquet or
//! released InternVid metadata. Lighter than a full `ClipRecord` (no frames, no per-row JSON metadata).

use clipstream_schemas::{ClipRecord, InternVidRow, parse_timestamp};
use serde::{Deserialize, Serialize};

/// One clip's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipRow {
    pub video_id: String,
    /// The clip's webdataset key, when it lives in a shard (InternVid rows have none).
    pub key: Option<String>,
    /// The shard holding the clip, when it lives in one.
    pub shard: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    /// `HH:MM:SS.mmm`, as stored (not re-formatted, so exports reproduce their input).
    pub start_ts: String,
    pub end_ts: String,
    pub caption: Option<String>,
    pub asr: Option<String>,
    pub sim_score: Option<f64>,
    pub aesthetic_score: Option<f64>,
    pub lang: Option<String>,
    pub category: Option<String>,
}

impl ClipRow {
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }

    /// What names the clip uniquely: its key, or `video id|start|end` for clips outside shards.
    pub fn identity(&self) -> String {
        match &self.key {
            Some(key) => key.clone(),
            None => format!("{}|{}|{}", self.video_id, self.start_ts, self.end_ts),
        }
    }

    /// The row of a curated clip.
    pub fn from_record(record: &ClipRecord) -> Self {
        Self {
            video_id: record.video_id.clone(),
            key: Some(record.key.clone()),
            shard: Some(record.shard.clone()),
            start_s: record.start_s,
            end_s: record.end_s,
            start_ts: record.start_ts.clone(),
            end_ts: record.end_ts.clone(),
            caption: record.caption.clone(),
            asr: record.asr.clone(),
            sim_score: record.sim_score,
            aesthetic_score: record.aesthetic_score,
            lang: record.lang.clone(),
            category: record.category.clone(),
        }
    }

    /// The row of a released InternVid clip; fails with the reason when an id or timestamp is unusable.
    pub fn from_internvid(row: InternVidRow) -> Result<Self, String> {
        if row.youtube_id.trim().is_empty() {
            return Err("YoutubeID is empty".to_string());
        }
        let (start_s, end_s) = clip_times(&row.start_timestamp, &row.end_timestamp)?;
        let asr = row.extra.get("asr").and_then(|v| v.as_str()).map(str::to_string);
        Ok(Self {
            video_id: row.youtube_id,
            key: None,
            shard: None,
            start_s,
            end_s,
            start_ts: row.start_timestamp,
            end_ts: row.end_timestamp,
            caption: row.caption,
            asr,
            sim_score: row.umt_score,
            aesthetic_score: row.aesthetic_score,
            lang: row.lang,
            category: row.kind,
        })
    }

    /// The released InternVid columns of this clip.
    pub fn to_internvid(&self) -> InternVidRow {
        InternVidRow {
            youtube_id: self.video_id.clone(),
            start_timestamp: self.start_ts.clone(),
            end_timestamp: self.end_ts.clone(),
            caption: self.caption.clone(),
            umt_score: self.sim_score,
            aesthetic_score: self.aesthetic_score,
            lang: self.lang.clone(),
            kind: self.category.clone(),
            extra: Default::default(),
        }
    }
}

/// Parses a clip's start and end timestamps; the end must come after the start.
pub fn clip_times(start: &str, end: &str) -> Result<(f64, f64), String> {
    let start_s = parse_timestamp(start).map_err(|e| format!("Start_timestamp: {e}"))?;
    let end_s = parse_timestamp(end).map_err(|e| format!("End_timestamp: {e}"))?;
    if end_s <= start_s {
        return Err(format!("End_timestamp {end:?} is not after Start_timestamp {start:?}"));
    }
    Ok((start_s, end_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internvid(id: &str, start: &str, end: &str) -> InternVidRow {
        serde_json::from_value(serde_json::json!({
            "YoutubeID": id, "Start_timestamp": start, "End_timestamp": end, "Caption": "c", "UMT_Score": 0.4,
            "asr": "hello"
        }))
        .expect("row")
    }

    #[test]
    fn internvid_rows_convert_both_ways() {
        let row = ClipRow::from_internvid(internvid("abc", "00:00:01.500", "00:00:04.000")).expect("valid");
        assert_eq!((row.start_s, row.end_s, row.duration_s()), (1.5, 4.0, 2.5));
        assert_eq!((row.sim_score, row.asr.as_deref()), (Some(0.4), Some("hello")));
        assert_eq!(row.identity(), "abc|00:00:01.500|00:00:04.000");
        let back = row.to_internvid();
        assert_eq!((back.youtube_id.as_str(), back.start_timestamp.as_str()), ("abc", "00:00:01.500"));
    }

    #[test]
    fn unusable_rows_say_why() {
        let empty = ClipRow::from_internvid(internvid(" ", "00:00:01.000", "00:00:02.000")).expect_err("empty id");
        assert!(empty.contains("YoutubeID"), "{empty}");
        let bad = ClipRow::from_internvid(internvid("a", "1:2", "00:00:02.000")).expect_err("bad start");
        assert!(bad.contains("Start_timestamp"), "{bad}");
        let backwards = ClipRow::from_internvid(internvid("a", "00:00:03.000", "00:00:02.000")).expect_err("order");
        assert!(backwards.contains("not after"), "{backwards}");
    }
}
