//! Test fixtures: a small curated video whose clips carry JPEG-like byte blobs.

use clipstream_schemas::{ClipPayload, ClipRecord, CuratedVideo, VideoRequest, clip_key, format_timestamp};

/// Video `v` (`file:///v.mp4`) with `clips` clips `v_0000..`, each with a middle frame and 3 stored frames.
pub(crate) fn video(clips: u32) -> CuratedVideo {
    let clips = (0..clips)
        .map(|index| {
            let start = f64::from(index) * 2.0;
            let record = ClipRecord {
                video_id: "v".into(),
                video_key: "v".into(),
                clip_index: index,
                key: clip_key("v", index),
                url: "file:///v.mp4".into(),
                start_s: start,
                end_s: start + 2.0,
                start_ts: format_timestamp(start),
                end_ts: format_timestamp(start + 2.0),
                duration_s: 2.0,
                start_frame: u64::from(index) * 50,
                end_frame: u64::from(index) * 50 + 50,
                fps: 25.0,
                width: 64,
                height: 48,
                num_frames: 3,
                motion: 2.0,
                ..Default::default()
            };
            let jpeg = |tag: u8| vec![0xFF, 0xD8, index as u8, tag, 0xFF, 0xD9];
            ClipPayload {
                record,
                middle_jpeg: jpeg(100).into(),
                frames_jpeg: vec![jpeg(0).into(), jpeg(1).into(), jpeg(2).into()],
                fine_frames_jpeg: Vec::new(),
                video_mp4: None,
            }
        })
        .collect();
    CuratedVideo {
        request: VideoRequest::new("file:///v.mp4"),
        video_id: "v".into(),
        video_key: "v".into(),
        clips,
        scratch: None,
    }
}
