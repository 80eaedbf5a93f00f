//! The score stage: for every clip of a video, the video-text similarity of its caption (cosine of normalised
//! embeddings, `config.frames` uniform frames) and the aesthetic score (max over the same frames), in batches of
//! `batch_size` clips; then the filter drops clips under `min_similarity` / `min_aesthetic` (counted). The JPEGs
//! of a batch are decoded and transformed on a CPU thread while the model runs the batch before it; a model's lock
//! covers tokenizing, the copy to the model's device and the forward pass.

use std::ops::Range;
use std::time::Instant;

use clipstream_schemas::config::ScoreConfig;
use clipstream_schemas::error::StageError;
use clipstream_schemas::{ClipPayload, CuratedVideo, ErrorRecord, Jpeg, Stage};
use tch::{Device, Kind, Tensor};

use crate::metrics;
use crate::models::{ScoreModels, lock};
use crate::pixels;
use clipstream_models::preprocess::{FrameError, Resize};

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
/// their videos. One result per video, in order. The pixels of the next batch are prepared on a CPU thread while
/// the model runs the current one. A batch that fails is scored again video by video, so a clip that cannot be
/// scored (a corrupt frame) fails only its own video.
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
    let batch = config.batch_size.max(1);
    let chunks: Vec<Range<usize>> = (0..pool.len()).step_by(batch).map(|s| s..(s + batch).min(pool.len())).collect();
    let scored = overlapped(&chunks, |range| prepare(models, config, &pool[range]), |inputs| run(models, inputs));
    let mut failures: Vec<Option<ScoreError>> = shells.iter().map(|_| None).collect();
    for (range, outcome) in chunks.into_iter().zip(scored) {
        match outcome {
            Ok(scores) => scores.apply(&mut pool[range]),
            // Each video's part of the batch on its own (a video's clips are contiguous in the pool).
            Err(_) => {
                let mut from = range.start;
                while from < range.end {
                    let owner = owners[from];
                    let to = (from..range.end).find(|&i| owners[i] != owner).unwrap_or(range.end);
                    if failures[owner].is_none() {
                        match prepare(models, config, &pool[from..to]).and_then(|inputs| run(models, inputs)) {
                            Ok(scores) => scores.apply(&mut pool[from..to]),
                            Err(error) => failures[owner] = Some(error),
                        }
                    }
                    from = to;
                }
            }
        }
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

/// `run(prepare(chunk))` for every chunk, in order, preparing chunk k + 1 on a scoped thread while chunk k runs.
fn overlapped<I: Send, O>(
    chunks: &[Range<usize>],
    prepare: impl Fn(Range<usize>) -> Result<I, ScoreError> + Sync,
    run: impl Fn(I) -> Result<O, ScoreError>,
) -> Vec<Result<O, ScoreError>> {
    std::thread::scope(|scope| {
        let (ready, prepared) = std::sync::mpsc::sync_channel(1);
        let prepare = &prepare;
        scope.spawn(move || {
            for range in chunks {
                if ready.send(prepare(range.clone())).is_err() {
                    break;
                }
            }
        });
        prepared.into_iter().map(|inputs| inputs.and_then(&run)).collect()
    })
}

/// One batch's model inputs, decoded and transformed on the CPU (in pinned memory when the model is on CUDA).
struct Inputs {
    similarity: Option<SimilarityInputs>,
    /// Frames of every clip [N * T, 3, S, S] and T.
    aesthetic: Option<(Tensor, i64)>,
    clips: usize,
}

/// The similarity model's part of a batch.
struct SimilarityInputs {
    /// The rows of the batch with a caption.
    rows: Vec<usize>,
    /// Their frames [N, T, 3, S, S].
    frames: Tensor,
    /// Their (clip index, caption).
    captions: Vec<(u32, String)>,
}

/// What a batch's models said, per clip of the batch.
struct Scores {
    similarity: Vec<(usize, f64)>,
    aesthetic: Vec<f64>,
}

impl Scores {
    fn apply(self, clips: &mut [ClipPayload]) {
        for (row, score) in self.similarity {
            clips[row].record.sim_score = Some(score);
        }
        for (clip, score) in clips.iter_mut().zip(self.aesthetic) {
            clip.record.aesthetic_score = Some(score);
        }
    }
}

/// Decodes and transforms the frames of `clips` for the configured models.
fn prepare(models: &ScoreModels, config: &ScoreConfig, clips: &[ClipPayload]) -> Result<Inputs, ScoreError> {
    let similarity = match &models.similarity {
        Some(_) => {
            let captioned: Vec<usize> = (0..clips.len()).filter(|&i| clips[i].record.caption.is_some()).collect();
            let frames = captioned
                .iter()
                .map(|&i| frames_of(&clips[i], config, models.similarity_input))
                .collect::<Result<Vec<_>, _>>()?;
            let captions = captioned
                .iter()
                .map(|&i| (clips[i].record.clip_index, clips[i].record.caption.clone().unwrap_or_default()))
                .collect();
            (!captioned.is_empty()).then(|| SimilarityInputs {
                rows: captioned,
                frames: pinned(Tensor::stack(&frames, 0), models.device),
                captions,
            })
        }
        None => None,
    };
    let aesthetic = match &models.aesthetic {
        Some(_) if !clips.is_empty() => {
            let frames = clips
                .iter()
                .map(|clip| frames_of(clip, config, models.aesthetic_input))
                .collect::<Result<Vec<_>, _>>()?;
            let per_clip = frames[0].size()[0];
            Some((pinned(Tensor::cat(&frames, 0), models.device), per_clip))
        }
        _ => None,
    };
    Ok(Inputs { similarity, aesthetic, clips: clips.len() })
}

/// `batch` in page-locked memory when it goes to a CUDA device (so the copy can overlap), else as it is.
fn pinned(batch: Tensor, device: Device) -> Tensor {
    match device {
        Device::Cuda(_) => batch.pin_memory(device),
        _ => batch,
    }
}

/// `batch` on `device`, copied without blocking the host when it is pinned.
fn on_device(batch: &Tensor, device: Device) -> Tensor {
    batch.to_device_(device, batch.kind(), device.is_cuda(), false)
}

/// Runs the configured models on one prepared batch.
fn run(models: &ScoreModels, inputs: Inputs) -> Result<Scores, ScoreError> {
    let mut scores = Scores { similarity: Vec::new(), aesthetic: Vec::new() };
    if let (Some(similarity), Some(SimilarityInputs { rows, frames, captions })) =
        (&models.similarity, inputs.similarity)
    {
        let similarity = lock(similarity);
        let model = &similarity.model;
        let context = model.context_length();
        let mut ids = Vec::with_capacity(rows.len() * context);
        for (clip, caption) in &captions {
            let tokens = similarity
                .tokenizer
                .tokenize(caption, context)
                .map_err(|e| ScoreError::Tokenize { clip: *clip, reason: e.to_string() })?;
            ids.extend(tokens);
        }
        let started = Instant::now();
        let video = model.embed_clips(&on_device(&frames, model.device())).map_err(ScoreError::Model)?;
        let text = model
            .embed_texts(&Tensor::from_slice(&ids).view([rows.len() as i64, context as i64]))
            .map_err(ScoreError::Model)?;
        let values = (video * text).sum_dim_intlist(&[-1i64][..], false, Kind::Float).to_device(Device::Cpu);
        metrics::observe_call("similarity", rows.len(), started.elapsed());
        scores.similarity = rows.iter().enumerate().map(|(n, &row)| (row, values.double_value(&[n as i64]))).collect();
    }
    if let (Some(aesthetic), Some((frames, per_clip))) = (&models.aesthetic, inputs.aesthetic) {
        let aesthetic = lock(aesthetic);
        let started = Instant::now();
        let values = aesthetic
            .score_images(&on_device(&frames, aesthetic.clip.device()))
            .map_err(ScoreError::Model)?
            .view([inputs.clips as i64, per_clip])
            .amax([1], false);
        metrics::observe_call("aesthetic", inputs.clips, started.elapsed());
        scores.aesthetic = (0..inputs.clips).map(|row| values.double_value(&[row as i64])).collect();
    }
    Ok(scores)
}

/// The model input of one clip, on the CPU (decoded and transformed without any model lock).
fn frames_of(clip: &ClipPayload, config: &ScoreConfig, input: (i64, Resize)) -> Result<Tensor, ScoreError> {
    let index = clip.record.clip_index;
    let jpegs = clip.frames_jpeg.iter().map(Jpeg::bytes).collect::<Result<Vec<_>, _>>();
    let jpegs = jpegs.map_err(|source| ScoreError::Spill { clip: index, source })?;
    pixels::clip_frames(&jpegs, config.frames as usize, input, Device::Cpu)
        .map_err(|source| ScoreError::Frames { clip: index, source })
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
