//! One streaming pass over clip metadata for `stats`: fixed-bin histograms of clip duration, caption length (words),
//! similarity and aesthetic scores; per-video clip counts (memory: one counter per video) for the clips-per-video
//! histogram; and a uniform sample of captions (reservoir, memory: `sample` captions) for the tagger.

use std::collections::HashMap;

use serde::Serialize;

use crate::dataset::histogram::Histogram;
use crate::dataset::subset::{Reservoir, reservoir_key};
use clipstream_schemas::hash::{id_hash, uniform};
use clipstream_store::metadata::row::ClipRow;

/// Largest clips-per-video bin (more is counted as `above`).
const MAX_CLIPS_PER_VIDEO_BIN: u32 = 50;

/// The histograms of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histograms {
    pub duration_s: Histogram,
    pub caption_words: Histogram,
    pub sim_score: Histogram,
    pub aesthetic_score: Histogram,
    pub clips_per_video: Histogram,
}

/// Totals and histograms of one pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collected {
    pub clips: u64,
    pub videos: u64,
    pub hours: f64,
    pub captioned_clips: u64,
    pub histograms: Histograms,
    #[serde(skip)]
    pub caption_sample: Vec<String>,
}

/// Accumulates rows.
pub struct Collector {
    seed: u64,
    clips: u64,
    seconds: f64,
    captioned: u64,
    duration: Histogram,
    words: Histogram,
    sim: Histogram,
    aesthetic: Histogram,
    per_video: HashMap<u64, u32>,
    sample: Reservoir<String>,
}

impl Collector {
    /// A collector keeping a sample of `sample` captions, drawn with `seed`.
    pub fn new(sample: usize, seed: u64) -> Self {
        Self {
            seed,
            clips: 0,
            seconds: 0.0,
            captioned: 0,
            duration: Histogram::linear(0.0, 120.0, 48),
            words: Histogram::linear(0.0, 100.0, 50),
            sim: Histogram::linear(0.0, 1.0, 20),
            aesthetic: Histogram::linear(0.0, 10.0, 20),
            per_video: HashMap::new(),
            sample: Reservoir::new(sample),
        }
    }

    pub fn add(&mut self, row: &ClipRow) {
        self.clips += 1;
        let duration = row.duration_s();
        self.seconds += duration.max(0.0);
        self.duration.add(duration);
        self.sim.add_opt(row.sim_score);
        self.aesthetic.add_opt(row.aesthetic_score);
        *self.per_video.entry(id_hash(&row.video_id)).or_default() += 1;
        match row.caption.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(caption) => {
                self.captioned += 1;
                self.words.add(caption.split_whitespace().count() as f64);
                let identity = row.identity();
                let key = reservoir_key(uniform(self.seed, &identity), 1.0);
                if self.sample.accepts(key) {
                    self.sample.offer(key, identity, caption.to_string());
                }
            }
            None => self.words.add_opt(None),
        }
    }

    pub fn finish(self) -> Collected {
        let mut clips_per_video = Histogram::integers(MAX_CLIPS_PER_VIDEO_BIN);
        self.per_video.values().for_each(|count| clips_per_video.add(f64::from(*count)));
        Collected {
            clips: self.clips,
            videos: self.per_video.len() as u64,
            hours: self.seconds / 3600.0,
            captioned_clips: self.captioned,
            histograms: Histograms {
                duration_s: self.duration,
                caption_words: self.words,
                sim_score: self.sim,
                aesthetic_score: self.aesthetic,
                clips_per_video,
            },
            caption_sample: self.sample.into_items(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipstream_store::fixtures::row;

    #[test]
    fn counts_clips_videos_words_and_samples_captions() {
        let mut collector = Collector::new(3, 1);
        for v in 0..4u32 {
            for i in 0..=v {
                collector.add(&row(&format!("v{v}"), i, f64::from(i)));
            }
        }
        collector.add(&ClipRow { caption: None, sim_score: None, ..row("v9", 0, 0.0) });
        let collected = collector.finish();
        assert_eq!((collected.clips, collected.videos, collected.captioned_clips), (11, 5, 10));
        assert!((collected.hours - 22.0 / 3600.0).abs() < 1e-12);
        let h = &collected.histograms;
        assert_eq!(h.clips_per_video.counts[..4], [2, 1, 1, 1]);
        assert_eq!((h.caption_words.count, h.caption_words.missing), (10, 1));
        assert_eq!(h.caption_words.mean, Some(4.0), "\"caption N, with \\\"quotes\\\"\" is 4 words");
        assert_eq!((h.sim_score.count, h.sim_score.missing, h.aesthetic_score.missing), (10, 1, 11));
        assert_eq!(collected.caption_sample.len(), 3);
    }
}
