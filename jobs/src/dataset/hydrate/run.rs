//! `run`: the hydrate job. Pass 1 groups the listed rows by video on disk (see [`crate::dataset::group`]); then a
//! feeder thread reads the groups one bucket at a time and hands videos not yet in the output to a bounded pool of
//! worker threads; the calling thread writes their results into shards (the curate sink: manifests last, whole
//! videos per shard) and every failure into `errors/`. Re-running skips committed videos and permanent failures,
//! exactly as curate does.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clipstream_input::fetch::Fetcher;
use clipstream_media::FineSampling;
use clipstream_schemas::config::{ScoreConfig, SimilarityModel};
use clipstream_schemas::manifest::ERROR_DIR;
use clipstream_schemas::{Config, CuratedVideo, ErrorRecord, Stage, safe_key};
use clipstream_sink::ShardSink;
use clipstream_store::{ErrorWriter, Output};
use serde::Serialize;

use super::listing::{ListedClip, list_rows};
use super::locate::{Locator, LocatorOptions};
use super::video::{HydrateContext, Hydrated, VideoJob, hydrate_video, is_unavailable};
use crate::dataset::group::{GroupBy, buckets_for};
use crate::torch::ModelStages;
use clipstream_input::fetch::YtDlp;

/// Error records buffered before a flush to `errors/`.
const ERROR_FLUSH_RECORDS: usize = 1000;

/// What `clipstream hydrate` was asked to do.
#[derive(Debug, Clone)]
pub struct HydrateOptions {
    /// Released-style metadata: jsonl or parquet with the InternVid columns.
    pub input: PathBuf,
    pub output: String,
    /// fetch, cut, frames, sink and `source.retry_errors` apply.
    pub config: Config,
    pub locate: LocatorOptions,
    /// The yt-dlp program (name on `PATH` or path).
    pub ytdlp: String,
    /// Worker threads.
    pub workers: usize,
    /// Input bytes per group-by bucket (memory of the grouping pass is about this much).
    pub bucket_bytes: u64,
    /// Recompute the scores with the score stage (`config.score`) instead of keeping the listed ones.
    pub rescore: bool,
}

/// What one hydrate run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HydrateSummary {
    pub run_id: String,
    pub input: String,
    pub output: String,
    /// Input rows read, and those unusable (each has an error record).
    pub rows: u64,
    pub rows_bad: u64,
    /// Distinct videos listed by usable rows.
    pub videos: u64,
    pub videos_skipped_done: u64,
    pub videos_done: u64,
    pub videos_failed: u64,
    /// Videos that could not be fetched (deleted, private, not mirrored), and their share of the videos tried.
    pub videos_unavailable: u64,
    pub unavailable_share: f64,
    /// Fetch attempts (lookup or download): one per video tried.
    pub fetches: u64,
    pub clips: u64,
    /// Listed clips not written: out of the video's range, or of a failed video.
    pub clips_failed: u64,
    pub shards: u64,
    pub seconds: f64,
}

enum Outcome {
    Done(Box<Hydrated>),
    Failed(ErrorRecord, u64),
}

/// The fetcher of hydrate: the rows' urls come from published metadata, so they are untrusted like Kafka messages;
/// the operator's `--video-root` and `--url-template` places are added to `fetch.local_roots`/`allow_buckets`.
fn untrusted_fetcher(options: &HydrateOptions) -> anyhow::Result<Fetcher> {
    let mut fetch = options.config.fetch.clone();
    let (roots, buckets) = options.locate.trusted_places();
    fetch.local_roots.extend(roots);
    fetch.allow_buckets.extend(buckets);
    Fetcher::new_untrusted(fetch).context("building the fetcher")
}

/// Runs hydrate to completion.
pub fn run(options: HydrateOptions) -> anyhow::Result<HydrateSummary> {
    let started = Instant::now();
    // First: without libtorch in this binary, `--rescore` continues in clipstream-torch from here.
    let rescore = if options.rescore {
        let models = crate::torch::load(&options.config.score)?;
        let models = models.context("--rescore needs score.similarity or score.aesthetic_weights")?;
        Some((models, options.config.score.clone()))
    } else {
        None
    };
    let run_id = format!(
        "hydrate-{}-{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0),
        std::process::id()
    );
    let output = Output::open(&options.output).with_context(|| format!("opening output {}", options.output))?;
    let done = crate::curate::open_settled(&output, &options.config, true)?;
    let mut errors = ErrorWriter::new(output.clone(), run_id.clone(), 0);
    let mut summary = HydrateSummary {
        run_id: run_id.clone(),
        input: options.input.display().to_string(),
        output: options.output.clone(),
        ..HydrateSummary::default()
    };

    let input =
        std::fs::canonicalize(&options.input).with_context(|| format!("reading {}", options.input.display()))?;
    let recorded = recorded_bad_rows(&output, &input.display().to_string())?;
    let input_bytes = std::fs::metadata(&input).with_context(|| format!("reading {}", input.display()))?.len();
    let mut group =
        GroupBy::<ListedClip>::new(buckets_for(input_bytes, options.bucket_bytes), &options.config.fetch.temp_dir)?;
    let counts = list_rows(&input, &mut group, |record| {
        if !record.source.is_some_and(|s| recorded.contains(&s.offset)) {
            errors.push(record);
        }
        if errors.pending() >= ERROR_FLUSH_RECORDS {
            errors.flush().context("writing error records")?;
        }
        Ok(())
    })
    .with_context(|| format!("reading {}", options.input.display()))?;
    summary.rows = counts.rows;
    summary.rows_bad = counts.bad_rows;
    tracing::info!(rows = counts.rows, bad = counts.bad_rows, "metadata grouped by video");

    let context = Arc::new(HydrateContext {
        fetcher: untrusted_fetcher(&options)?,
        locator: Locator::new(options.locate.clone()),
        ytdlp: YtDlp {
            program: options.ytdlp.clone(),
            max_bytes: options.config.fetch.max_bytes,
            timeout: Duration::from_secs_f64(options.config.fetch.total_timeout_s),
            temp_dir: options.config.fetch.temp_dir.clone(),
        },
        cut: options.config.cut.clone(),
        frames: options.config.frames.clone(),
        fine: FineSampling::for_caption(&options.config.caption),
        rescore,
        fetches: AtomicU64::new(0),
    });
    let mut sink = ShardSink::new(output.clone(), options.config.sink.clone());
    let workers = options.workers.max(1);
    let videos = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    let groups = group.finish()?;

    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (job_tx, job_rx) = sync_channel::<VideoJob>(workers * 2);
        let (outcome_tx, outcome_rx) = sync_channel::<Outcome>(workers * 2);
        let (videos, skipped, done) = (&videos, &skipped, &done);
        let feeder = scope.spawn(move || -> anyhow::Result<()> {
            for group in groups {
                let (video_id, mut clips) = group?;
                videos.fetch_add(1, Ordering::Relaxed);
                let key = safe_key(&video_id).unwrap_or_default();
                let settled = |k: &str| done.contains(k).context("reading the settled-video index");
                if settled(&key)? || settled(&video_id)? {
                    skipped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                clips.sort_by(|a, b| {
                    a.start_s.total_cmp(&b.start_s).then(a.end_s.total_cmp(&b.end_s)).then(a.row.cmp(&b.row))
                });
                if job_tx.send(VideoJob { video_id, clips }).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let job_rx = Arc::new(Mutex::new(job_rx));
        for _ in 0..workers {
            let (job_rx, outcome_tx, context) = (job_rx.clone(), outcome_tx.clone(), context.clone());
            scope.spawn(move || work(&context, &job_rx, &outcome_tx));
        }
        drop(outcome_tx);
        write_outcomes(outcome_rx, &mut sink, &mut errors, &mut summary)?;
        feeder.join().map_err(|_| anyhow::anyhow!("the feeder thread panicked"))??;
        Ok(())
    })?;

    record_sink_result(sink.finish(), &mut errors, &mut summary);
    errors.flush().context("writing error records")?;
    summary.videos = videos.load(Ordering::Relaxed);
    summary.videos_skipped_done = skipped.load(Ordering::Relaxed);
    summary.fetches = context.fetches.load(Ordering::Relaxed);
    let tried = summary.videos_done + summary.videos_failed;
    summary.unavailable_share = if tried > 0 { summary.videos_unavailable as f64 / tried as f64 } else { 0.0 };
    summary.seconds = started.elapsed().as_secs_f64();
    clipstream_store::write_run_summary(&output, &run_id, &summary).context("writing the run summary")?;
    clipstream_store::write_dataset_stats(&output).context("writing _stats.json")?;
    Ok(summary)
}

/// Rows of `input` that already have an error record from an earlier run (not recorded twice). Error files are
/// read a few at a time; memory is one entry per recorded row.
fn recorded_bad_rows(output: &Output, input: &str) -> anyhow::Result<HashSet<i64>> {
    let keys: Vec<String> = output
        .list(ERROR_DIR)
        .context("listing earlier error records")?
        .into_iter()
        .map(|o| o.key)
        .filter(|k| k.ends_with(".jsonl"))
        .collect();
    let mut rows = HashSet::new();
    for chunk in keys.chunks(16) {
        for body in output.get_many(chunk) {
            let body = body.context("reading earlier error records")?;
            for line in body.split(|b| *b == b'\n') {
                let Ok(record) = serde_json::from_slice::<ErrorRecord>(line) else { continue };
                if record.stage == Stage::Source && record.url == input {
                    rows.extend(record.source.map(|s| s.offset));
                }
            }
        }
    }
    Ok(rows)
}

/// A worker: takes jobs until the feeder is done, sends one outcome per job.
fn work(context: &HydrateContext, jobs: &Mutex<Receiver<VideoJob>>, outcomes: &std::sync::mpsc::SyncSender<Outcome>) {
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let hydrated = hydrate_video(context, &job).and_then(|hydrated| match &context.rescore {
            Some((models, config)) => {
                Ok(Hydrated { video: rescore(models.as_ref(), config, hydrated.video)?, ..hydrated })
            }
            None => Ok(hydrated),
        });
        let outcome = match hydrated {
            Ok(hydrated) => Outcome::Done(Box::new(hydrated)),
            Err(record) => {
                tracing::warn!(video_id = %record.video_id, code = %record.code, reason = %record.reason, "video not hydrated");
                Outcome::Failed(record, job.clips.len() as u64)
            }
        };
        if outcomes.send(outcome).is_err() {
            return;
        }
    }
}

/// `--rescore`: the listed scores of the models that run are dropped, then the score stage writes new ones (a
/// clip without a caption gets no similarity) and applies the score filter.
fn rescore(
    models: &dyn ModelStages,
    config: &ScoreConfig,
    mut video: CuratedVideo,
) -> Result<CuratedVideo, ErrorRecord> {
    for clip in &mut video.clips {
        if config.similarity != SimilarityModel::None {
            clip.record.sim_score = None;
        }
        if !config.aesthetic_weights.is_empty() {
            clip.record.aesthetic_score = None;
        }
    }
    models.score_video(config, video)
}

/// Writes every outcome: videos into shards, failures into error records.
fn write_outcomes(
    outcomes: Receiver<Outcome>,
    sink: &mut ShardSink,
    errors: &mut ErrorWriter,
    summary: &mut HydrateSummary,
) -> anyhow::Result<()> {
    for outcome in outcomes {
        match outcome {
            Outcome::Done(hydrated) => {
                let Hydrated { video, clip_errors } = *hydrated;
                summary.videos_done += 1;
                summary.clips += video.clips.len() as u64;
                summary.clips_failed += clip_errors.len() as u64;
                clip_errors.into_iter().for_each(|record| errors.push(record));
                record_sink_result(sink.push(video), errors, summary);
            }
            Outcome::Failed(record, clips) => {
                summary.videos_failed += 1;
                summary.clips_failed += clips;
                if is_unavailable(&record) {
                    summary.videos_unavailable += 1;
                }
                errors.push(record);
            }
        }
        if errors.pending() >= ERROR_FLUSH_RECORDS {
            errors.flush().context("writing error records")?;
        }
    }
    Ok(())
}

fn record_sink_result(
    result: Result<Option<clipstream_schemas::ShardManifest>, clipstream_sink::SinkFailure>,
    errors: &mut ErrorWriter,
    summary: &mut HydrateSummary,
) {
    match result {
        Ok(Some(_manifest)) => summary.shards += 1,
        Ok(None) => {}
        Err(failure) => {
            tracing::error!(error = %failure.error, videos = failure.records.len(), "shard not written");
            let ids: HashSet<&str> = failure.records.iter().map(|r| r.video_id.as_str()).collect();
            summary.videos_failed += ids.len() as u64;
            summary.videos_done = summary.videos_done.saturating_sub(ids.len() as u64);
            failure.records.into_iter().for_each(|record| errors.push(record));
        }
    }
}
