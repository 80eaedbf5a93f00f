//! The per-video stage functions of curate: plain functions from one stage's output to the next, each failing
//! with an `ErrorRecord` that names the stage. The dataflow only wires them.

use std::path::PathBuf;
use std::sync::Arc;

use clipstream_input::fetch::{Fetched, Fetcher};
use clipstream_media::ClipSpan;

use super::metrics;
use super::segments::segment_text;
use clipstream_media::scene::{ClipPlan, DetectOptions, detect_scenes_with, plan_clips};
use clipstream_media::{DecodeLimits, ProbeInfo, check_policy, probe};
use clipstream_schemas::error::StageError;
use clipstream_schemas::{
    ClipPayload, ClipRecord, Config, CuratedVideo, ErrorRecord, Stage, VideoRequest, clip_key, format_timestamp,
};

/// A video whose bytes are local.
#[derive(Clone)]
pub struct FetchedVideo {
    pub request: VideoRequest,
    pub video_id: String,
    pub video_key: String,
    pub fetched: Fetched,
}

/// A fetched video that passed the probe policy.
#[derive(Clone)]
pub struct ProbedVideo {
    pub video: FetchedVideo,
    pub info: ProbeInfo,
}

/// A probed video with its clips planned.
#[derive(Clone)]
pub struct PlannedVideo {
    pub probed: ProbedVideo,
    pub plan: ClipPlan,
    pub fps: f64,
}

/// A planned video with its clip files cut (when the cut mode writes files).
#[derive(Clone)]
pub struct CutVideo {
    pub planned: PlannedVideo,
    pub scratch: Option<Arc<tempfile::TempDir>>,
    pub files: Vec<Option<PathBuf>>,
}

fn fail(stage: Stage, request: &VideoRequest, error: &dyn StageError) -> ErrorRecord {
    let mut record = ErrorRecord::new(stage, &request.raw_id(), &request.url, error);
    record.source = request.source;
    record
}

/// fetch: makes the video's bytes local.
pub fn fetch(fetcher: &Fetcher, request: VideoRequest) -> Result<FetchedVideo, ErrorRecord> {
    let video_key = request.key().map_err(|e| fail(Stage::Source, &request, &e))?;
    let fetched = fetcher.fetch(&request).map_err(|e| fail(Stage::Fetch, &request, &e))?;
    metrics::count_fetched(fetched.bytes);
    Ok(FetchedVideo { video_id: request.raw_id(), video_key, request, fetched })
}

/// probe: container facts and the policy check.
pub fn probe_video(config: &Config, video: FetchedVideo) -> Result<ProbedVideo, ErrorRecord> {
    let info = probe(&video.fetched.path).map_err(|e| fail(Stage::Probe, &video.request, &e))?;
    check_policy(&info, &config.probe).map_err(|e| fail(Stage::Probe, &video.request, &e))?;
    Ok(ProbedVideo { video, info })
}

/// scene_cut: detects scenes and plans the kept clips.
pub fn plan_video(config: &Config, probed: ProbedVideo) -> Result<PlannedVideo, ErrorRecord> {
    let options = DetectOptions { threads: 1, limits: DecodeLimits::of_policy(&config.probe), ..Default::default() };
    let scenes = detect_scenes_with(&probed.video.fetched.path, &config.scene, options)
        .map_err(|e| fail(Stage::SceneCut, &probed.video.request, &e))?;
    let plan = plan_clips(&scenes, &config.clips);
    metrics::count_plan(&plan, scenes.frames);
    Ok(PlannedVideo { probed, plan, fps: scenes.fps })
}

/// clip: cuts the kept clips into mp4 files in a scratch folder (unless the cut mode is `none`).
pub fn cut_video(config: &Config, planned: PlannedVideo) -> Result<CutVideo, ErrorRecord> {
    let request = &planned.probed.video.request;
    let spans: &[ClipSpan] = &planned.plan.kept;
    if config.cut.mode == clipstream_schemas::config::CutMode::None || spans.is_empty() {
        let files = vec![None; spans.len()];
        return Ok(CutVideo { planned, scratch: None, files });
    }
    let dir = tempfile::Builder::new().prefix(&clipstream_core::scratch_prefix("clips")).tempdir().map_err(|e| {
        fail(Stage::Clip, request, &clipstream_media::MediaError::Io { path: std::env::temp_dir(), source: e })
    })?;
    let files = clipstream_media::clip::cut_clips(&planned.probed.video.fetched.path, spans, &config.cut, dir.path())
        .map_err(|e| fail(Stage::Clip, request, &e))?;
    Ok(CutVideo { planned, scratch: Some(Arc::new(dir)), files: files.into_iter().map(Some).collect() })
}

/// frames: samples and encodes the frames of every clip and assembles the records.
pub fn frame_video(config: &Config, cut: CutVideo) -> Result<CuratedVideo, ErrorRecord> {
    let planned = &cut.planned;
    let video = &planned.probed.video;
    let spans = &planned.plan.kept;
    let frames = if spans.is_empty() {
        Vec::new()
    } else {
        let fine = clipstream_media::FineSampling::for_caption(&config.caption);
        clipstream_media::frames::sample_frames(&video.fetched.path, spans, &config.frames, fine)
            .map_err(|e| fail(Stage::Frames, &video.request, &e))?
    };
    let clips = spans
        .iter()
        .zip(frames)
        .zip(&cut.files)
        .enumerate()
        .map(|(index, ((span, frames), file))| ClipPayload {
            record: clip_record(planned, span, index as u32, frames.frames_jpeg.len() as u32, file.is_some()),
            middle_jpeg: frames.middle_jpeg,
            frames_jpeg: frames.frames_jpeg,
            fine_frames_jpeg: frames.fine_jpeg,
            video_mp4: file.clone(),
        })
        .collect();
    Ok(CuratedVideo {
        request: video.request.clone(),
        video_id: video.video_id.clone(),
        video_key: video.video_key.clone(),
        clips,
        scratch: cut.scratch,
    })
}

fn clip_record(
    planned: &PlannedVideo,
    span: &ClipSpan,
    clip_index: u32,
    num_frames: u32,
    has_video: bool,
) -> ClipRecord {
    let video = &planned.probed.video;
    let info = &planned.probed.info;
    let text = |key: &str| video.request.metadata.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let timed = |key: &str| segment_text(&video.request.metadata, span.start_s, span.end_s, key).or_else(|| text(key));
    ClipRecord {
        video_id: video.video_id.clone(),
        video_key: video.video_key.clone(),
        clip_index,
        key: clip_key(&video.video_key, clip_index),
        shard: String::new(),
        url: clipstream_schemas::redact_url(&video.request.url),
        start_s: span.start_s,
        end_s: span.end_s,
        start_ts: format_timestamp(span.start_s),
        end_ts: format_timestamp(span.end_s),
        duration_s: span.duration_s(),
        start_frame: span.start_frame,
        end_frame: span.end_frame,
        fps: planned.fps,
        width: info.width,
        height: info.height,
        num_frames,
        motion: span.motion,
        caption_coarse: None,
        caption_fine: None,
        caption: timed("caption"),
        asr: text("asr"),
        sim_score: None,
        aesthetic_score: None,
        lang: text("lang"),
        category: timed("category"),
        has_video,
        source: video.request.source,
        metadata: video.request.metadata.clone(),
    }
}
