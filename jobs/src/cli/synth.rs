//! `clipstream synth`: procedural multi-shot videos with known cut frames and per-shot captions.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use clipstream_media::synth::{SynthSpec, write_dataset};

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output directory for `{name}.mp4` files and `ground_truth.jsonl`.
    #[arg(long)]
    out: PathBuf,
    /// Number of videos.
    #[arg(long, default_value_t = 8)]
    videos: usize,
    /// Seed; the same seed writes the same videos.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl SynthArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let spec = SynthSpec { seed: self.seed, videos: self.videos, ..SynthSpec::default() };
        let videos = write_dataset(&spec, &self.out).with_context(|| format!("writing to {}", self.out.display()))?;
        let shots: usize = videos.iter().map(|v| v.shots.len()).sum();
        println!("wrote {} videos ({shots} shots) and ground_truth.jsonl to {}", videos.len(), self.out.display());
        Ok(ExitCode::SUCCESS)
    }
}
