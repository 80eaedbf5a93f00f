//! The curate dataflow: worker 0 reads the inputs into epochs of `source.batch_size` rows; rows are routed by
//! video id so each video (and so each shard) belongs to one worker; the stages run as `stage` operators; curated
//! videos end in the shard sink and every failure in the error sink.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use clipstream_core::{StageExt, route_hash};
use clipstream_input::fetch::Fetcher;
use clipstream_schemas::{CurateConfig, CuratedVideo, ErrorRecord, ShardManifest, Stage};
use clipstream_sink::{ErrorSinkExt, Output, ShardSinkExt};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::Input;
use timely::dataflow::operators::core::{Concatenate, Exchange, Inspect, Map, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};

use super::inputs::{SourceItem, open_inputs};
use super::progress::{Counters, Progress};
use super::summary::Summary;
use super::video;

/// What `clipstream curate` was asked to do.
#[derive(Debug, Clone)]
pub struct CurateOptions {
    pub inputs: Vec<PathBuf>,
    pub output: String,
    pub config: CurateConfig,
    /// timely's own arguments (`-w N`, `-n`, `-p`, `-h`).
    pub timely_args: Vec<String>,
    /// Worker threads per process and processes, as in `timely_args` (for the summary).
    pub workers: usize,
    pub processes: usize,
}

type SharedSource = Mutex<Option<Box<dyn Iterator<Item = SourceItem> + Send>>>;

fn item_route(item: &SourceItem) -> u64 {
    match item {
        Ok(request) => route_hash(&request.raw_id()),
        Err(record) => route_hash(&record.url),
    }
}

/// Runs the dataflow to completion and returns the run summary.
pub fn run(options: CurateOptions) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let run_id = format!(
        "{}-{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0),
        std::process::id()
    );
    let timely_config = timely::Config::from_args(options.timely_args.iter().cloned())
        .map_err(|e| anyhow::anyhow!("timely arguments {:?}: {e}", options.timely_args))?;
    let total_workers = options.workers * options.processes;
    let output = Arc::new(Output::open(&options.output).with_context(|| format!("opening output {}", options.output))?);
    let mut done = clipstream_sink::committed_videos(&output).context("listing committed manifests")?;
    if !options.config.source.retry_errors {
        done.extend(clipstream_sink::permanent_failures(&output).context("listing earlier error records")?);
    }
    tracing::info!(already_done = done.len(), "videos already in the output are skipped");
    let done = Arc::new(done);
    let source: Arc<SharedSource> = Arc::new(Mutex::new(Some(open_inputs(&options.inputs)?)));
    let fetcher = Arc::new(Fetcher::new(options.config.fetch.clone()).context("building the fetcher")?);
    let config = Arc::new(options.config.clone());
    let counters = Arc::new(Counters::default());
    let progress = Progress::start(counters.clone());

    let (worker_counters, worker_run) = (counters.clone(), run_id.clone());
    let guards = timely::execute(timely_config, move |worker| {
        let (index, peers) = (worker.index(), worker.peers());
        let mut input = InputHandle::<u64, CapacityContainerBuilder<Vec<SourceItem>>>::new();
        let probe = ProbeHandle::new();
        let (config, fetcher, output, done, counters) =
            (config.clone(), fetcher.clone(), output.clone(), done.clone(), worker_counters.clone());
        let run_id = worker_run.clone();
        worker.dataflow::<u64, _, _>(|scope| {
            let mut seen = HashSet::new();
            let skip_counters = counters.clone();
            let rows = scope.input_from(&mut input).exchange(item_route).flat_map(move |item: SourceItem| {
                let fresh = match &item {
                    Ok(request) => {
                        let key = request.key().map(|k| k.to_string()).unwrap_or_default();
                        !done.contains(&key) && !done.contains(&request.raw_id()) && seen.insert(key)
                    }
                    Err(record) => !done.contains(&record.video_id),
                };
                if !fresh {
                    Counters::add(&skip_counters.skipped, 1);
                }
                fresh.then_some(item)
            });
            let (requests, e_source) = rows.stage(Stage::Source, |item| item);
            let (fetched, e_fetch) = requests.stage(Stage::Fetch, move |r| video::fetch(&fetcher, r));
            let c = config.clone();
            let (probed, e_probe) = fetched.stage(Stage::Probe, move |v| video::probe_video(&c, v));
            let c = config.clone();
            let (planned, e_scene) = probed.stage(Stage::SceneCut, move |v| video::plan_video(&c, v));
            let c = config.clone();
            let (cut, e_clip) = planned.stage(Stage::Clip, move |v| video::cut_video(&c, v));
            let c = config.clone();
            let (curated, e_frames) = cut.stage(Stage::Frames, move |v| video::frame_video(&c, v));
            let sink_counters = counters.clone();
            let shard_counters = counters.clone();
            curated
                .inspect(move |v: &CuratedVideo| {
                    Counters::add(&sink_counters.videos_done, 1);
                    Counters::add(&sink_counters.clips, v.clips.len() as u64);
                })
                .probe_with(&probe)
                .shard_sink(output.clone(), config.sink.clone())
                .inspect(move |m: &ShardManifest| {
                    Counters::add(&shard_counters.shards, 1);
                    Counters::add(&shard_counters.bytes, m.files.iter().map(|f| f.bytes).sum());
                });
            let error_counters = counters.clone();
            scope
                .concatenate(vec![e_source, e_fetch, e_probe, e_scene, e_clip, e_frames])
                .inspect(move |_: &ErrorRecord| Counters::add(&error_counters.videos_failed, 1))
                .probe_with(&probe)
                .error_sink(output.clone(), run_id.clone(), index);
        });

        if index == 0 {
            let rows = source.lock().ok().and_then(|mut s| s.take());
            let in_flight = 2 * peers as u64;
            for (n, item) in rows.into_iter().flatten().enumerate() {
                Counters::add(&counters.rows, 1);
                input.send(item);
                if (n + 1) % config.source.batch_size == 0 {
                    let next = *input.time() + 1;
                    input.advance_to(next);
                    while probe.less_than(&next.saturating_sub(in_flight)) {
                        worker.step();
                    }
                }
            }
        }
        drop(input);
        while worker.step() {}
    })
    .map_err(|e| anyhow::anyhow!("starting timely workers: {e}"))?;
    for result in guards.join() {
        result.map_err(|e| anyhow::anyhow!("a worker failed: {e}"))?;
    }
    drop(progress);
    let summary =
        Summary::from_counters(&run_id, &options.output, &counters, started.elapsed().as_secs_f64(), total_workers);
    let output = Output::open(&options.output).with_context(|| format!("opening output {}", options.output))?;
    clipstream_sink::write_run_summary(&output, &run_id, &summary).context("writing the run summary")?;
    clipstream_sink::write_dataset_stats(&output).context("writing _stats.json")?;
    Ok(summary)
}
