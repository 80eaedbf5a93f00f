//! The subsets of InternVid, streaming over clip metadata:
//! - **div** `n`: each clip weighted `1 / (clips of its video)`, `n` draws without replacement (weighted reservoir,
//!   see [`super::reservoir`]): every video is about equally likely to contribute, whatever its length. Two passes:
//!   per-video clip counts (memory: one counter per video), then the reservoir (memory: `n` rows).
//! - **flt** `n`, `top`: clips within the duration bounds whose similarity score is in the top `top` fraction,
//!   then DIV over them (clip counts per video taken among those candidates). Four passes: two for the exact
//!   threshold ([`super::threshold`]), the counts, the reservoir.
//! - **aesthetics** `min`: every clip with an aesthetic score `>= min`; one pass, streamed to the output.
//! - **random** `n`: `n` clips uniformly without replacement; one pass.
//!
//! A clip's random draw is a hash of the seed and the clip's key, so a seed gives the same subset whatever order
//! the metadata is read in.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use anyhow::Context;
use clipstream_schemas::config::SinkConfig;
use serde::Serialize;

use super::reservoir::{Reservoir, reservoir_key};
use super::reshard::{ReshardSummary, Resharder};
use super::threshold::TopFraction;
use crate::dataset::histogram::Histogram;
use clipstream_schemas::hash::{id_hash, uniform};
use clipstream_store::metadata::Metadata;
use clipstream_store::metadata::row::ClipRow;
use clipstream_store::metadata::write::{RowFormat, RowWriter};

/// Which subset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SubsetMode {
    Div { n: usize },
    Flt { n: usize, top: f64, min_duration_s: f64, max_duration_s: f64 },
    Aesthetics { min: f64 },
    Random { n: usize },
}

/// What `clipstream subset` was asked to do.
#[derive(Debug, Clone)]
pub struct SubsetOptions {
    /// Any [`Metadata`] location; `--reshard` needs a committed dataset.
    pub input: String,
    pub mode: SubsetMode,
    pub seed: u64,
    /// `.parquet` (clip columns, readable by every tool) or `.jsonl`.
    pub out: PathBuf,
    /// Also write the selected clips as new shards here.
    pub reshard: Option<String>,
    pub sink: SinkConfig,
}

/// What a subset holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsetSummary {
    #[serde(flatten)]
    pub mode: SubsetMode,
    pub seed: u64,
    pub input: String,
    pub input_rows: u64,
    pub bad_rows: u64,
    /// Clips the subset was drawn from (after filters).
    pub candidates: u64,
    /// The FLT similarity threshold (the smallest score in the top fraction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sim_threshold: Option<f64>,
    pub clips: u64,
    pub videos: u64,
    pub mean_clips_per_video: f64,
    pub duration_s: Histogram,
    pub sim_score: Histogram,
    pub aesthetic_score: Histogram,
    pub out: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reshard: Option<ReshardSummary>,
}

/// The selected clips on their way out: the output file, the summary numbers, the optional reshard.
struct Selection {
    writer: RowWriter,
    videos: HashSet<u64>,
    duration: Histogram,
    sim: Histogram,
    aesthetic: Histogram,
    resharder: Option<Resharder>,
}

impl Selection {
    fn new(options: &SubsetOptions, dataset: Option<&clipstream_store::Output>) -> anyhow::Result<Self> {
        let format = match options.out.extension().and_then(|e| e.to_str()) {
            Some("parquet") => RowFormat::ClipParquet,
            Some("jsonl") => RowFormat::ClipJsonl,
            _ => anyhow::bail!("--out {} must end in .parquet or .jsonl", options.out.display()),
        };
        let resharder = match &options.reshard {
            Some(target) => {
                let source = dataset.context("--reshard needs a committed dataset as input (a directory or URL)")?;
                Some(Resharder::new(source.clone(), target, options.sink.clone())?)
            }
            None => None,
        };
        Ok(Self {
            writer: RowWriter::create(&options.out, format)?,
            videos: HashSet::new(),
            duration: Histogram::linear(0.0, 120.0, 24),
            sim: Histogram::linear(0.0, 1.0, 20),
            aesthetic: Histogram::linear(0.0, 10.0, 20),
            resharder,
        })
    }

    fn add(&mut self, row: &ClipRow) -> anyhow::Result<()> {
        self.writer.write(row)?;
        self.videos.insert(id_hash(&row.video_id));
        self.duration.add(row.duration_s());
        self.sim.add_opt(row.sim_score);
        self.aesthetic.add_opt(row.aesthetic_score);
        if let Some(resharder) = &mut self.resharder {
            resharder.add(row)?;
        }
        Ok(())
    }
}

fn open(options: &SubsetOptions, with_text: bool) -> anyhow::Result<Metadata> {
    Metadata::open(&options.input, with_text).with_context(|| format!("reading {}", options.input))
}

/// Clips per video among the rows `keep` accepts.
fn clips_per_video(options: &SubsetOptions, keep: &dyn Fn(&ClipRow) -> bool) -> anyhow::Result<HashMap<u64, u32>> {
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for row in open(options, false)? {
        let row = row?;
        if keep(&row) {
            *counts.entry(id_hash(&row.video_id)).or_default() += 1;
        }
    }
    Ok(counts)
}

/// Draws `n` rows that `keep` accepts; each weighted `1 / clips of its video` when `counts` is given, else 1.
fn draw(
    options: &SubsetOptions,
    n: usize,
    keep: &dyn Fn(&ClipRow) -> bool,
    counts: Option<&HashMap<u64, u32>>,
) -> anyhow::Result<(Vec<ClipRow>, u64, u64, u64)> {
    let mut reservoir = Reservoir::new(n);
    let (mut rows, mut candidates) = (0u64, 0u64);
    let mut source = open(options, true)?;
    for row in source.by_ref() {
        let row = row?;
        rows += 1;
        if !keep(&row) {
            continue;
        }
        candidates += 1;
        let weight =
            counts.map_or(1.0, |c| 1.0 / f64::from(c.get(&id_hash(&row.video_id)).copied().unwrap_or(1).max(1)));
        let identity = row.identity();
        let key = reservoir_key(uniform(options.seed, &identity), weight);
        if reservoir.accepts(key) {
            reservoir.offer(key, identity, row);
        }
    }
    let mut selected = reservoir.into_items();
    selected.sort_by(|a, b| {
        (a.shard.as_deref(), a.video_id.as_str())
            .cmp(&(b.shard.as_deref(), b.video_id.as_str()))
            .then(a.start_s.total_cmp(&b.start_s))
            .then_with(|| a.identity().cmp(&b.identity()))
    });
    Ok((selected, rows, candidates, source.bad_rows()))
}

/// The FLT similarity threshold over clips within the duration bounds.
fn flt_threshold(options: &SubsetOptions, top: f64, in_bounds: &dyn Fn(&ClipRow) -> bool) -> anyhow::Result<f64> {
    let mut search = TopFraction::new(top);
    for row in open(options, false)? {
        let row = row?;
        if let Some(score) = row.sim_score.filter(|_| in_bounds(&row)) {
            search.count(score);
        }
    }
    anyhow::ensure!(
        search.end_pass_one(),
        "no clip within the duration bounds has a sim_score: FLT needs similarity scores (UMT_Score in InternVid \
         metadata, or a dataset curated with a scoring model)"
    );
    for row in open(options, false)? {
        let row = row?;
        if let Some(score) = row.sim_score.filter(|_| in_bounds(&row)) {
            search.refine(score);
        }
    }
    search.threshold().context("the threshold search lost its scores between passes (did the input change?)")
}

/// Builds the subset, writes it (and the reshard) and returns its summary.
pub fn subset(options: &SubsetOptions) -> anyhow::Result<SubsetSummary> {
    let probe = open(options, false)?;
    let mut selection = Selection::new(options, probe.dataset())?;
    drop(probe);
    let mut sim_threshold = None;
    let (rows, candidates, bad_rows) = match &options.mode {
        SubsetMode::Div { n } => {
            let all = |_: &ClipRow| true;
            let counts = clips_per_video(options, &all)?;
            let (selected, rows, candidates, bad) = draw(options, *n, &all, Some(&counts))?;
            selected.iter().try_for_each(|row| selection.add(row))?;
            (rows, candidates, bad)
        }
        SubsetMode::Flt { n, top, min_duration_s, max_duration_s } => {
            let in_bounds = |row: &ClipRow| (*min_duration_s..=*max_duration_s).contains(&row.duration_s());
            let threshold = flt_threshold(options, *top, &in_bounds)?;
            sim_threshold = Some(threshold);
            let keep =
                |row: &ClipRow| in_bounds(row) && row.sim_score.is_some_and(|s| TopFraction::is_in(threshold, s));
            let counts = clips_per_video(options, &keep)?;
            let (selected, rows, candidates, bad) = draw(options, *n, &keep, Some(&counts))?;
            selected.iter().try_for_each(|row| selection.add(row))?;
            (rows, candidates, bad)
        }
        SubsetMode::Random { n } => {
            let (selected, rows, candidates, bad) = draw(options, *n, &|_| true, None)?;
            selected.iter().try_for_each(|row| selection.add(row))?;
            (rows, candidates, bad)
        }
        SubsetMode::Aesthetics { min } => {
            let (mut rows, mut scored) = (0u64, 0u64);
            let mut source = open(options, true)?;
            for row in source.by_ref() {
                let row = row?;
                rows += 1;
                if let Some(score) = row.aesthetic_score {
                    scored += 1;
                    if score >= *min {
                        selection.add(&row)?;
                    }
                }
            }
            if scored == 0 {
                selection.writer.abandon();
                anyhow::bail!(
                    "no clip has an aesthetic_score: the aesthetics subset needs scores (Aesthetic_Score in InternVid \
                     metadata, or a dataset curated with a scoring model)"
                );
            }
            (rows, scored, source.bad_rows())
        }
    };
    let Selection { writer, videos, duration, sim, aesthetic, resharder } = selection;
    let clips = writer.finish()?;
    let reshard = resharder.map(Resharder::finish).transpose()?;
    let videos = videos.len() as u64;
    Ok(SubsetSummary {
        mode: options.mode.clone(),
        seed: options.seed,
        input: options.input.clone(),
        input_rows: rows,
        bad_rows,
        candidates,
        sim_threshold,
        clips,
        videos,
        mean_clips_per_video: if videos > 0 { clips as f64 / videos as f64 } else { 0.0 },
        duration_s: duration,
        sim_score: sim,
        aesthetic_score: aesthetic,
        out: options.out.display().to_string(),
        reshard,
    })
}
