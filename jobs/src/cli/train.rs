//! `clipstream train`: trains ViCLIP on the shards of a curate output (masked phase, then unmasked phase), with
//! clip-per-video sampling and optional same-video loss masking and DIV weights; checkpoints and `--resume`. The
//! run's settings are the `[train]` section of the layered config; the flags people type daily are shorthands for
//! its keys. The training itself runs in `clipstream-torch` (see [`crate::torch`]).

use std::path::PathBuf;

use clap::Args;
use clipstream_schemas::config::{Flip, TrainConfig};

use crate::config::ConfigArgs;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// `--config FILE` and `--set train.key=value` (e.g. `--set train.lr=2e-3`): every key of `[train]`, see
    /// `clipstream check-config --print-defaults`.
    #[command(flatten)]
    config: ConfigArgs,
    /// Shorthand for train.data: output root of `clipstream curate` with the training shards.
    #[arg(long)]
    data: Option<String>,
    /// Shorthand for train.arch: viclip-tiny, viclip-small, viclip-small-t2, viclip-small-t2-p28, viclip-b16,
    /// viclip-l14.
    #[arg(long)]
    arch: Option<String>,
    /// Shorthand for train.init: start from these weights (safetensors).
    #[arg(long)]
    init: Option<String>,
    /// Shorthand for train.train_text = true: train the text tower too (needed from scratch).
    #[arg(long)]
    train_text: bool,
    /// Shorthand for train.frames.
    #[arg(long)]
    frames: Option<usize>,
    /// Shorthand for train.batch_size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Shorthand for train.steps (the masked phase).
    #[arg(long)]
    steps: Option<u64>,
    /// Shorthand for train.mask_ratio: tokens dropped in the masked phase (0.9 for ViT-B/L; small models need
    /// less, see the README).
    #[arg(long)]
    mask_ratio: Option<f64>,
    /// Shorthand for train.flip: off, or swap-words (flip half the clips and swap left/right in their captions).
    #[arg(long, value_parser = parse_flip)]
    flip: Option<Flip>,
    /// Shorthand for train.seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Shorthand for train.checkpoints: checkpoint folder or object_store URL.
    #[arg(long)]
    checkpoints: Option<String>,
    /// Continue from the latest checkpoint in train.checkpoints (same data and arch).
    #[arg(long)]
    pub resume: bool,
    /// Per-step log (JSON lines); the loss curve is written beside it as `.png`.
    #[arg(long, default_value = "train-log.jsonl")]
    pub log: PathBuf,
    /// Serve Prometheus /metrics here (e.g. 127.0.0.1:9899; port 0 picks one); "" = off.
    #[arg(long, default_value = "")]
    pub metrics_listen: String,
}

impl TrainArgs {
    /// The `[train]` section: defaults, file, environment and `--set`, then the shorthand flags.
    pub fn train_config(&self) -> anyhow::Result<TrainConfig> {
        let mut config = self.config.load()?;
        let train = &mut config.train;
        if let Some(data) = &self.data {
            train.data.clone_from(data);
        }
        if let Some(arch) = &self.arch {
            train.arch.clone_from(arch);
        }
        if let Some(init) = &self.init {
            train.init.clone_from(init);
        }
        train.train_text |= self.train_text;
        train.frames = self.frames.unwrap_or(train.frames);
        train.batch_size = self.batch_size.unwrap_or(train.batch_size);
        train.steps = self.steps.unwrap_or(train.steps);
        train.seed = self.seed.unwrap_or(train.seed);
        train.mask_ratio = self.mask_ratio.unwrap_or(train.mask_ratio);
        train.flip = self.flip.unwrap_or(train.flip);
        if let Some(checkpoints) = &self.checkpoints {
            train.checkpoints.clone_from(checkpoints);
        }
        config.validate()?;
        anyhow::ensure!(!config.train.data.is_empty(), "train.data is not set (--data or --set train.data=...)");
        anyhow::ensure!(
            config.train.train_text || !config.train.init.is_empty(),
            "the text tower would stay frozen at random weights: train it too (--train-text, for training from \
             scratch) or start from trained weights (--init FILE)"
        );
        Ok(config.train)
    }
}

/// `--flip`: the names of `train.flip` (off, swap-words).
fn parse_flip(name: &str) -> Result<Flip, String> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| format!("{name:?} is not a flip mode (off, swap-words)"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        train: TrainArgs,
    }

    fn config_of(args: &[&str]) -> anyhow::Result<TrainConfig> {
        let cli = Cli::try_parse_from(std::iter::once("train").chain(args.iter().copied()))?;
        cli.train.train_config()
    }

    #[test]
    fn shorthands_win_over_set_and_the_rest_comes_from_the_section() {
        let config = config_of(&[
            "--data",
            "shards",
            "--train-text",
            "--set",
            "train.lr=2e-3",
            "--set",
            "train.batch_size=8",
            "--batch-size",
            "16",
            "--set",
            "train.sampling=naive",
        ])
        .unwrap();
        assert_eq!((config.data.as_str(), config.batch_size, config.lr), ("shards", 16, 2e-3));
        assert_eq!(config.sampling, clipstream_schemas::config::BatchMode::Naive);
        assert_eq!(config.unmasked_steps, TrainConfig::default().unmasked_steps);
        let config =
            config_of(&["--data", "d", "--train-text", "--flip", "swap-words", "--mask-ratio", "0.5"]).unwrap();
        assert_eq!((config.flip, config.mask_ratio), (Flip::SwapWords, 0.5));
        assert!(config_of(&["--data", "d", "--train-text", "--flip", "mirror"]).is_err());
    }

    #[test]
    fn a_run_without_data_or_with_bad_values_is_refused() {
        let error = config_of(&[]).unwrap_err();
        assert!(error.to_string().contains("train.data"), "{error:#}");
        let error = config_of(&["--data", "d", "--train-text", "--batch-size", "1"]).unwrap_err();
        assert!(format!("{error:#}").contains("train.batch_size"), "{error:#}");
        let error = config_of(&["--data", "d"]).unwrap_err();
        assert!(error.to_string().contains("frozen at random weights"), "{error:#}");
        assert!(config_of(&["--data", "d", "--init", "viclip.safetensors"]).is_ok());
    }
}
