//! The per-video media stages of curate: plain functions from one stage's output to the next (probe, scene_cut
//! and clip planning, clip cutting, frame sampling, and the one `ClipRecord` builder), each failing with an
//! `ErrorRecord` that names the stage; and [`MediaStages`], which puts them into a dataflow.

use std::path::PathBuf;
use std::sync::Arc;

use clipstream_core::StageExt;
use clipstream_input::FetchedVideo;
use clipstream_schemas::config::CutMode;
use clipstream_schemas::{
    ClipPayload, ClipRecord, Config, CuratedVideo, ErrorRecord, Scratch, Stage, VideoRequest, clip_key,
    format_timestamp,
};
use timely::dataflow::Stream;
use timely::dataflow::operators::core::Concatenate;
use timely::order::TotalOrder;
use timely::progress::Timestamp;

use crate::scene::{ClipPlan, DetectOptions, detect_scenes_with, plan_clips};
use crate::segments::segment_text;
use crate::{ClipFrames, ClipSpan, DecodeLimits, FineSampling, MediaError, ProbeInfo, check_policy, probe};

/// Extension trait adding the media stages to a stream of fetched videos.
pub trait MediaStages<'scope, T: Timestamp + TotalOrder> {
    /// Runs probe, scene_cut, clip and frames on every video (each as a `clipstream_core::StageExt` stage with its
    /// own metrics); curated videos continue on the first stream, the failures of all four stages on the second.
    fn media_stages(
        self,
        config: Arc<Config>,
    ) -> (Stream<'scope, T, Vec<CuratedVideo>>, Stream<'scope, T, Vec<ErrorRecord>>);
}

impl<'scope, T: Timestamp + TotalOrder> MediaStages<'scope, T> for Stream<'scope, T, Vec<FetchedVideo>> {
    fn media_stages(
        self,
        config: Arc<Config>,
    ) -> (Stream<'scope, T, Vec<CuratedVideo>>, Stream<'scope, T, Vec<ErrorRecord>>) {
        let scope = self.scope();
        let c = config.clone();
        let (probed, e_probe) = self.stage(Stage::Probe, move |v| probe_video(&c, v));
        let c = config.clone();
        let (planned, e_scene) = probed.stage(Stage::SceneCut, move |v| plan_video(&c, v));
        let c = config.clone();
        let (cut, e_clip) = planned.stage(Stage::Clip, move |v| cut_video(&c, v));
        let (framed, e_frames) = cut.stage(Stage::Frames, move |v| frame_video(&config, v));
        (framed, scope.concatenate(vec![e_probe, e_scene, e_clip, e_frames]))
    }
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

/// A planned video with its clip files cut (when the cut mode writes files), and the clips' frames when the cut
/// decoded the video anyway (precise cutting samples them in the same pass).
#[derive(Clone)]
pub struct CutVideo {
    pub planned: PlannedVideo,
    pub scratch: Option<Scratch>,
    pub files: Vec<Option<PathBuf>>,
    pub frames: Option<Vec<ClipFrames>>,
}

/// probe: container facts and the policy check.
pub fn probe_video(config: &Config, video: FetchedVideo) -> Result<ProbedVideo, ErrorRecord> {
    let info = probe(&video.fetched.path).map_err(|e| ErrorRecord::for_request(Stage::Probe, &video.request, &e))?;
    check_policy(&info, &config.probe).map_err(|e| ErrorRecord::for_request(Stage::Probe, &video.request, &e))?;
    Ok(ProbedVideo { video, info })
}

/// scene_cut: detects scenes and plans the kept clips.
pub fn plan_video(config: &Config, probed: ProbedVideo) -> Result<PlannedVideo, ErrorRecord> {
    let options = DetectOptions { threads: 1, limits: DecodeLimits::of_policy(&config.probe), ..Default::default() };
    let scenes = detect_scenes_with(&probed.video.fetched.path, &config.scene, options)
        .map_err(|e| ErrorRecord::for_request(Stage::SceneCut, &probed.video.request, &e))?;
    let plan = plan_clips(&scenes, &config.clips);
    crate::metrics::count_plan(&plan, scenes.frames);
    Ok(PlannedVideo { probed, plan, fps: scenes.fps })
}

/// clip: cuts the kept clips into mp4 files in a scratch folder (unless the cut mode is `none`).
pub fn cut_video(config: &Config, planned: PlannedVideo) -> Result<CutVideo, ErrorRecord> {
    let request = &planned.probed.video.request;
    let spans: &[ClipSpan] = &planned.plan.kept;
    if config.cut.mode == CutMode::None || spans.is_empty() {
        let files = vec![None; spans.len()];
        return Ok(CutVideo { planned, scratch: None, files, frames: None });
    }
    let dir = tempfile::Builder::new().prefix(&clipstream_core::scratch_prefix("clips")).tempdir().map_err(|e| {
        ErrorRecord::for_request(Stage::Clip, request, &MediaError::Io { path: std::env::temp_dir(), source: e })
    })?;
    let path = &planned.probed.video.fetched.path;
    let fine = FineSampling::for_caption(&config.caption);
    let (files, frames) = crate::clip::cut_clips_sampling(path, spans, &config.cut, dir.path(), &config.frames, fine)
        .map_err(|e| ErrorRecord::for_request(Stage::Clip, request, &e))?;
    let files = files.into_iter().map(Some).collect();
    Ok(CutVideo { planned, scratch: Some(Scratch::new(dir)), files, frames })
}

/// frames: samples and encodes the frames of every clip (unless the cut already did in its decode pass) and
/// assembles the records.
pub fn frame_video(config: &Config, mut cut: CutVideo) -> Result<CuratedVideo, ErrorRecord> {
    let sampled = cut.frames.take();
    let planned = &cut.planned;
    let video = &planned.probed.video;
    let spans = &planned.plan.kept;
    let frames = if let Some(frames) = sampled {
        frames
    } else if spans.is_empty() {
        Vec::new()
    } else {
        let fine = FineSampling::for_caption(&config.caption);
        crate::frames::sample_frames(&video.fetched.path, spans, &config.frames, fine)
            .map_err(|e| ErrorRecord::for_request(Stage::Frames, &video.request, &e))?
    };
    let clips = spans
        .iter()
        .zip(frames)
        .zip(&cut.files)
        .enumerate()
        .map(|(index, ((span, frames), file))| ClipPayload {
            record: curated_record(planned, span, index as u32, frames.frames_jpeg.len() as u32, file.is_some()),
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

/// The video-level facts of a clip's record: who the video is and what the probe found.
#[derive(Debug, Clone, Copy)]
pub struct VideoFacts<'a> {
    pub video_id: &'a str,
    pub video_key: &'a str,
    /// The video's URL as requested (redacted in the record).
    pub url: &'a str,
    pub fps: f64,
    pub info: &'a ProbeInfo,
}

/// The record of clip `clip_index` of `video` over `span`, with `num_frames` sampled frames: identity, times and
/// frame numbers from the span, the probe's facts; no caption, scores, text fields, source or metadata (the job
/// fills those in). Every job that writes clips (curate, hydrate) builds its records here.
pub fn clip_record(
    video: VideoFacts<'_>,
    span: &ClipSpan,
    clip_index: u32,
    num_frames: u32,
    has_video: bool,
) -> ClipRecord {
    ClipRecord {
        video_id: video.video_id.to_string(),
        video_key: video.video_key.to_string(),
        clip_index,
        key: clip_key(video.video_key, clip_index),
        shard: String::new(),
        url: clipstream_schemas::redact_url(video.url),
        start_s: span.start_s,
        end_s: span.end_s,
        start_ts: format_timestamp(span.start_s),
        end_ts: format_timestamp(span.end_s),
        duration_s: span.duration_s(),
        start_frame: span.start_frame,
        end_frame: span.end_frame,
        fps: video.fps,
        width: video.info.width,
        height: video.info.height,
        num_frames,
        motion: span.motion,
        caption_coarse: None,
        caption_fine: None,
        caption: None,
        asr: None,
        sim_score: None,
        aesthetic_score: None,
        lang: None,
        category: None,
        has_video,
        source: None,
        metadata: Default::default(),
    }
}

/// A curated clip's record: [`clip_record`] plus the request's text fields (a timed segment's `caption` and
/// `category` when the request carries segments), its source position and metadata.
fn curated_record(
    planned: &PlannedVideo,
    span: &ClipSpan,
    clip_index: u32,
    num_frames: u32,
    has_video: bool,
) -> ClipRecord {
    let video = &planned.probed.video;
    let request: &VideoRequest = &video.request;
    let text = |key: &str| request.metadata.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let timed = |key: &str| segment_text(&request.metadata, span.start_s, span.end_s, key).or_else(|| text(key));
    let facts = VideoFacts {
        video_id: &video.video_id,
        video_key: &video.video_key,
        url: &request.url,
        fps: planned.fps,
        info: &planned.probed.info,
    };
    ClipRecord {
        caption: timed("caption"),
        asr: text("asr"),
        lang: text("lang"),
        category: timed("category"),
        source: request.source,
        metadata: request.metadata.clone(),
        ..clip_record(facts, span, clip_index, num_frames, has_video)
    }
}
