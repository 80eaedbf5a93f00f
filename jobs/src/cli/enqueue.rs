//! `clipstream enqueue`: reads a URL list (the file source's formats) and produces one JSON `VideoRequest` per
//! valid row to the `kafka` section's topic, keyed by the video id so one video always lands in one partition.
//! Invalid rows are reported, not produced. `--raw` sends each non-blank line unchanged (replaying dead letters,
//! testing bad messages).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::Args;
use clipstream_kafka::Producer;

use crate::config::ConfigArgs;
use crate::curate::open_inputs;

/// Messages queued between two waits for delivery reports.
const FLUSH_EVERY: usize = 1000;

#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// Lists (.txt .csv .tsv .jsonl .parquet), directories of videos, or video files (repeatable).
    #[arg(long, short = 'i', required = true)]
    input: Vec<PathBuf>,
    /// Send every non-blank line of the inputs as it is, without validation (key: none).
    #[arg(long)]
    raw: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Default, serde::Serialize)]
struct Report {
    topic: String,
    produced: usize,
    invalid: usize,
}

impl EnqueueArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = self.config.load()?.kafka;
        let mut producer = Producer::open(&config).context("connecting to Kafka")?;
        let mut report = Report { topic: config.topic.clone(), ..Report::default() };
        let mut send = |key: Option<&[u8]>, payload: &[u8], report: &mut Report| -> anyhow::Result<()> {
            producer.send(&config.topic, key, payload, &[]).context("producing")?;
            report.produced += 1;
            if producer.pending() >= FLUSH_EVERY {
                producer.flush().context("waiting for delivery reports")?;
            }
            Ok(())
        };
        if self.raw {
            for path in &self.input {
                let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
                for line in std::io::BufReader::new(file).split(b'\n') {
                    let line = line.with_context(|| format!("reading {}", path.display()))?;
                    if !line.trim_ascii().is_empty() {
                        send(None, line.trim_ascii_end(), &mut report)?;
                    }
                }
            }
        } else {
            for row in open_inputs(&self.input)? {
                match row {
                    Ok(mut request) => {
                        request.source = None;
                        let payload = serde_json::to_vec(&request).context("serialising a request")?;
                        send(Some(request.raw_id().as_bytes()), &payload, &mut report)?;
                    }
                    Err(record) => {
                        report.invalid += 1;
                        eprintln!("skipped: {}", record.reason);
                    }
                }
            }
        }
        producer.flush().context("waiting for delivery reports")?;
        outln!("{}", serde_json::to_string(&report)?)?;
        Ok(if report.invalid == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
    }
}
