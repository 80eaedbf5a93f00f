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
    mut video: CuratedVideo,
) -> Result<CuratedVideo, ErrorRecord> {
    let fail = |error: ScoreError| ErrorRecord::for_request(Stage::Score, &video.request, &error);
    let batch = config.batch_size.max(1);
    for chunk in video.clips.chunks_mut(batch) {
        if let Some(similarity) = &models.similarity {
            score_similarity(similarity, models.similarity_size, config, chunk).map_err(&fail)?;
        }
        if let Some(aesthetic) = &models.aesthetic {
            score_aesthetic(aesthetic, models.aesthetic_size, config, chunk).map_err(&fail)?;
        }
    }
    video.clips.retain(|clip| keep(config, clip));
    Ok(video)
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
