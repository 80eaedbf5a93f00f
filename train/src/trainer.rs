//! The training loop: batches from the loader, ViCLIP forward (token masking in the masked phase), symmetric
//! InfoNCE with the learned temperature (optionally without same-video negatives), AdamW with gradient clipping,
//! checkpoints, one JSON line per step (loss, temperature, lr, samples/s, data-wait fraction) also published as
//! Prometheus metrics, and the loss curve in the summary (the CLI draws it).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::optim::{AdamW, AdamWConfig};
use clipstream_models::loss::info_nce;
use clipstream_models::viclip::Viclip;
use clipstream_models::{Arch, Tokenizer, weights};
use clipstream_store::Output;
use serde::Serialize;
use tch::nn::VarStore;
use tch::{Device, Tensor};

use super::checkpoint::{self, TrainState};
use clipstream_schemas::config::TrainConfig;

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
    pub batch: usize,
    pub same_video_pairs: u64,
    pub same_caption_pairs: u64,
    pub samples_per_s: f64,
    /// Fraction of the step's wall time spent waiting for data.
    pub data_wait: f64,
}

/// How a run went.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrainSummary {
    pub steps: u64,
    pub first_loss: f64,
    pub last_loss: f64,
    pub samples: u64,
    pub seconds: f64,
    pub samples_per_s: f64,
    pub data_wait: f64,
    pub same_video_pairs: u64,
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

/// Runs (or, with `resume`, continues) the training of `config`, logging to `log` (JSON lines).
pub fn train(config: &TrainConfig, resume: bool, log: &PathBuf) -> Result<TrainSummary, TrainError> {
    let device = Device::cuda_if_available();
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
            tracing::info!(step, batches, "resumed");
        }
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
    });
    let log_error = |source| TrainError::Log { path: log.display().to_string(), source };
    let mut log_file = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(log_error)?;
    let mut texts = TextCache::new(config.text_cache);
    let mut summary = TrainSummary { first_loss: f64::NAN, ..TrainSummary::default() };
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
        let ids = if config.same_caption_mask {
            Some(Tensor::from_slice(&batch.caption_ids))
        } else {
            config.same_video_mask.then(|| Tensor::from_slice(&batch.video_ids))
        };
        let loss = info_nce(&video, &text, &temp, ids.as_ref());
        optimizer.zero_grad();
        loss.backward();
        let grad_norm = optimizer.clip_grad_norm(config.grad_clip);
        optimizer.step(lr);
        step += 1;
        batches = batch.index + 1;
        let elapsed = step_started.elapsed().as_secs_f64();
        waited += wait;
        let line = StepLog {
            step,
            phase: if mask > 0.0 { "masked" } else { "unmasked" },
            loss: loss.double_value(&[]),
            temperature: temp.double_value(&[]),
            lr,
            grad_norm,
            batch: batch.len(),
            same_video_pairs: batch.same_video_pairs,
            same_caption_pairs: batch.same_caption_pairs,
            samples_per_s: batch.len() as f64 / elapsed.max(1e-9),
            data_wait: wait / elapsed.max(1e-9),
        };
        let json = serde_json::to_string(&line).map_err(TrainError::LogLine)?;
        writeln!(log_file, "{json}").map_err(log_error)?;
        metrics::observe(&line);
        summary.curve.push((step as f64, line.loss));
        if summary.first_loss.is_nan() {
            summary.first_loss = line.loss;
        }
        summary.last_loss = line.loss;
        summary.samples += batch.len() as u64;
        summary.same_video_pairs += batch.same_video_pairs;
        if let Some(store) = &store
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
