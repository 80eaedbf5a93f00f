//! The training data stream: committed shards read epoch after epoch, optionally DIV-filtered, batched by the
//! clip sampler, decoded and augmented on `threads` threads into ready batches behind a bounded queue (so the
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

use clipstream_models::preprocess::{FrameTransform, Resize};
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
    /// Threads decoding and augmenting a batch (0 = one less than the cores, at least 1).
    pub threads: usize,
    /// DIV epochs: each clip kept with probability min(1, λ / #clips of its video), λ set so an epoch holds about
    /// one clip per video.
    pub div: bool,
    pub seed: u64,
    /// Batches already trained on (resume).
    pub skip: u64,
    /// Batches decoded ahead.
    pub prefetch: usize,
    /// This rank's share of the shards: shard `i` (in name order) is read by rank `i % world`. A video's clips
    /// are all in one shard, so clip-per-video batches of different ranks never share a video.
    pub rank: usize,
    pub world: usize,
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
    /// Per row: an id of its video (equal for rows of one video, on every rank: a hash of the video key).
    pub video_ids: Vec<i64>,
    /// Pairs of rows from one video (0 with clip-per-video sampling).
    pub same_video_pairs: u64,
    /// Per row: an id of its caption (equal for equal captions, on every rank: a hash of the text).
    pub caption_ids: Vec<i64>,
    /// Pairs of rows with the same caption (false negatives of each other, whichever videos they come from).
    pub same_caption_pairs: u64,
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
    let all_shards = committed_shards(&output)?;
    let shards: Vec<String> = all_shards
        .iter()
        .enumerate()
        .filter(|(i, _)| i % config.world.max(1) == config.rank)
        .map(|(_, s)| s.clone())
        .collect();
    if shards.is_empty() {
        return Err(TrainError::NoShardsForRank { rank: config.rank, world: config.world, shards: all_shards.len() });
    }
    let div = if config.div {
        let counts = captioned_clips_per_video(&output, &shards)?;
        let videos = counts.len() as f64;
        Some(DivWeights::new(counts, videos, config.seed))
    } else {
        None
    };
    let threads = match config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
        n => n,
    };
    let augment = Augment {
        transform: FrameTransform::new(config.size, config.frames, Resize::VICLIP),
        flip: config.flip,
        threads,
        // Ranks draw different crops for their n-th batches.
        seed: config.seed ^ (config.rank as u64).wrapping_mul(0xD1B5_4A32_D192_ED03),
    };
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
            let ready = prepare(&augment, batch, index, epoch);
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

/// Decodes and augments one batch on `threads` threads; each clip draws its crop and flip from its own stream of
/// the batch's seed, so the batch is the same whatever the thread count. A flipped clip's caption has its
/// left/right words swapped; a clip whose frames do not decode is left out with a warning.
fn prepare(augment: &Augment, batch: Vec<Sample>, index: u64, epoch: u64) -> Batch {
    let pairs = same_video_pairs(&batch);
    let one = |position: usize, sample: &Sample| -> Option<(Vec<f32>, String)> {
        let mut rng = ChaCha8Rng::seed_from_u64(augment.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.set_stream(position as u64);
        let flipped = augment.flip == Flip::SwapWords && rng.random_bool(0.5);
        match augment.transform.train(&sample.frames, flipped, &mut rng) {
            Ok(pixels) => Some((pixels, if flipped { swap_sides(&sample.caption) } else { sample.caption.clone() })),
            Err(error) => {
                tracing::warn!(clip = %sample.key, %error, "frames could not be decoded; clip left out of its batch");
                None
            }
        }
    };
    let chunk = batch.len().div_ceil(augment.threads.max(1)).max(1);
    let prepared: Vec<Option<(Vec<f32>, String)>> = std::thread::scope(|scope| {
        let parts: Vec<_> = batch
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                let one = &one;
                scope.spawn(move || part.iter().enumerate().map(|(i, s)| one(c * chunk + i, s)).collect::<Vec<_>>())
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    let mut out = Batch {
        index,
        epoch,
        frames: Vec::with_capacity(batch.len() * augment.transform.clip_len()),
        captions: Vec::with_capacity(batch.len()),
        video_ids: Vec::with_capacity(batch.len()),
        same_video_pairs: pairs,
        caption_ids: Vec::with_capacity(batch.len()),
        same_caption_pairs: 0,
    };
    for (sample, prepared) in batch.iter().zip(prepared) {
        let Some((pixels, caption)) = prepared else { continue };
        out.frames.extend(pixels);
        out.video_ids.push(stable_id(&sample.video_key));
        out.same_caption_pairs += out.captions.iter().filter(|c| **c == caption).count() as u64;
        out.caption_ids.push(stable_id(&caption));
        out.captions.push(caption);
    }
    out
}

/// A 63-bit FNV-1a hash of `text`: the same in every process and build, so ids compare across ranks.
pub fn stable_id(text: &str) -> i64 {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (hash >> 1) as i64
}

/// How the loader turns samples into model input.
struct Augment {
    transform: FrameTransform,
    flip: Flip,
    threads: usize,
    seed: u64,
}
