//! `clipstream subset`: DIV, FLT, aesthetics and random subsets of clip metadata, optionally resharded.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::ConfigArgs;
use crate::dataset::subset::{SubsetMode, SubsetOptions, subset};

#[derive(Debug, Subcommand)]
pub enum SubsetKind {
    /// N clips, each weighted 1/(clips of its video), drawn without replacement (InternVid-10M-DIV).
    Div {
        #[arg(long)]
        n: usize,
    },
    /// DIV sampling over the top fraction by similarity score, within duration bounds (InternVid-10M-FLT).
    Flt {
        #[arg(long)]
        n: usize,
        /// Fraction of the clips (by sim_score) sampled from.
        #[arg(long, default_value_t = 0.3)]
        top: f64,
        #[arg(long, default_value_t = 1.0)]
        min_duration_s: f64,
        #[arg(long, default_value_t = 120.0)]
        max_duration_s: f64,
    },
    /// Every clip with aesthetic_score >= MIN (InternVid-Aes).
    Aesthetics {
        #[arg(long, default_value_t = 4.0)]
        min: f64,
    },
    /// N clips uniformly at random, without replacement.
    Random {
        #[arg(long)]
        n: usize,
    },
}

#[derive(Debug, Args)]
pub struct SubsetArgs {
    #[command(subcommand)]
    kind: SubsetKind,
    /// Dataset root (directory or URL) or metadata file (clip parquet, InternVid jsonl/parquet).
    #[arg(long, short = 'i', global = true)]
    input: Option<String>,
    /// The selected clips: `.parquet` (clip columns, an input of every dataset tool) or `.jsonl`.
    #[arg(long, short = 'o', global = true)]
    out: Option<PathBuf>,
    /// Seed of the random draws; the same seed gives the same subset.
    #[arg(long, default_value_t = 0, global = true)]
    seed: u64,
    /// Also write the selected clips as new shards under this output root (needs a dataset input).
    #[arg(long, global = true)]
    reshard: Option<String>,
    /// The summary JSON (default: OUT with `.summary.json` appended).
    #[arg(long, global = true)]
    summary: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
}

impl SubsetArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let input = self.input.context("--input is required")?;
        let out = self.out.context("--out is required")?;
        let mode = match self.kind {
            SubsetKind::Div { n } => SubsetMode::Div { n },
            SubsetKind::Flt { n, top, min_duration_s, max_duration_s } => {
                anyhow::ensure!(top > 0.0 && top <= 1.0, "--top must be in (0, 1], not {top}");
                anyhow::ensure!(min_duration_s <= max_duration_s, "--min-duration-s exceeds --max-duration-s");
                SubsetMode::Flt { n, top, min_duration_s, max_duration_s }
            }
            SubsetKind::Aesthetics { min } => SubsetMode::Aesthetics { min },
            SubsetKind::Random { n } => SubsetMode::Random { n },
        };
        let sink = self.config.load()?.sink;
        let summary_path = self.summary.unwrap_or_else(|| {
            let mut name = out.as_os_str().to_owned();
            name.push(".summary.json");
            PathBuf::from(name)
        });
        let options = SubsetOptions { input: input.clone(), mode, seed: self.seed, out, reshard: self.reshard, sink };
        let summary = subset(&options).with_context(|| format!("subsetting {input}"))?;
        let json = serde_json::to_string_pretty(&summary)?;
        std::fs::write(&summary_path, &json).with_context(|| format!("writing {}", summary_path.display()))?;
        outln!("{json}")?;
        Ok(ExitCode::SUCCESS)
    }
}
