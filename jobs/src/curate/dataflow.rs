//! The curate dataflow: source rows are routed by video id so each video (and so each shard) belongs to one
//! worker; the stages run as `stage` operators; curated videos end in the shard sink and every failure in the error
//! sink (and, with Kafka, the dead-letter topic). Two probes: `flow` (before the sinks, for backpressure) and
//! `durable` (after them: an epoch it has passed is stored, so its source offsets may be committed).

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;

use clipstream_caption::Captioners;
use clipstream_core::{RouteByVideo, StageExt};
use clipstream_input::fetch::Fetcher;
use clipstream_kafka::{DeadLetterExt, DeadLetters};
use clipstream_schemas::{CurateConfig, CuratedVideo, ErrorRecord, ShardManifest, Stage};
use clipstream_score::ScoreModels;
use clipstream_sink::{ErrorSinkExt, Output, ShardSinkExt};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::Input;
use timely::dataflow::operators::core::{Concatenate, Inspect, Map, Probe};
use timely::dataflow::{InputHandle, ProbeHandle, Scope};

use super::inputs::SourceItem;
use super::metrics;
use super::progress::Counters;
use super::video;

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
    pub config: Arc<CurateConfig>,
    pub fetcher: Arc<Fetcher>,
    /// The score stage's models, loaded once per process.
    pub models: ScoreModels,
    pub output: Arc<Output>,
    /// Video keys (and raw ids) already committed or permanently failed.
    pub done: Arc<HashSet<String>>,
    pub counters: Arc<Counters>,
    pub run_id: String,
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
    let Shared { config, fetcher, models, output, done, counters, run_id } = shared.clone();
    let mut input = InputHandle::<u64, CapacityContainerBuilder<Vec<SourceItem>>>::new();
    let (flow, durable) = (ProbeHandle::new(), ProbeHandle::new());
    let mut seen = HashSet::new();
    let skip_counters = counters.clone();
    let rows = scope.input_from(&mut input).route_by_video().flat_map(move |item: SourceItem| {
        let outcome = match &item {
            Ok(request) => {
                let key = request.key().map(|k| k.to_string()).unwrap_or_default();
                if done.contains(&key) || done.contains(&request.raw_id()) {
                    "skipped_done"
                } else if !seen.insert(key) {
                    "duplicate"
                } else {
                    "accepted"
                }
            }
            Err(record) if done.contains(&record.video_id) => "skipped_done",
            Err(_) => "invalid",
        };
        metrics::count_source(outcome);
        let fresh = matches!(outcome, "accepted" | "invalid");
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
    let (framed, e_frames) = cut.stage(Stage::Frames, move |v| video::frame_video(&c, v));
    let (captioned, e_caption) = framed.stage(Stage::Caption, move |v| captioners.caption_video(v));
    let c = config.clone();
    let (curated, e_score) =
        captioned.stage(Stage::Score, move |v| clipstream_score::score_video(&models, &c.score, v));
    let (sink_counters, shard_counters) = (counters.clone(), counters.clone());
    curated
        .inspect(move |v: &CuratedVideo| {
            Counters::add(&sink_counters.videos_done, 1);
            Counters::add(&sink_counters.clips, v.clips.len() as u64);
        })
        .probe_with(&flow)
        .shard_sink(output.clone(), config.sink.clone())
        .inspect(move |m: &ShardManifest| {
            Counters::add(&shard_counters.shards, 1);
            Counters::add(&shard_counters.bytes, m.files.iter().map(|f| f.bytes).sum());
        })
        .probe_with(&durable);
    let error_counters = counters.clone();
    let errors = scope
        .concatenate(vec![e_source, e_fetch, e_probe, e_scene, e_clip, e_frames, e_caption, e_score])
        .inspect(move |_: &ErrorRecord| Counters::add(&error_counters.videos_failed, 1))
        .probe_with(&flow);
    if let Some(letters) = letters {
        errors.clone().dead_letter(letters).probe_with(&durable);
    }
    errors.error_sink(output, run_id, index).probe_with(&durable);
    Handles { input, flow, durable }
}
