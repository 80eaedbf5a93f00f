//! Rows for the unit tests of the dataset tools.

use crate::dataset::row::ClipRow;

/// Clip `index` of `video`, 2 s long from `start_s`, with a caption, a similarity score and a category.
pub fn row(video: &str, index: u32, start_s: f64) -> ClipRow {
    ClipRow {
        video_id: video.to_string(),
        key: Some(format!("{video}_{index:04}")),
        shard: Some("shard-x".to_string()),
        start_s,
        end_s: start_s + 2.0,
        start_ts: clipstream_schemas::format_timestamp(start_s),
        end_ts: clipstream_schemas::format_timestamp(start_s + 2.0),
        caption: Some(format!("caption {index}, with \"quotes\"")),
        asr: None,
        sim_score: Some(0.25 + f64::from(index) / 100.0),
        aesthetic_score: None,
        lang: None,
        category: Some("Sports".to_string()),
    }
}
