//! The training loop: batches from the loader, ViCLIP forward (token masking in the masked phase), symmetric
//! InfoNCE with the learned temperature (optionally without same-video negatives), AdamW with gradient clipping,
//! checkpoints, one JSON line per step (loss, temperature, lr, samples/s, data-wait fraction) also published as
//! Prometheus metrics, and the loss curve in the summary (the CLI draws it).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::optim::{AdamW, AdamWConfig};
use clipstream_models::viclip::Viclip;
use clipstream_models::{Arch, Tokenizer, weights};
use clipstream_store::Output;
use serde::Serialize;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::checkpoint::{self, TrainState};
use crate::ddp::DataParallel;
use crate::step::{Embedded, optimize};
use clipstream_schemas::config::{PositionInit, TrainConfig};

use super::config::{compute_kind, schedule};
use super::loader::{self, Batch, LoaderConfig};
use super::metrics;
use super::text_cache::TextCache;
use crate::error::TrainError;

/// One step's log line.
#[derive(Debug, Clone, Serialize)]
pub struct StepLog {
    pub step: u64,
    pub phase: &'static str,
    pub loss: f64,
    pub temperature: f64,
    pub lr: f64,
    pub grad_norm: f64,
    /// Clips of this rank's batch.
    pub batch: usize,
    /// Clips of the batch over all ranks (the InfoNCE's negatives).
    pub global_batch: usize,
    /// Pairs of clips of one video in the global batch.
    pub same_video_pairs: u64,
    pub same_caption_pairs: u64,
    pub samples_per_s: f64,
    /// Fraction of the step's wall time spent waiting for data.
    pub data_wait: f64,
    /// Seconds of the step spent waiting for collectives (gathers, and the gradient sums still running after
    /// the backward pass; 0 in a one-process run).
    pub comm_s: f64,
    /// Gradient buckets summed over ranks, and how many of them started during the backward pass.
    pub buckets: usize,
    pub buckets_early: usize,
}

/// How a run went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrainSummary {
    /// This process's rank and the number of ranks (0 and 1 in a one-process run).
    pub rank: usize,
    pub world: usize,
    pub steps: u64,
    pub first_loss: f64,
    pub last_loss: f64,
    pub samples: u64,
    pub seconds: f64,
    pub samples_per_s: f64,
    pub data_wait: f64,
    pub same_video_pairs: u64,
    /// Seconds in collectives, over all steps.
    pub comm_seconds: f64,
    pub checkpoint: Option<String>,
    /// The loss curve of this run's steps (PNG beside the log), once the caller has drawn `curve` there.
    pub loss_curve: Option<String>,
    /// (step, loss) of every step of this run.
    #[serde(skip)]
    pub curve: Vec<(f64, f64)>,
}

/// A ViCLIP of `config.arch` on `device`, text tower frozen unless `train_text`.
pub fn build_model(config: &TrainConfig, device: Device) -> Result<(VarStore, Viclip), TrainError> {
    let Arch::Viclip(mut arch) = Arch::by_name(&config.arch)? else {
        return Err(TrainError::NotViclip(config.arch.clone()));
    };
    arch.mask_ratio = config.mask_ratio;
    arch.freeze_text = !config.train_text;
    let mut vs = VarStore::new(device);
    let mut model = Viclip::new(&vs.root(), arch);
    model.set_compute_kind(compute_kind(config.precision, device));
    if config.init.is_empty() {
        tch::no_grad(|| {
            let _ = model.temp.fill_(config.temperature);
        });
        if config.position_init == PositionInit::Sincos {
            model.vision.init_sincos_positions();
        }
    } else {
        weights::load(&mut vs, std::path::Path::new(&config.init))?;
    }
    if !config.train_text {
        for (name, var) in vs.variables() {
            if name.starts_with("text_encoder.") {
                let _ = var.set_requires_grad(false);
            }
        }
    }
    Ok((vs, model))
}

/// Runs (or, with `resume`, continues) the training of `config`, logging to `log` (JSON lines). Launched as one
/// rank of several (torchrun's variables), it trains data-parallel with the others: rank 0 writes the log and
/// the checkpoints, every rank reads its share of the shards and can resume from the shared checkpoints.
pub fn train(config: &TrainConfig, resume: bool, log: &PathBuf) -> Result<TrainSummary, TrainError> {
    let (mut dp, device) = match DataParallel::join(config)? {
        Some((dp, device)) => (Some(dp), device),
        None => (None, Device::cuda_if_available()),
    };
    let (rank, world) = dp.as_ref().map_or((0, 1), |dp| (dp.rank(), dp.world()));
    tch::manual_seed(config.seed as i64);
    let (vs, model) = build_model(config, device)?;
    let mut optimizer = AdamW::new(&vs, AdamWConfig { weight_decay: config.weight_decay, ..AdamWConfig::default() });
    let store = if config.checkpoints.is_empty() { None } else { Some(Output::open(&config.checkpoints)?) };
    let (mut step, mut batches) = (0, 0);
    if resume {
        let store = store.as_ref().ok_or(TrainError::ResumeWithoutCheckpoints)?;
        if let Some(loaded) = checkpoint::load_latest(store)? {
            if loaded.state.config.arch != config.arch || loaded.state.config.data != config.data {
                return Err(TrainError::OtherRun {
                    arch: loaded.state.config.arch.clone(),
                    data: loaded.state.config.data.clone(),
                });
            }
            copy_into(&vs, &loaded.model)?;
            optimizer.load_state(&loaded.optimizer).map_err(TrainError::OptimizerState)?;
            (step, batches) = (loaded.state.step, loaded.state.batches);
            tracing::info!(step, batches, rank, "resumed");
        }
    }
    if let Some(dp) = &mut dp {
        dp.prepare(&vs)?;
        // Each rank masks its clips' tokens with its own random stream.
        tch::manual_seed(config.seed as i64 + rank as i64);
    }
    let tokenizer = Tokenizer::clip()?;
    let context = model.text.config().context_length as usize;
    let image = model.vision.config().image_size as usize;
    let (rx, _loader) = loader::spawn(LoaderConfig {
        data: config.data.clone(),
        frames: config.frames,
        size: image,
        batch_size: config.batch_size,
        buffer: config.buffer,
        mode: config.sampling,
        flip: config.flip,
        threads: config.loader_threads,
        div: config.div,
        seed: config.seed,
        skip: batches,
        prefetch: 4,
        rank,
        world,
    });
    let leader = rank == 0;
    let log_error = |source| TrainError::Log { path: log.display().to_string(), source };
    let mut log_file = if leader {
        Some(std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(log_error)?)
    } else {
        None
    };
    let mut texts = TextCache::new(config.text_cache);
    let mut summary = TrainSummary { first_loss: f64::NAN, rank, world, ..TrainSummary::default() };
    let started = Instant::now();
    let mut waited = 0.0;
    while step < config.total_steps() {
        let step_started = Instant::now();
        let batch: Batch = rx.recv().map_err(|_| TrainError::LoaderStopped)??;
        let wait = step_started.elapsed().as_secs_f64();
        let (lr, mask) = schedule(config, step);
        let size = image as i64;
        let frames = Tensor::from_slice(&batch.frames)
            .view([batch.len() as i64, config.frames as i64, 3, size, size])
            .to_device(device);
        let video = model.vision.encode_video(&frames, mask, true)?;
        let text = if config.train_text {
            model.encode_text(&tokens(&tokenizer, &batch.captions, context, device)?, true)?
        } else {
            texts.embed(&model, &tokenizer, &batch.captions, context, device)?
        };
        let temp = model.temperature();
        let mask_ids = if config.same_caption_mask {
            Some(Tensor::from_slice(&batch.caption_ids))
        } else {
            config.same_video_mask.then(|| Tensor::from_slice(&batch.video_ids))
        };
        let (global_batch, same_video_pairs, same_caption_pairs) = match &mut dp {
            Some(dp) => global_pairs(dp, &batch, device)?,
            None => (batch.len(), batch.same_video_pairs, batch.same_caption_pairs),
        };
        let embedded = Embedded { video, text, mask_ids };
        let stepped = optimize(embedded, &temp, &mut optimizer, (lr, config.grad_clip), dp.as_mut())?;
        let comm_s = dp.as_mut().map_or(0.0, DataParallel::take_comm_seconds);
        let (buckets_early, buckets) = dp.as_ref().map_or((0, 0), DataParallel::buckets);
        step += 1;
        batches = batch.index + 1;
        let elapsed = step_started.elapsed().as_secs_f64();
        waited += wait;
        let line = StepLog {
            step,
            phase: if mask > 0.0 { "masked" } else { "unmasked" },
            loss: stepped.loss,
            temperature: temp.double_value(&[]),
            lr,
            grad_norm: stepped.grad_norm,
            batch: batch.len(),
            global_batch,
            same_video_pairs,
            same_caption_pairs,
            samples_per_s: batch.len() as f64 / elapsed.max(1e-9),
            data_wait: wait / elapsed.max(1e-9),
            comm_s,
            buckets,
            buckets_early,
        };
        if let Some(file) = &mut log_file {
            let json = serde_json::to_string(&line).map_err(TrainError::LogLine)?;
            writeln!(file, "{json}").map_err(log_error)?;
        }
        metrics::observe(&line, world, elapsed);
        summary.curve.push((step as f64, line.loss));
        if summary.first_loss.is_nan() {
            summary.first_loss = line.loss;
        }
        summary.last_loss = line.loss;
        summary.samples += batch.len() as u64;
        summary.same_video_pairs += same_video_pairs;
        summary.comm_seconds += comm_s;
        if let Some(store) = store.as_ref().filter(|_| leader)
            && (step % config.checkpoint_every.max(1) == 0 || step == config.total_steps())
        {
            let state = TrainState { step, batches, config: config.clone() };
            let model_tensors: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
            summary.checkpoint = Some(checkpoint::save(store, &state, &model_tensors, &optimizer.state())?);
        }
    }
    summary.steps = step;
    summary.seconds = started.elapsed().as_secs_f64();
    summary.samples_per_s = summary.samples as f64 / summary.seconds.max(1e-9);
    summary.data_wait = waited / summary.seconds.max(1e-9);
    Ok(summary)
}

/// The global batch size and its same-video and same-caption pairs, from all ranks' ids.
fn global_pairs(dp: &mut DataParallel, batch: &Batch, device: Device) -> Result<(usize, u64, u64), TrainError> {
    let mut pairs = |ids: &[i64]| -> Result<(usize, u64), TrainError> {
        let all = dp.gather_rows(&Tensor::from_slice(ids).to_device(device))?.all;
        let n = all.size()[0];
        let equal = all.unsqueeze(1).eq_tensor(&all.unsqueeze(0)).sum(Kind::Int64).int64_value(&[]);
        Ok((n as usize, ((equal - n) / 2) as u64))
    };
    let (n, videos) = pairs(&batch.video_ids)?;
    let (_, captions) = pairs(&batch.caption_ids)?;
    Ok((n, videos, captions))
}

/// Copies checkpoint tensors into the model's variables by name (all must be present).
pub fn copy_into(vs: &VarStore, tensors: &std::collections::BTreeMap<String, Tensor>) -> Result<(), TrainError> {
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            let source = tensors.get(&name).ok_or_else(|| TrainError::MissingTensor(name.clone()))?;
            var.copy_(&source.to_kind(var.kind()).to_device(var.device()));
        }
        Ok(())
    })
}

/// Token ids [B, context] of `captions`.
pub fn tokens(
    tokenizer: &Tokenizer,
    captions: &[String],
    context: usize,
    device: Device,
) -> Result<Tensor, TrainError> {
    let ids = tokenizer.tokenize_batch(captions, context)?;
    Ok(Tensor::from_slice(&ids).view([captions.len() as i64, context as i64]).to_device(device))
}
