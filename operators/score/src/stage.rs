//! The score stage: for every clip of a video, the video-text similarity of its caption (cosine of normalised
//! embeddings, `config.frames` uniform frames) and the aesthetic score (max over the same frames), in batches of
//! `batch_size` clips; then the filter drops clips under `min_similarity` / `min_aesthetic` (counted). The JPEGs
//! are decoded and transformed on the calling worker before it takes a model's lock, so other workers can run the
//! model meanwhile; the lock covers tokenizing, the copy to the model's device and the forward pass.

use std::sync::Mutex;
use std::time::Instant;

use clipstream_schemas::config::ScoreConfig;
use clipstream_schemas::error::StageError;
use clipstream_schemas::{ClipPayload, CuratedVideo, ErrorRecord, Jpeg, Stage};
use tch::{Device, Kind, Tensor};

use crate::metrics;
use crate::models::{ScoreModels, lock};
use crate::pixels;
use clipstream_models::preprocess::FrameError;

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("clip {clip}: {source}")]
    Frames { clip: u32, source: FrameError },
    #[error("clip {clip}: reading its frames back from the spill file: {source}")]
    Spill { clip: u32, source: std::io::Error },
    #[error("tokenizing the caption of clip {clip}: {reason}")]
    Tokenize { clip: u32, reason: String },
    #[error("the model refused the batch")]
    Model(#[source] tch::TchError),
}

impl StageError for ScoreError {
    fn code(&self) -> &'static str {
        match self {
            Self::Frames { .. } => "score_frames",
            Self::Spill { .. } => "score_spill",
            Self::Tokenize { .. } => "score_tokenize",
            Self::Model(_) => "score_model",
        }
    }
}

/// Scores and filters the clips of one video.
pub fn score_video(
    models: &ScoreModels,
    config: &ScoreConfig,
    video: CuratedVideo,
) -> Result<CuratedVideo, ErrorRecord> {
    score_videos(models, config, vec![video]).pop().expect("one result per video")
}

/// Scores and filters the clips of several videos: their clips go to the models together, in batches of
/// `score.batch_size` that span videos (so a GPU gets full batches even from videos of few clips), and return to
/// their videos. One result per video, in order. A batch that fails is scored again video by video, so a clip
/// that cannot be scored (a corrupt frame) fails only its own video.
pub fn score_videos(
    models: &ScoreModels,
    config: &ScoreConfig,
    videos: Vec<CuratedVideo>,
) -> Vec<Result<CuratedVideo, ErrorRecord>> {
    let mut owners: Vec<usize> = Vec::new();
    let mut pool: Vec<ClipPayload> = Vec::new();
    let mut shells: Vec<CuratedVideo> = Vec::with_capacity(videos.len());
    for (index, mut video) in videos.into_iter().enumerate() {
        for clip in video.clips.drain(..) {
            owners.push(index);
            pool.push(clip);
        }
        shells.push(video);
    }
    let mut failures: Vec<Option<ScoreError>> = shells.iter().map(|_| None).collect();
    let batch = config.batch_size.max(1);
    let mut start = 0;
    while start < pool.len() {
        let end = (start + batch).min(pool.len());
        if score_batch(models, config, &mut pool[start..end]).is_err() {
            // Each video's part of the batch on its own (a video's clips are contiguous in the pool).
            let mut from = start;
            while from < end {
                let owner = owners[from];
                let to = (from..end).find(|&i| owners[i] != owner).unwrap_or(end);
                if failures[owner].is_none()
                    && let Err(error) = score_batch(models, config, &mut pool[from..to])
                {
                    failures[owner] = Some(error);
                }
                from = to;
            }
        }
        start = end;
    }
    for (clip, owner) in pool.into_iter().zip(owners) {
        shells[owner].clips.push(clip);
    }
    shells
        .into_iter()
        .zip(failures)
        .map(|(mut video, failure)| match failure {
            Some(error) => Err(ErrorRecord::for_request(Stage::Score, &video.request, &error)),
            None => {
                video.clips.retain(|clip| keep(config, clip));
                Ok(video)
            }
        })
        .collect()
}

/// Runs the configured models on one batch of clips (of one or more videos).
fn score_batch(models: &ScoreModels, config: &ScoreConfig, clips: &mut [ClipPayload]) -> Result<(), ScoreError> {
    if let Some(similarity) = &models.similarity {
        score_similarity(similarity, models.similarity_size, config, clips)?;
    }
    if let Some(aesthetic) = &models.aesthetic {
        score_aesthetic(aesthetic, models.aesthetic_size, config, clips)?;
    }
    Ok(())
}

/// The model input of one clip, on the CPU (decoded and transformed without any model lock).
fn frames_of(clip: &ClipPayload, config: &ScoreConfig, size: i64) -> Result<Tensor, ScoreError> {
    let index = clip.record.clip_index;
    let jpegs = clip.frames_jpeg.iter().map(Jpeg::bytes).collect::<Result<Vec<_>, _>>();
    let jpegs = jpegs.map_err(|source| ScoreError::Spill { clip: index, source })?;
    pixels::clip_frames(&jpegs, config.frames as usize, size, Device::Cpu)
        .map_err(|source| ScoreError::Frames { clip: index, source })
}

fn score_similarity(
    similarity: &Mutex<crate::models::Similarity>,
    size: i64,
    config: &ScoreConfig,
    clips: &mut [ClipPayload],
) -> Result<(), ScoreError> {
    let captioned: Vec<usize> = (0..clips.len()).filter(|&i| clips[i].record.caption.is_some()).collect();
    if captioned.is_empty() {
        return Ok(());
    }
    let frames = captioned.iter().map(|&i| frames_of(&clips[i], config, size)).collect::<Result<Vec<_>, _>>()?;
    let similarity = lock(similarity);
    let model = &similarity.model;
    let context = model.context_length();
    let mut ids = Vec::with_capacity(captioned.len() * context);
    for &i in &captioned {
        let clip = &clips[i];
        let caption = clip.record.caption.as_deref().unwrap_or_default();
        let tokens = similarity
            .tokenizer
            .tokenize(caption, context)
            .map_err(|e| ScoreError::Tokenize { clip: clip.record.clip_index, reason: e.to_string() })?;
        ids.extend(tokens);
    }
    let started = Instant::now();
    let video = model.embed_clips(&Tensor::stack(&frames, 0).to_device(model.device())).map_err(ScoreError::Model)?;
    let text = model
        .embed_texts(&Tensor::from_slice(&ids).view([captioned.len() as i64, context as i64]))
        .map_err(ScoreError::Model)?;
    let scores = (video * text).sum_dim_intlist(&[-1i64][..], false, Kind::Float).to_device(tch::Device::Cpu);
    metrics::observe_call("similarity", captioned.len(), started.elapsed());
    for (row, &i) in captioned.iter().enumerate() {
        clips[i].record.sim_score = Some(scores.double_value(&[row as i64]));
    }
    Ok(())
}

fn score_aesthetic(
    aesthetic: &Mutex<crate::models::Aesthetic>,
    size: i64,
    config: &ScoreConfig,
    clips: &mut [ClipPayload],
) -> Result<(), ScoreError> {
    let frames = clips.iter().map(|clip| frames_of(clip, config, size)).collect::<Result<Vec<_>, _>>()?;
    let per_clip = frames[0].size()[0];
    let aesthetic = lock(aesthetic);
    let started = Instant::now();
    let images = Tensor::cat(&frames, 0).to_device(aesthetic.clip.device());
    let scores = aesthetic
        .score_images(&images)
        .map_err(ScoreError::Model)?
        .view([clips.len() as i64, per_clip])
        .amax([1], false);
    metrics::observe_call("aesthetic", clips.len(), started.elapsed());
    for (row, clip) in clips.iter_mut().enumerate() {
        clip.record.aesthetic_score = Some(scores.double_value(&[row as i64]));
    }
    Ok(())
}

/// The filter: a clip below a threshold is dropped and counted by reason; unscored clips are kept.
fn keep(config: &ScoreConfig, clip: &ClipPayload) -> bool {
    let below = |score: Option<f64>, min: f64| score.is_some_and(|s| s < min);
    if below(clip.record.sim_score, config.min_similarity) {
        metrics::count_filtered("similarity");
        return false;
    }
    if below(clip.record.aesthetic_score, config.min_aesthetic) {
        metrics::count_filtered("aesthetic");
        return false;
    }
    true
}
