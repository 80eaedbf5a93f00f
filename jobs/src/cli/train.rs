//! `clipstream train`: trains ViCLIP on the shards of a curate output (masked phase, then unmasked phase), with
//! clip-per-video sampling and optional same-video loss masking and DIV weights; checkpoints and `--resume`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::train::BatchMode;
use crate::train::config::{Precision, TrainConfig};
use crate::train::trainer::train;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Output root of `clipstream curate` with the training shards (directory or object_store URL).
    #[arg(long)]
    data: String,
    /// ViCLIP size: viclip-tiny, viclip-small (112 px, width 128, 4 layers: the synthetic benchmark), viclip-b16,
    /// viclip-l14.
    #[arg(long, default_value = "viclip-tiny")]
    arch: String,
    /// Start from these weights (safetensors, e.g. converted released ViCLIP).
    #[arg(long, default_value = "")]
    init: String,
    /// Train the text tower too (needed from scratch; ViCLIP keeps a pretrained one frozen).
    #[arg(long)]
    train_text: bool,
    #[arg(long, default_value_t = 8)]
    frames: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Clips in the shuffle buffer.
    #[arg(long, default_value_t = 1024)]
    buffer: usize,
    /// clip-per-video (a batch never holds two clips of one video) or naive (random batches).
    #[arg(long, value_enum, default_value_t = Sampling::ClipPerVideo)]
    sampling: Sampling,
    /// Remove same-video pairs from the InfoNCE negatives.
    #[arg(long)]
    same_video_mask: bool,
    /// DIV epochs (each clip weighted 1 / #clips of its video).
    #[arg(long)]
    div: bool,
    /// Steps of the masked phase.
    #[arg(long, default_value_t = 1000)]
    steps: u64,
    /// Steps of the unmasked phase that follows.
    #[arg(long, default_value_t = 100)]
    unmasked_steps: u64,
    #[arg(long, default_value_t = 0.9)]
    mask_ratio: f64,
    #[arg(long, default_value_t = 4e-4)]
    lr: f64,
    #[arg(long, default_value_t = 1e-6)]
    min_lr: f64,
    #[arg(long, default_value_t = 100)]
    warmup: u64,
    /// Learning-rate factor of the unmasked phase.
    #[arg(long, default_value_t = 0.01)]
    unmasked_lr_scale: f64,
    #[arg(long, default_value_t = 0.2)]
    weight_decay: f64,
    #[arg(long, default_value_t = 1.0)]
    grad_clip: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Checkpoint folder or object_store URL ("" = no checkpoints).
    #[arg(long, default_value = "")]
    checkpoints: String,
    #[arg(long, default_value_t = 500)]
    checkpoint_every: u64,
    /// auto (bf16 mixed precision on CUDA, fp32 on CPU), fp32, or bf16.
    #[arg(long, value_enum, default_value_t = Precision::Auto)]
    precision: Precision,
    /// Continue from the latest checkpoint in --checkpoints (same data and arch).
    #[arg(long)]
    resume: bool,
    /// Per-step log (JSON lines); the loss curve is written beside it as `.png`.
    #[arg(long, default_value = "train-log.jsonl")]
    log: PathBuf,
    /// Serve Prometheus /metrics here (e.g. 127.0.0.1:9899; port 0 picks one); "" = off.
    #[arg(long, default_value = "")]
    metrics_listen: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Sampling {
    ClipPerVideo,
    Naive,
}

impl TrainArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = TrainConfig {
            data: self.data,
            arch: self.arch,
            init: self.init,
            train_text: self.train_text,
            frames: self.frames,
            batch_size: self.batch_size,
            buffer: self.buffer,
            sampling: match self.sampling {
                Sampling::ClipPerVideo => BatchMode::ClipPerVideo,
                Sampling::Naive => BatchMode::Naive,
            },
            same_video_mask: self.same_video_mask,
            div: self.div,
            steps: self.steps,
            unmasked_steps: self.unmasked_steps,
            mask_ratio: self.mask_ratio,
            lr: self.lr,
            min_lr: self.min_lr,
            warmup: self.warmup,
            unmasked_lr_scale: self.unmasked_lr_scale,
            weight_decay: self.weight_decay,
            grad_clip: self.grad_clip,
            seed: self.seed,
            checkpoints: self.checkpoints,
            checkpoint_every: self.checkpoint_every,
            precision: self.precision,
        };
        anyhow::ensure!(config.batch_size >= 2, "--batch-size must be >= 2 (contrastive loss)");
        anyhow::ensure!((0.0..1.0).contains(&config.mask_ratio), "--mask-ratio must be in [0, 1)");
        if !self.metrics_listen.is_empty() {
            let addr = crate::metrics_server::serve(&self.metrics_listen)?;
            tracing::info!(%addr, "serving /metrics");
        }
        let summary = train(&config, self.resume, &self.log)?;
        println!("{}", serde_json::to_string_pretty(&summary)?);
        Ok(ExitCode::SUCCESS)
    }
}
