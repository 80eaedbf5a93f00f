//! The curate dataflow: source rows are routed by video id so each video (and so each shard) belongs to one
//! worker; the stages run as `stage` operators; curated videos end in the shard sink and every failure in the error
//! sink (and, with Kafka, the dead-letter topic). Two probes: `flow` (before the sinks, for backpressure) and
//! `durable` (after them: an epoch it has passed is stored, so its source offsets may be committed).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use clipstream_caption::Captioners;
use clipstream_core::{AsyncStageExt, Backoff, RouteByVideo, StageExt, Undurable};
use clipstream_input::fetch::Fetcher;
use clipstream_input::{FetchStage, FetchedVideo};
use clipstream_kafka::{DeadLetterExt, DeadLetters};
use clipstream_media::MediaStages;
use clipstream_schemas::{Config, CuratedVideo, ErrorRecord, ShardManifest, Stage};
use clipstream_sink::{ErrorSinkExt, ShardSink, ShardSinkExt};
use clipstream_store::{ErrorWriter, Output, Settled};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::Input;
use timely::dataflow::operators::core::{Concat, Concatenate, Inspect, Map, Probe};
use timely::dataflow::{InputHandle, ProbeHandle, Scope};

use super::admit::Admitter;
use super::inputs::SourceItem;
use super::metrics;
use super::progress::Counters;
use crate::torch::ModelStages;

/// The handle a driver feeds, and the probes it watches.
pub struct Handles {
    pub input: InputHandle<u64, CapacityContainerBuilder<Vec<SourceItem>>>,
    /// Passed an epoch once its videos reached the sinks.
    pub flow: ProbeHandle<u64>,
    /// Passed an epoch once its shards, error records and dead letters are stored.
    pub durable: ProbeHandle<u64>,
}

/// What every worker's dataflow shares.
#[derive(Clone)]
pub struct Shared {
    pub config: Arc<Config>,
    pub fetcher: Arc<Fetcher>,
    /// The score stage's models, loaded once per process; `None` when the stage is off.
    pub models: Option<Arc<dyn ModelStages>>,
    pub output: Arc<Output>,
    /// Video keys (and raw ids) already committed or permanently failed.
    pub settled: Arc<Settled>,
    pub counters: Arc<Counters>,
    pub run_id: String,
    /// Records the sinks gave up on (at shutdown); the Kafka driver commits no offsets while it is not 0.
    pub undurable: Undurable,
    /// Worker threads of this process.
    pub local_workers: usize,
}

/// Builds the dataflow in `scope`; `letters` (Kafka mode) dead-letters videos that fail after parsing; this
/// worker's `captioners` run the caption stage.
pub fn build<'scope>(
    scope: Scope<'scope, u64>,
    index: usize,
    shared: &Shared,
    letters: Option<Rc<RefCell<DeadLetters>>>,
    mut captioners: Captioners,
) -> Handles {
    let Shared { config, fetcher, models, output, settled, counters, run_id, undurable, local_workers } =
        shared.clone();
    let backoff = Backoff::of_sink(&config.sink);
    let mut input = InputHandle::<u64, CapacityContainerBuilder<Vec<SourceItem>>>::new();
    let (flow, durable) = (ProbeHandle::new(), ProbeHandle::new());
    let mut admitter = Admitter::new(settled, backoff);
    let skip_counters = counters.clone();
    let rows = scope.input_from(&mut input).route_by_video().flat_map(move |item: SourceItem| {
        let admission = admitter.admit(&item);
        metrics::count_source(admission.label());
        let routed = admission.route(item);
        if routed.is_none() {
            Counters::add(&skip_counters.skipped, 1);
        }
        routed
    });
    let (requests, e_source) = rows.stage(Stage::Source, |item| item);
    // Each worker starts its share of the process's downloads, so that every worker has videos once the first
    // downloads complete (the process-wide limit alone would hand them all to the worker that asked first).
    let fetch_share = config.fetch.concurrency.div_ceil(local_workers.max(1)).min(config.source.max_inflight_videos);
    let (fetched, e_fetch) = requests.fetch(fetcher, fetch_share);
    let fetched = fetched.inspect(|video: &FetchedVideo| metrics::count_fetched(video.fetched.bytes));
    let (framed, e_media) = fetched.media_stages(config.clone());
    let max_in_flight = config.source.max_inflight_videos;
    let (captioned, e_caption) =
        framed.async_stage(Stage::Caption, max_in_flight, abandoned(Stage::Caption), move |video, done| {
            captioners.start(video, move |result| done.finish(result))
        });
    // The process's score batcher pools the clips of every worker's videos into model batches; without a model the
    // stage passes videos on.
    let (curated, e_score) =
        captioned.async_stage(Stage::Score, max_in_flight, abandoned(Stage::Score), move |video, done| match &models {
            Some(models) => models.start_scoring(video, Box::new(move |result| done.finish(result))),
            None => done.finish(Ok(video)),
        });
    let shard_counters = counters.clone();
    let sink = ShardSink::new(output.as_ref().clone(), config.sink.clone());
    let (manifests, e_sink) = curated.probe_with(&flow).shard_sink_with(sink);
    let sink_counters = counters.clone();
    let e_sink = e_sink.inspect(move |_: &ErrorRecord| Counters::add(&sink_counters.videos_not_written, 1));
    manifests
        .inspect(move |m: &ShardManifest| {
            Counters::add(&shard_counters.videos_done, m.video_keys.len() as u64);
            Counters::add(&shard_counters.clips, m.clips);
            Counters::add(&shard_counters.shards, 1);
            Counters::add(&shard_counters.bytes, m.files.iter().map(|f| f.bytes).sum());
        })
        .probe_with(&durable);
    let error_counters = counters.clone();
    // Sink failures (a bad video, or every video of a shard that could not be committed) join the other errors: they
    // are stored in errors/ and dead-lettered before their epochs are released. Only the stages' errors count for
    // `flow` (backpressure): the sink's come out of the open shard, which holds its epochs until it fills, and
    // waiting for them would stall the source.
    let stage_errors = scope.concatenate(vec![e_source, e_fetch, e_media, e_caption, e_score]).probe_with(&flow);
    let errors =
        stage_errors.concat(e_sink).inspect(move |_: &ErrorRecord| Counters::add(&error_counters.videos_failed, 1));
    if let Some(letters) = letters {
        errors.clone().dead_letter(letters, backoff, undurable.clone()).probe_with(&durable);
    }
    let writer = ErrorWriter::new(output.as_ref().clone(), run_id, index).with_durability(backoff, undurable);
    errors.write_errors(writer).probe_with(&durable);
    Handles { input, flow, durable }
}

/// The record of a video whose work at `stage` ended without an answer (its task was dropped).
fn abandoned(stage: Stage) -> impl Fn(&CuratedVideo) -> ErrorRecord {
    move |video| {
        let reason = format!("the {stage} task of the video ended without an answer");
        let mut record = ErrorRecord::from_parts(stage, &video.video_id, &video.request.url, "stage.abandoned", reason);
        record.source = video.request.source;
        record
    }
}
