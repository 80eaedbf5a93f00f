//! Test fixtures (the `fixtures` feature, for the crates above): small fake curated videos (JPEG-like byte blobs,
//! optional mp4 files), an output in a temp dir, and clip rows for the dataset tools.

use std::collections::BTreeMap;
use std::sync::Arc;

use clipstream_schemas::{ClipPayload, ClipRecord, CuratedVideo, Scratch, SourcePosition, VideoRequest};

use crate::metadata::row::ClipRow;
use crate::output::Output;

/// An output in a fresh temp dir (kept alive by the returned guard).
pub fn temp_output() -> (tempfile::TempDir, Output) {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Output::open(dir.path().join("out").to_str().expect("utf-8 path")).expect("open output");
    (dir, output)
}

pub fn record(video_key: &str, clip_index: u32) -> ClipRecord {
    let start = f64::from(clip_index) * 2.0;
    ClipRecord {
        video_id: format!("id/{video_key}"),
        video_key: video_key.to_string(),
        clip_index,
        url: format!("https://example.com/{video_key}.mp4"),
        start_s: start,
        end_s: start + 2.0,
        start_ts: format!("00:00:{:06.3}", start),
        end_ts: format!("00:00:{:06.3}", start + 2.0),
        duration_s: 2.0,
        start_frame: u64::from(clip_index) * 50,
        end_frame: u64::from(clip_index) * 50 + 50,
        fps: 25.0,
        width: 320,
        height: 240,
        motion: 3.5,
        caption: clip_index.is_multiple_of(2).then(|| format!("a caption of {video_key} clip {clip_index}")),
        sim_score: Some(0.25),
        lang: Some("en".into()),
        source: Some(SourcePosition { partition: 1, offset: 7 }),
        metadata: BTreeMap::from([("title".to_string(), serde_json::json!("T"))]),
        ..Default::default()
    }
}

/// A video with `clips` clips of 2 frames each; with `mp4`, every clip has a small fake mp4 file.
pub fn video(video_key: &str, clips: u32, mp4: bool) -> CuratedVideo {
    let scratch = Arc::new(tempfile::tempdir().expect("scratch"));
    let clips = (0..clips)
        .map(|i| {
            let video_mp4 = mp4.then(|| {
                let path = scratch.path().join(format!("clip{i}.mp4"));
                std::fs::write(&path, format!("mp4 of {video_key} {i}")).expect("write mp4");
                path
            });
            ClipPayload {
                record: record(video_key, i),
                middle_jpeg: format!("\u{ff}middle {video_key} {i}").into_bytes().into(),
                frames_jpeg: (0..2).map(|f| format!("frame {f} of {video_key} {i}").into_bytes().into()).collect(),
                fine_frames_jpeg: Vec::new(),
                video_mp4,
            }
        })
        .collect();
    let mut request = VideoRequest::new(format!("https://example.com/{video_key}.mp4"));
    request.video_id = Some(format!("id/{video_key}"));
    request.source = Some(SourcePosition { partition: 1, offset: 7 });
    CuratedVideo {
        request,
        video_id: format!("id/{video_key}"),
        video_key: video_key.to_string(),
        clips,
        scratch: Some(Scratch::new(scratch)),
    }
}

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
