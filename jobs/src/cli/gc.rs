//! `clipstream gc`: removes shard files that no manifest references (left by a crash between upload and commit).

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::out::outln;
use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Output root (directory, file://, s3://bucket/prefix, ...).
    #[arg(long)]
    output: String,
    /// Only remove orphans older than this many seconds, so a running job's in-flight shard survives.
    #[arg(long, default_value_t = 3600)]
    min_age_s: u64,
    /// List what would be removed without removing it.
    #[arg(long)]
    dry_run: bool,
}

impl GcArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let output =
            clipstream_store::Output::open(&self.output).with_context(|| format!("opening {}", self.output))?;
        let report = clipstream_store::gc(&output, Duration::from_secs(self.min_age_s), self.dry_run)
            .context("collecting orphans")?;
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
        Ok(ExitCode::SUCCESS)
    }
}
