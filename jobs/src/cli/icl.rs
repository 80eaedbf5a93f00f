//! `clipstream icl`: InternVid-ICL interleaved video-text sequences (formats a, b, c) as jsonl.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::dataset::icl::{IclFormat, IclOptions, icl};

/// The InternVid-ICL formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IclFormatArg {
    /// Clips and captions of one video in temporal order, each clip's video dropped with --drop-prob.
    A,
    /// As a, plus each clip's ASR text when present.
    B,
    /// Two a-sequences of different videos concatenated.
    C,
}

#[derive(Debug, Args)]
pub struct IclArgs {
    /// Dataset root (directory or URL) or metadata file (clip parquet, InternVid jsonl/parquet).
    #[arg(long, short = 'i')]
    input: String,
    /// The jsonl to write (schema in the README and `jobs/src/dataset/icl.rs`).
    #[arg(long, short = 'o')]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = IclFormatArg::A)]
    format: IclFormatArg,
    /// Probability that a clip's video item is left out (its caption stays).
    #[arg(long, default_value_t = 0.3)]
    drop_prob: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Buckets of the on-disk group-by by video (memory is about the input size / buckets).
    #[arg(long, default_value_t = 64)]
    group_buckets: usize,
    /// Folder for the group-by's temporary files (default: the system temp directory).
    #[arg(long)]
    temp_dir: Option<PathBuf>,
}

impl IclArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        anyhow::ensure!((0.0..=1.0).contains(&self.drop_prob), "--drop-prob must be in [0, 1]");
        let format = match self.format {
            IclFormatArg::A => IclFormat::A,
            IclFormatArg::B => IclFormat::B,
            IclFormatArg::C => IclFormat::C,
        };
        let options = IclOptions {
            input: self.input.clone(),
            format,
            drop_prob: self.drop_prob,
            seed: self.seed,
            out: self.out,
            buckets: self.group_buckets,
            temp_dir: self.temp_dir.unwrap_or_default(),
        };
        let summary = icl(&options).with_context(|| format!("building ICL sequences from {}", self.input))?;
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
        Ok(ExitCode::SUCCESS)
    }
}
