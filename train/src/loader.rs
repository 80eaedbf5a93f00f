//! The training data stream: committed shards read epoch after epoch, optionally DIV-filtered, batched by the
//! clip sampler, decoded and augmented on a background thread into ready batches behind a bounded queue (so the
//! model never waits while there is read-ahead). Deterministic given the seed: batch `n` is the same in every run,
//! which is what makes `--resume` exact (the first `skip` batches are formed but not decoded).

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use clipstream_store::Output;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use clipstream_store::committed_shards;
use clipstream_store::read::{Position, Sample, ShardReader, captioned_clips_per_video};

use crate::error::TrainError;

use clipstream_schemas::config::BatchMode;

use clipstream_models::preprocess::FrameTransform;
use clipstream_schemas::config::Flip;
use rand::Rng;

use super::flip::swap_sides;
use super::{ClipSampler, DivWeights, same_video_pairs};

/// What the loader reads and how it batches.
#[derive(Debug, Clone)]
pub struct LoaderConfig {
    pub data: String,
    pub frames: usize,
    pub size: usize,
    pub batch_size: usize,
    pub buffer: usize,
    pub mode: BatchMode,
    pub flip: Flip,
    /// DIV epochs: each clip kept with probability min(1, λ / #clips of its video), λ set so an epoch holds about
    /// one clip per video.
    pub div: bool,
    pub seed: u64,
    /// Batches already trained on (resume).
    pub skip: u64,
    /// Batches decoded ahead.
    pub prefetch: usize,
}

/// One batch, ready for the model.
#[derive(Debug)]
pub struct Batch {
    /// 0-based position in the stream.
    pub index: u64,
    pub epoch: u64,
    /// `[B, T, 3, S, S]` normalised pixels, row-major.
    pub frames: Vec<f32>,
    pub captions: Vec<String>,
    /// Per row: the index of its video within the batch's distinct videos (rows sharing one share the index).
    pub video_ids: Vec<i64>,
    /// Pairs of rows from one video (0 with clip-per-video sampling).
    pub same_video_pairs: u64,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.captions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.captions.is_empty()
    }
}

/// Starts the loader thread; batches (or the error that stopped it) arrive on the receiver, forever (epochs
/// repeat) until the receiver is dropped.
pub fn spawn(config: LoaderConfig) -> (Receiver<Result<Batch, TrainError>>, JoinHandle<()>) {
    let (tx, rx) = sync_channel(config.prefetch.max(1));
    let handle = std::thread::spawn(move || {
        if let Err(error) = run(&config, &tx) {
            let _ = tx.send(Err(error));
        }
    });
    (rx, handle)
}

fn run(config: &LoaderConfig, tx: &SyncSender<Result<Batch, TrainError>>) -> Result<(), TrainError> {
    let output = Output::open(&config.data)?;
    let shards = committed_shards(&output)?;
    let div = if config.div {
        let counts = captioned_clips_per_video(&output, &shards)?;
        let videos = counts.len() as f64;
        Some(DivWeights::new(counts, videos, config.seed))
    } else {
        None
    };
    let transform = FrameTransform::new(config.size, config.frames);
    let mut next = 0_u64;
    for epoch in 0_u64.. {
        let mut sampler = ClipSampler::new(config.buffer, config.mode, config.seed.wrapping_add(epoch));
        let mut emitted_this_epoch = 0;
        let mut emit = |batch: Vec<Sample>| -> bool {
            let index = next;
            next += 1;
            emitted_this_epoch += 1;
            if index < config.skip || batch.len() < 2 {
                return true;
            }
            let ready = prepare(&transform, config.flip, batch, index, epoch, config.seed);
            ready.len() < 2 || tx.send(Ok(ready)).is_ok()
        };
        for sample in ShardReader::new(output.clone(), shards.clone(), Position::default()) {
            let sample = match sample {
                Ok(sample) => sample,
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "a shard could not be read; going on");
                    continue;
                }
            };
            if div.as_ref().is_some_and(|d| !d.keep(epoch, &sample.video_key, &sample.key)) {
                continue;
            }
            sampler.push(sample);
            while sampler.ready(config.batch_size) {
                let Some(batch) = sampler.next_batch(config.batch_size) else { break };
                if !emit(batch) {
                    return Ok(());
                }
            }
        }
        for batch in sampler.drain(config.batch_size) {
            if !emit(batch) {
                return Ok(());
            }
        }
        if emitted_this_epoch == 0 {
            return Err(TrainError::EmptyEpoch(config.data.clone()));
        }
    }
    Ok(())
}

/// Decodes and augments one batch (augmentation seeded by the batch index; a flipped clip's caption has its
/// left/right words swapped); a clip whose frames do not decode is left out with a warning.
fn prepare(transform: &FrameTransform, flip: Flip, batch: Vec<Sample>, index: u64, epoch: u64, seed: u64) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let pairs = same_video_pairs(&batch);
    let mut videos: Vec<String> = Vec::new();
    let mut out = Batch {
        index,
        epoch,
        frames: Vec::with_capacity(batch.len() * transform.clip_len()),
        captions: Vec::with_capacity(batch.len()),
        video_ids: Vec::with_capacity(batch.len()),
        same_video_pairs: pairs,
    };
    for sample in batch {
        let flipped = flip == Flip::SwapWords && rng.random_bool(0.5);
        let pixels = match transform.train(&sample.frames, flipped, &mut rng) {
            Ok(pixels) => pixels,
            Err(error) => {
                tracing::warn!(clip = %sample.key, %error, "frames could not be decoded; clip left out of its batch");
                continue;
            }
        };
        out.frames.extend(pixels);
        let id = videos.iter().position(|v| *v == sample.video_key).unwrap_or_else(|| {
            videos.push(sample.video_key.clone());
            videos.len() - 1
        });
        out.video_ids.push(id as i64);
        out.captions.push(if flipped { swap_sides(&sample.caption) } else { sample.caption });
    }
    out
}
