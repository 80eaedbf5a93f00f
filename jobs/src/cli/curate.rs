//! `clipstream curate --input X --output Y`: runs the curation dataflow on the embedded default (list files or
//! directories in, local directory or object-store URL out); `--source kafka` reads the `kafka` section's topic
//! instead, until SIGTERM or, with `--until-empty`, until its partitions are read to their ends.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::out;
use clap::Args;

use crate::config::ConfigArgs;
use crate::curate::{CurateOptions, Source, run};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SourceKind {
    /// `--input` list files, directories and video files.
    Files,
    /// The topic of the `kafka` config section (JSON VideoRequest messages).
    Kafka,
}

#[derive(Debug, Args)]
pub struct CurateArgs {
    /// Where requests come from.
    #[arg(long, value_enum, default_value_t = SourceKind::Files)]
    source: SourceKind,
    /// Inputs: list files (.txt .csv .jsonl .parquet), directories of videos, or video files (repeatable).
    #[arg(long, short = 'i', required_if_eq("source", "files"))]
    input: Vec<PathBuf>,
    /// With `--source kafka`: stop once every owned partition is read up to the high watermark it had at start
    /// (tests, backfills) instead of running until SIGTERM.
    #[arg(long)]
    until_empty: bool,
    /// Output root: a directory, file://, s3://bucket/prefix, gs://..., az://...
    #[arg(long, short = 'o')]
    output: String,
    /// timely worker threads per process.
    #[arg(short = 'w', long, default_value_t = 1)]
    workers: usize,
    /// timely processes in the cluster.
    #[arg(short = 'n', long, default_value_t = 1)]
    processes: usize,
    /// This process's index in the cluster.
    #[arg(short = 'p', long, default_value_t = 0)]
    process: usize,
    /// timely hostfile (one host:port per process) for cluster mode.
    #[arg(long)]
    hostfile: Option<PathBuf>,
    /// Prometheus endpoint address (overrides metrics.listen; "" disables).
    #[arg(long)]
    metrics_listen: Option<String>,
    #[command(flatten)]
    config: ConfigArgs,
}

impl CurateArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let mut config = self.config.load()?;
        crate::torch::require(&config.score)?;
        if let Some(listen) = self.metrics_listen {
            config.metrics.listen = listen;
        }
        if !config.metrics.listen.is_empty() {
            let addr = crate::metrics_server::serve_or_any_port(&config.metrics.listen)?;
            tracing::info!("metrics on http://{addr}/metrics");
        }
        let mut timely_args = vec!["-w".to_string(), self.workers.to_string()];
        if self.processes > 1 {
            timely_args.extend([
                "-n".to_string(),
                self.processes.to_string(),
                "-p".to_string(),
                self.process.to_string(),
            ]);
            if let Some(hostfile) = &self.hostfile {
                timely_args.extend(["-h".to_string(), hostfile.display().to_string()]);
            }
        }
        let source = match self.source {
            SourceKind::Files => Source::Files(self.input),
            SourceKind::Kafka if !self.input.is_empty() => anyhow::bail!("--input is for --source files"),
            SourceKind::Kafka => Source::Kafka { until_empty: self.until_empty },
        };
        let summary = run(CurateOptions {
            source,
            output: self.output,
            config,
            timely_args,
            workers: self.workers,
            processes: self.processes,
            process: self.process,
        })?;
        out!("{}", summary.render())?;
        Ok(if summary.output_failed() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    }
}
