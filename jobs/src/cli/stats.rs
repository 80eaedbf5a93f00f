//! `clipstream stats`: histograms, actionness and top words of a dataset, as JSON, PNG plots and an HTML page.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::Args;

use crate::dataset::stats::{StatsOptions, stats};

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Dataset root (directory or URL) or metadata file (clip parquet, InternVid jsonl/parquet).
    #[arg(long, short = 'i')]
    input: String,
    /// Folder for stats.json, the PNG plots and index.html.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Captions sampled (uniformly) for the part-of-speech tagger.
    #[arg(long, default_value_t = 100_000)]
    sample: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Rows of the top-words tables.
    #[arg(long, default_value_t = 30)]
    top: usize,
    /// Python interpreter with textblob and lemminflect (default: $CLIPSTREAM_PYTHON, else python3).
    #[arg(long)]
    python: Option<String>,
    /// Skip the actionness analysis (no Python needed).
    #[arg(long)]
    no_actionness: bool,
}

impl StatsArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let options = StatsOptions {
            input: self.input.clone(),
            out_dir: self.out.clone(),
            sample: self.sample,
            seed: self.seed,
            top: self.top,
            python: self.python,
            actionness: !self.no_actionness,
        };
        let report = stats(&options).with_context(|| format!("computing the stats of {}", self.input))?;
        let mut brief = serde_json::json!({
            "clips": report.collected.clips,
            "videos": report.collected.videos,
            "hours": report.collected.hours,
            "plots": report.plots,
            "out": self.out.display().to_string(),
        });
        if let Some(a) = &report.actionness {
            brief["distinct_verbs"] = a.distinct_verbs.into();
            brief["verbs_per_caption"] = a.verbs_per_caption.into();
        }
        outln!("{}", serde_json::to_string_pretty(&brief)?)?;
        Ok(ExitCode::SUCCESS)
    }
}
