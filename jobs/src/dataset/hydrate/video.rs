//! Hydrating one video: locate and fetch it once, probe it, turn each listed clip's timestamps into a frame span,
//! cut the clips (precise by default: exactly the listed frames), sample their frames and assemble the clip
//! records with the listed caption and scores. A failure of the video is one error record; a listed clip outside
//! the video is an error record of its own and the other clips go on.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use clipstream_input::fetch::{Downloaded, Fetched, Fetcher, YtDlp};
use clipstream_media::{
    ClipSpan, FineSampling, MediaError, ProbeInfo, VideoFacts, clip_record, cut_clips_sampling, probe, sample_frames,
};
use clipstream_schemas::config::{CutConfig, CutMode, FramesConfig};
use clipstream_schemas::error::StageError;
use clipstream_schemas::{
    ClipPayload, ClipRecord, CuratedVideo, ErrorRecord, Scratch, SourcePosition, Stage, VideoRequest, safe_key,
};

use super::error::HydrateError;
use super::listing::ListedClip;
use super::locate::{Located, Locator};

/// Everything the workers share.
pub struct HydrateContext {
    pub fetcher: Fetcher,
    pub locator: Locator,
    pub ytdlp: YtDlp,
    pub cut: CutConfig,
    pub frames: FramesConfig,
    /// Fine-caption frames to sample (`FineSampling::for_caption`), none unless a fine captioner reads them.
    pub fine: Option<FineSampling>,
    /// `--rescore`: the score stage's models and settings.
    pub rescore: Option<(std::sync::Arc<dyn crate::torch::ModelStages>, clipstream_schemas::config::ScoreConfig)>,
    /// Fetch attempts (one per video; counted so that a test can check it).
    pub fetches: AtomicU64,
}

/// One video and its listed clips, sorted by start time.
#[derive(Debug, Clone)]
pub struct VideoJob {
    pub video_id: String,
    pub clips: Vec<ListedClip>,
}

/// A hydrated video and the error records of listed clips that could not be cut.
#[derive(Debug)]
pub struct Hydrated {
    pub video: CuratedVideo,
    pub clip_errors: Vec<ErrorRecord>,
}

/// A video's bytes on local disk, kept alive while it is read.
enum Source {
    Fetched(Fetched),
    Downloaded(Downloaded),
}

impl Source {
    fn path(&self) -> &Path {
        match self {
            Source::Fetched(f) => &f.path,
            Source::Downloaded(d) => &d.path,
        }
    }
}

/// The record of `job` failing at `stage`, at the source position of its first listed row.
fn fail(stage: Stage, job: &VideoJob, url: &str, error: &dyn StageError) -> ErrorRecord {
    let mut record = ErrorRecord::new(stage, &job.video_id, url, error);
    record.source = job.clips.first().map(|c| position(c.row));
    record
}

fn position(row: u64) -> SourcePosition {
    SourcePosition { partition: 0, offset: i64::try_from(row).unwrap_or(i64::MAX) }
}

/// Locates and fetches `job`'s video: one attempt per video, counted in `context.fetches` whether or not the video
/// turns out to exist.
fn fetch(context: &HydrateContext, job: &VideoJob) -> Result<(String, Source), ErrorRecord> {
    context.fetches.fetch_add(1, Ordering::Relaxed);
    let row_url = job.clips.iter().find_map(|c| c.url.as_deref());
    let located = context
        .locator
        .locate(&job.video_id, row_url)
        .map_err(|e| fail(Stage::Fetch, job, row_url.unwrap_or(""), &e))?;
    match located {
        Located::Url(url) => {
            let mut request = VideoRequest::new(url.clone());
            request.video_id = Some(job.video_id.clone());
            let fetched = context.fetcher.fetch(&request).map_err(|e| fail(Stage::Fetch, job, &url, &e))?;
            Ok((url, Source::Fetched(fetched)))
        }
        Located::YouTube(url) => {
            let downloaded = context.ytdlp.download(&url).map_err(|e| fail(Stage::Fetch, job, &url, &e))?;
            Ok((url, Source::Downloaded(downloaded)))
        }
    }
}

/// The frame span of a listed clip in a video of `frames` frames at `fps`, or why there is none.
pub fn clip_span(clip: &ListedClip, fps: f64, frames: u64) -> Result<ClipSpan, String> {
    let start = (clip.start_s * fps).round().max(0.0) as u64;
    let end = ((clip.end_s * fps).round() as u64).max(start + 1).min(frames);
    if start >= end {
        return Err(format!(
            "clip {}..{} starts past the end of the video ({frames} frames at {fps:.3} fps)",
            clip.start_ts, clip.end_ts
        ));
    }
    Ok(ClipSpan::from_frames(start, end, fps, 0.0))
}

/// The frame count to trust for a probed video: the container's, else duration x fps.
fn frame_count(info: &ProbeInfo) -> u64 {
    info.frames.unwrap_or_else(|| (info.duration_s * info.fps).round().max(0.0) as u64)
}

/// Spans of the clips that fit in `frames` frames; the others become error records.
fn spans(job: &VideoJob, url: &str, fps: f64, frames: u64, errors: &mut Vec<ErrorRecord>) -> Vec<(usize, ClipSpan)> {
    let mut spans = Vec::with_capacity(job.clips.len());
    for (index, clip) in job.clips.iter().enumerate() {
        match clip_span(clip, fps, frames) {
            Ok(span) => spans.push((index, span)),
            Err(reason) => {
                let mut record =
                    ErrorRecord::from_parts(Stage::Clip, &job.video_id, url, "hydrate.clip_out_of_range", reason);
                record.source = Some(position(clip.row));
                errors.push(record);
            }
        }
    }
    spans
}

/// Hydrates one video.
pub fn hydrate_video(context: &HydrateContext, job: &VideoJob) -> Result<Hydrated, ErrorRecord> {
    let video_key = safe_key(&job.video_id)
        .map_err(|e| fail(Stage::Source, job, "", &HydrateError::BadId { id: job.video_id.clone(), source: e }))?;
    let (url, source) = fetch(context, job)?;
    let path = source.path().to_path_buf();
    let info = probe(&path).map_err(|e| fail(Stage::Probe, job, &url, &e))?;
    let mut clip_errors = Vec::new();
    let mut kept = spans(job, &url, info.fps, frame_count(&info), &mut clip_errors);
    let scratch = tempfile::Builder::new()
        .prefix("clipstream-hydrate-")
        .tempdir()
        .map_err(|e| fail(Stage::Clip, job, &url, &MediaError::Io { path: std::env::temp_dir(), source: e }))?;
    let cut = match cut_and_sample(&path, &kept, context, scratch.path()) {
        // The container promised more frames than decode: cut again within what decodes.
        Err(MediaError::MissingFrames { decoded, .. }) => {
            let mut late = Vec::new();
            kept = spans(job, &url, info.fps, decoded, &mut late);
            clip_errors.extend(late);
            cut_and_sample(&path, &kept, context, scratch.path())
        }
        other => other,
    };
    let (files, frames) = cut.map_err(|e| fail(Stage::Clip, job, &url, &e))?;
    let request = VideoRequest { video_id: Some(job.video_id.clone()), ..VideoRequest::new(url.clone()) };
    let facts = VideoFacts { video_id: &job.video_id, video_key: &video_key, url: &url, fps: info.fps, info: &info };
    let clips = kept
        .iter()
        .zip(frames)
        .zip(files)
        .map(|((&(index, span), frames), file)| {
            let listed = &job.clips[index];
            // The listed times stay as released (the span is their frame-rounded cut); the rest is the listing's.
            let record = ClipRecord {
                start_s: listed.start_s,
                end_s: listed.end_s,
                start_ts: listed.start_ts.clone(),
                end_ts: listed.end_ts.clone(),
                duration_s: listed.end_s - listed.start_s,
                motion: 0.0,
                caption: listed.caption.clone(),
                asr: listed.asr.clone(),
                sim_score: listed.sim_score,
                aesthetic_score: listed.aesthetic_score,
                lang: listed.lang.clone(),
                category: listed.category.clone(),
                source: Some(position(listed.row)),
                metadata: listed.extra.clone(),
                ..clip_record(facts, &span, index as u32, frames.frames_jpeg.len() as u32, file.is_some())
            };
            ClipPayload {
                record,
                middle_jpeg: frames.middle_jpeg,
                frames_jpeg: frames.frames_jpeg,
                fine_frames_jpeg: frames.fine_jpeg,
                video_mp4: file,
            }
        })
        .collect();
    let video = CuratedVideo {
        request,
        video_id: job.video_id.clone(),
        video_key,
        clips,
        scratch: Some(Scratch::new(scratch)),
    };
    drop(source);
    Ok(Hydrated { video, clip_errors })
}

type Cut = (Vec<Option<PathBuf>>, Vec<clipstream_media::ClipFrames>);

/// Cuts the spans into `dir` (unless the cut mode is `none`) and samples their frames.
fn cut_and_sample(
    path: &Path,
    kept: &[(usize, ClipSpan)],
    context: &HydrateContext,
    dir: &Path,
) -> Result<Cut, MediaError> {
    let spans: Vec<ClipSpan> = kept.iter().map(|(_, span)| *span).collect();
    if spans.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    if context.cut.mode == CutMode::None {
        return Ok((vec![None; spans.len()], sample_frames(path, &spans, &context.frames, context.fine)?));
    }
    // A precise cut decodes the video: the frames come from the same pass.
    let (files, frames) = cut_clips_sampling(path, &spans, &context.cut, dir, &context.frames, context.fine)?;
    let frames = match frames {
        Some(frames) => frames,
        None => sample_frames(path, &spans, &context.frames, context.fine)?,
    };
    Ok((files.into_iter().map(Some).collect(), frames))
}

/// Whether a failure record means the video itself is unavailable (deleted, private, unreachable).
pub fn is_unavailable(record: &ErrorRecord) -> bool {
    record.stage == Stage::Fetch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(start: f64, end: f64) -> ListedClip {
        ListedClip {
            row: 0,
            start_s: start,
            end_s: end,
            start_ts: clipstream_schemas::format_timestamp(start),
            end_ts: clipstream_schemas::format_timestamp(end),
            caption: None,
            sim_score: None,
            aesthetic_score: None,
            lang: None,
            category: None,
            asr: None,
            url: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn spans_round_to_frames_and_clamp_to_the_video() {
        let span = clip_span(&listed(1.0, 3.5), 25.0, 1000).expect("inside");
        assert_eq!((span.start_frame, span.end_frame), (25, 88));
        // A clip exported from frames 37..90 at 25 fps comes back to the same frames despite ms rounding.
        let exported = listed((37.0_f64 / 25.0 * 1000.0).round() / 1000.0, (90.0_f64 / 25.0 * 1000.0).round() / 1000.0);
        let span = clip_span(&exported, 25.0, 1000).expect("inside");
        assert_eq!((span.start_frame, span.end_frame), (37, 90));
        let tail = clip_span(&listed(38.0, 45.0), 25.0, 1000).expect("clamped");
        assert_eq!((tail.start_frame, tail.end_frame), (950, 1000));
        let tiny = clip_span(&listed(2.0, 2.001), 25.0, 1000).expect("one frame at least");
        assert_eq!(tiny.frames(), 1);
        assert!(clip_span(&listed(40.0, 45.0), 25.0, 1000).expect_err("past the end").contains("past the end"));
    }
}
