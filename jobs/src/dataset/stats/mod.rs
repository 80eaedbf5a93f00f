//! `clipstream stats`: what a dataset holds. One streaming pass collects histograms of clip duration, caption
//! length, similarity and aesthetic scores and clips per video, and a uniform sample of captions; the sample is
//! tagged for actionness (distinct verbs, verbs per caption) and the top-words tables. Writes `stats.json`, one PNG
//! per histogram and `index.html` embedding them.

mod actionness;
mod collect;
mod html;
pub mod plot;

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

pub use actionness::{Actionness, actionness, python_program};
pub use collect::{Collected, Collector, Histograms};
pub use plot::{PLOT_SIZE, plot_bars, plot_histogram};

use crate::dataset::histogram::Histogram;
use clipstream_store::metadata::Metadata;

/// What `clipstream stats` was asked to do.
#[derive(Debug, Clone)]
pub struct StatsOptions {
    pub input: String,
    pub out_dir: PathBuf,
    /// Captions sampled for the tagger.
    pub sample: usize,
    pub seed: u64,
    /// Entries of the top-words tables.
    pub top: usize,
    /// The tagger's Python; `None` = `$CLIPSTREAM_PYTHON` or `python3`. Ignored without actionness.
    pub python: Option<String>,
    pub actionness: bool,
}

/// Everything `stats.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsReport {
    pub input: String,
    pub bad_rows: u64,
    #[serde(flatten)]
    pub collected: Collected,
    pub actionness: Option<Actionness>,
    /// Why actionness was not computed, when it was not.
    pub actionness_skipped: Option<String>,
    /// PNG files written, relative to the output folder.
    pub plots: Vec<String>,
}

/// Plots of a report: `(file name, title, x label, histogram)` for every histogram with values.
fn plot_specs(report: &StatsReport) -> Vec<(&'static str, &'static str, &'static str, Histogram)> {
    let h = &report.collected.histograms;
    let mut specs = vec![
        ("duration.png", "Clip duration", "seconds", h.duration_s.clone()),
        ("caption_words.png", "Caption length", "words", h.caption_words.clone()),
        ("sim_score.png", "Video-text similarity score", "score", h.sim_score.clone()),
        ("aesthetic_score.png", "Aesthetic score", "score", h.aesthetic_score.clone()),
        ("clips_per_video.png", "Clips per video", "clips", h.clips_per_video.clone()),
    ];
    if let Some(a) = &report.actionness {
        let mut verbs =
            Histogram::linear(-0.5, a.verbs_per_caption_counts.len() as f64 - 0.5, a.verbs_per_caption_counts.len());
        verbs.counts.clone_from(&a.verbs_per_caption_counts);
        verbs.count = a.captions;
        specs.push(("verbs_per_caption.png", "Verbs per caption (sample; last bin: 10 or more)", "verbs", verbs));
    }
    specs.retain(|(_, _, _, histogram)| histogram.counts.iter().any(|c| *c > 0));
    specs
}

/// Computes the statistics of `options.input` and writes them under `options.out_dir`.
pub fn stats(options: &StatsOptions) -> anyhow::Result<StatsReport> {
    let mut source = Metadata::open(&options.input, true).with_context(|| format!("reading {}", options.input))?;
    let mut collector = Collector::new(options.sample, options.seed);
    for row in source.by_ref() {
        collector.add(&row?);
    }
    let collected = collector.finish();
    let (actionness, actionness_skipped) = if !options.actionness {
        (None, Some("--no-actionness".to_string()))
    } else if collected.caption_sample.is_empty() {
        (None, Some("no clip has a caption".to_string()))
    } else {
        let python = python_program(options.python.as_deref());
        (Some(actionness(&python, &collected.caption_sample, options.top)?), None)
    };
    let mut report = StatsReport {
        input: options.input.clone(),
        bad_rows: source.bad_rows(),
        collected,
        actionness,
        actionness_skipped,
        plots: Vec::new(),
    };
    write(options, &mut report)?;
    Ok(report)
}

fn write(options: &StatsOptions, report: &mut StatsReport) -> anyhow::Result<()> {
    let dir = &options.out_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut images = Vec::new();
    for (file, title, x_label, histogram) in plot_specs(report) {
        let path = dir.join(file);
        plot_histogram(&path, title, x_label, &histogram)?;
        images.push((title.to_string(), std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?));
        report.plots.push(file.to_string());
    }
    write_file(&dir.join("stats.json"), &serde_json::to_vec_pretty(report).context("encoding stats.json")?)?;
    write_file(&dir.join("index.html"), html::render(report, &images).as_bytes())
}

fn write_file(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipstream_store::fixtures::row;
    use clipstream_store::metadata::write::{RowFormat, RowWriter};

    #[test]
    fn writes_json_plots_and_a_page_without_actionness() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("t.parquet");
        let mut writer = RowWriter::create(&input, RowFormat::ClipParquet).expect("create");
        for i in 0..20u32 {
            writer.write(&row(&format!("v{}", i % 3), i, f64::from(i))).expect("write");
        }
        writer.finish().expect("finish");
        let options = StatsOptions {
            input: input.display().to_string(),
            out_dir: dir.path().join("stats"),
            sample: 100,
            seed: 0,
            top: 10,
            python: None,
            actionness: false,
        };
        let report = stats(&options).expect("stats");
        assert_eq!((report.collected.clips, report.collected.videos), (20, 3));
        assert_eq!(report.plots, ["duration.png", "caption_words.png", "sim_score.png", "clips_per_video.png"]);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(options.out_dir.join("stats.json")).expect("json")).expect("parses");
        assert_eq!(json["clips"], 20);
        assert_eq!(json["histograms"]["clips_per_video"]["counts"][6], 2, "two videos have 7 clips");
        let page = std::fs::read_to_string(options.out_dir.join("index.html")).expect("html");
        assert_eq!(page.matches("<img ").count(), 4);
        assert!(page.contains("data:image/png;base64,iVBORw0KGgo"), "PNG data URIs");
        assert!(page.contains("not computed: --no-actionness"));
    }
}
