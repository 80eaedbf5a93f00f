//! `run`: one curate job. Lists what the output already holds, starts the timely workers, builds each worker's
//! dataflow and drives it from list files or Kafka, then writes the run summary and `_stats.json`.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use clipstream_caption::{CaptionError, Captioners};
use clipstream_core::{Backoff, Undurable};
use clipstream_input::fetch::Fetcher;
use clipstream_input::source::parse_message;
use clipstream_kafka::DeadLetters;
use clipstream_kafka::source::{self, Feed, KafkaRun};
use clipstream_schemas::Config;
use clipstream_store::index::OpenOptions;
use clipstream_store::{Output, Settled};

use super::dataflow::{Shared, build};
use super::files_source::{self, SharedRows};
use super::inputs::open_inputs;
use super::progress::{Counters, Progress};
use super::summary::Summary;
use super::usage::Snapshot;

/// Where the videos to curate come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// List files, directories of videos, video files.
    Files(Vec<PathBuf>),
    /// The `kafka` section's topic; `until_empty` stops at the high watermarks instead of running until SIGTERM.
    Kafka { until_empty: bool },
}

/// What `clipstream curate` was asked to do.
#[derive(Debug, Clone)]
pub struct CurateOptions {
    pub source: Source,
    pub output: String,
    pub config: Config,
    /// timely's own arguments (`-w N`, `-n`, `-p`, `-h`).
    pub timely_args: Vec<String>,
    /// Worker threads per process and processes, as in `timely_args` (for the summary).
    pub workers: usize,
    pub processes: usize,
    /// This process's index in the cluster (process 0 prepares the settled index).
    pub process: usize,
}

/// Runs the job to completion and returns the run summary.
pub fn run(options: CurateOptions) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let usage_start = Snapshot::take();
    // First: without libtorch in this binary, a run with a score model continues in clipstream-torch from here.
    let models = crate::torch::load(&options.config.score)?;
    let run_id = format!(
        "{}-{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0),
        std::process::id()
    );
    let timely_config = timely::Config::from_args(options.timely_args.iter().cloned())
        .map_err(|e| anyhow::anyhow!("timely arguments {:?}: {e}", options.timely_args))?;
    let total_workers = options.workers * options.processes;
    let output = Arc::new(Output::open(&options.output).with_context(|| format!("opening output {}", options.output))?);
    let settled = open_settled(&output, &options.config, options.process == 0)?;
    // Downloads, cut clips and spooled shards of crashed runs on this host.
    let fetch_temp = &options.config.fetch.temp_dir;
    clipstream_core::sweep_stale_scratch(&std::env::temp_dir());
    if !fetch_temp.as_os_str().is_empty() {
        clipstream_core::sweep_stale_scratch(fetch_temp);
    }
    let rows: Arc<SharedRows> = Arc::new(Mutex::new(match &options.source {
        Source::Files(inputs) => Some(open_inputs(inputs)?),
        Source::Kafka { .. } => None,
    }));
    let stop = Arc::new(AtomicBool::new(false));
    if matches!(options.source, Source::Kafka { .. }) {
        drain_on_signals(&stop)?;
    }
    let counters = Arc::new(Counters::default());
    let undurable = Undurable::default();
    let shared = Shared {
        config: Arc::new(options.config.clone()),
        fetcher: Arc::new(fetcher(&options)?),
        models,
        output,
        settled: Arc::new(settled),
        counters: counters.clone(),
        run_id: run_id.clone(),
        undurable: undurable.clone(),
        local_workers: options.workers,
    };
    let progress = Progress::start(counters.clone());
    let source = options.source.clone();
    let guards = timely::execute(timely_config, move |worker| -> anyhow::Result<()> {
        let index = worker.index();
        let config = shared.config.clone();
        let captioners = captioners(&shared).context("building the captioners")?;
        match &source {
            Source::Files(_) => {
                let handles = worker.dataflow::<u64, _, _>(|scope| build(scope, index, &shared, None, captioners));
                files_source::drive(worker, handles, &rows, &config.source, &shared.counters);
            }
            Source::Kafka { until_empty } => {
                let letters = DeadLetters::open(&config.kafka)
                    .context("opening the dead-letter producer")?
                    .map(|letters| Rc::new(RefCell::new(letters)));
                let handles =
                    worker.dataflow::<u64, _, _>(|scope| build(scope, index, &shared, letters.clone(), captioners));
                let run = KafkaRun {
                    config: &config.kafka,
                    batch_size: config.source.batch_size,
                    epochs_in_flight: config.source.epochs_in_flight(worker.peers()),
                    until_empty: *until_empty,
                    stop: &stop,
                    output: &shared.output,
                    backoff: Backoff::of_sink(&config.sink),
                    undurable: &shared.undurable,
                    parse: parse_message,
                    rows: &shared.counters.rows,
                };
                let feed = Feed { input: handles.input, flow: handles.flow, durable: handles.durable };
                source::drive(worker, feed, run, letters.as_deref()).context("the Kafka source")?;
            }
        }
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("starting timely workers: {e}"))?;
    for result in guards.join() {
        result.map_err(|e| anyhow::anyhow!("a worker panicked: {e}"))?.context("a worker failed")?;
    }
    drop(progress);
    let seconds = started.elapsed().as_secs_f64();
    let not_stored = undurable.count();
    let usage = Snapshot::take().usage_since(&usage_start, seconds);
    let summary =
        Summary::from_counters(&run_id, &options.output, &counters, not_stored, seconds, total_workers, usage);
    let output = Output::open(&options.output).with_context(|| format!("opening output {}", options.output))?;
    clipstream_store::write_run_summary(&output, &run_id, &summary).context("writing the run summary")?;
    if options.process == 0 {
        clipstream_store::write_dataset_stats(&output).context("writing _stats.json")?;
    }
    Ok(summary)
}

/// The videos earlier runs settled (committed; permanently failed unless `source.retry_errors`), from the index
/// under `index/`; `first_process` initializes and compacts it first.
pub fn open_settled(output: &Output, config: &Config, first_process: bool) -> anyhow::Result<Settled> {
    let options = OpenOptions {
        include_failed: !config.source.retry_errors,
        cache_bytes: config.sink.index_cache_bytes as usize,
    };
    clipstream_store::index::open_for_job(output, first_process, config.sink.index_compact_deltas, options)
        .context("opening the settled-video index (index/)")
}

/// The fetcher: Kafka messages are untrusted (local files only under `fetch.local_roots`, buckets only in
/// `fetch.allow_buckets`); the operator's own lists may name any file.
fn fetcher(options: &CurateOptions) -> anyhow::Result<Fetcher> {
    let config = options.config.fetch.clone();
    let fetcher = match options.source {
        Source::Files(_) => Fetcher::new(config),
        Source::Kafka { .. } => Fetcher::new_untrusted(config),
    };
    fetcher.context("building the fetcher")
}

/// One worker's caption backends (`tags` shares the process's score model).
fn captioners(shared: &Shared) -> Result<Captioners, CaptionError> {
    let config = &shared.config;
    Captioners::from_config(&config.caption, |_| match &shared.models {
        Some(models) => models.tags_captioner(&config.caption.tags, config.score.frames as usize),
        None => Err(CaptionError::Setup(
            "the tags captioner needs the score model (score.similarity and score.weights)".into(),
        )),
    })
}

/// SIGTERM/SIGINT set `stop` (drain and commit); a second one exits at once.
fn drain_on_signals(stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, stop.clone())
            .and_then(|_| signal_hook::flag::register(signal, stop.clone()))
            .context("installing the shutdown signal handlers")?;
    }
    Ok(())
}
