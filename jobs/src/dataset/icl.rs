//! `icl`: InternVid-ICL, interleaved video-text sequences for in-context training, one JSON object per line:
//!
//! ```json
//! {"format": "a", "video_ids": ["vid"], "items": [
//!   {"type": "video", "video_id": "vid", "key": "vid_0000", "start_ts": "00:00:01.000", "end_ts": "00:00:04.000"},
//!   {"type": "caption", "key": "vid_0000", "text": "a man opens a door"},
//!   {"type": "caption", "key": "vid_0001", "text": "he walks into the kitchen"}]}
//! ```
//!
//! - (a) the captioned clips of one video in temporal order; each clip is its `video` item (the clip itself, by
//!   key, or by video id + timestamps when it has no key) followed by its `caption`; the `video` item is dropped
//!   with probability `drop_prob` (0.3), so the model must also continue from text alone;
//! - (b) as (a), with an `asr` item (the clip's speech transcript) after the caption when the clip has one;
//! - (c) two (a) sequences of different videos concatenated (videos paired in output order; an odd last video is
//!   left out and counted).
//!
//! Clips without a caption are left out. Whether a clip's video is dropped is a hash of the seed and the clip, so a
//! seed gives the same drops in every format. Rows are grouped by video on disk first, so the input need not be
//! sorted (memory: one group-by bucket, see [`crate::dataset::group`]).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::dataset::group::GroupBy;
use clipstream_schemas::hash::uniform;
use clipstream_store::metadata::Metadata;
use clipstream_store::metadata::row::ClipRow;

/// Which InternVid-ICL format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IclFormat {
    A,
    B,
    C,
}

/// One element of a sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IclItem {
    Video {
        video_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        start_ts: String,
        end_ts: String,
    },
    Caption {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        text: String,
    },
    Asr {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        text: String,
    },
}

/// One output line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IclSequence {
    pub format: IclFormat,
    pub video_ids: Vec<String>,
    pub items: Vec<IclItem>,
}

/// What `clipstream icl` was asked to do.
#[derive(Debug, Clone)]
pub struct IclOptions {
    pub input: String,
    pub format: IclFormat,
    pub drop_prob: f64,
    pub seed: u64,
    pub out: PathBuf,
    /// Group-by buckets (memory of the grouping is about the input size / buckets).
    pub buckets: usize,
    pub temp_dir: PathBuf,
}

/// What an icl run wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IclSummary {
    pub format: Option<IclFormat>,
    pub sequences: u64,
    pub videos: u64,
    pub clips: u64,
    pub clips_without_caption: u64,
    pub video_items: u64,
    pub videos_dropped: u64,
    /// `videos_dropped / clips`.
    pub drop_rate: f64,
    pub asr_items: u64,
    /// Format (c): a last video without a partner.
    pub unpaired_videos: u64,
    pub bad_rows: u64,
    pub out: String,
}

/// Whether clip `identity`'s video item is dropped for `seed`.
pub fn dropped(seed: u64, identity: &str, drop_prob: f64) -> bool {
    uniform(seed ^ 0x1c1_5eed, identity) < drop_prob
}

/// The (a)/(b) items of one video's clips (sorted here by start time).
pub fn video_items(
    clips: &mut [ClipRow],
    format: IclFormat,
    drop_prob: f64,
    seed: u64,
    summary: &mut IclSummary,
) -> Vec<IclItem> {
    clips.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.end_s.total_cmp(&b.end_s)));
    let mut items = Vec::new();
    for clip in clips.iter() {
        let Some(caption) = clip.caption.as_ref().filter(|c| !c.trim().is_empty()) else {
            summary.clips_without_caption += 1;
            continue;
        };
        summary.clips += 1;
        if dropped(seed, &clip.identity(), drop_prob) {
            summary.videos_dropped += 1;
        } else {
            summary.video_items += 1;
            items.push(IclItem::Video {
                video_id: clip.video_id.clone(),
                key: clip.key.clone(),
                start_ts: clip.start_ts.clone(),
                end_ts: clip.end_ts.clone(),
            });
        }
        items.push(IclItem::Caption { key: clip.key.clone(), text: caption.clone() });
        if format == IclFormat::B
            && let Some(asr) = clip.asr.as_ref().filter(|a| !a.trim().is_empty())
        {
            summary.asr_items += 1;
            items.push(IclItem::Asr { key: clip.key.clone(), text: asr.clone() });
        }
    }
    items
}

fn write_line(out: &mut impl Write, sequence: &IclSequence) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, sequence).context("writing a sequence")?;
    out.write_all(b"\n").context("writing a sequence")
}

/// Builds the sequences of `options.input` and writes them to `options.out`.
pub fn icl(options: &IclOptions) -> anyhow::Result<IclSummary> {
    let mut summary =
        IclSummary { format: Some(options.format), out: options.out.display().to_string(), ..Default::default() };
    let mut group = GroupBy::<ClipRow>::new(options.buckets, &options.temp_dir)?;
    let mut source = Metadata::open(&options.input, true).with_context(|| format!("reading {}", options.input))?;
    for row in source.by_ref() {
        let row = row?;
        group.push(&row.video_id.clone(), &row)?;
    }
    summary.bad_rows = source.bad_rows();
    let partial = partial_path(&options.out);
    let file = std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let mut out = BufWriter::new(file);
    let mut waiting: Option<(String, Vec<IclItem>)> = None;
    let sequence_format = if options.format == IclFormat::C { IclFormat::A } else { options.format };
    for group in group.finish()? {
        let (video_id, mut clips) = group?;
        let items = video_items(&mut clips, sequence_format, options.drop_prob, options.seed, &mut summary);
        if items.is_empty() {
            continue;
        }
        summary.videos += 1;
        let sequence = match (options.format, waiting.take()) {
            (IclFormat::C, None) => {
                waiting = Some((video_id, items));
                continue;
            }
            (IclFormat::C, Some((first_id, mut first))) => {
                first.extend(items);
                IclSequence { format: IclFormat::C, video_ids: vec![first_id, video_id], items: first }
            }
            (format, _) => IclSequence { format, video_ids: vec![video_id], items },
        };
        write_line(&mut out, &sequence)?;
        summary.sequences += 1;
    }
    summary.unpaired_videos = u64::from(waiting.is_some());
    out.flush().with_context(|| format!("writing {}", partial.display()))?;
    drop(out);
    std::fs::rename(&partial, &options.out).with_context(|| format!("renaming to {}", options.out.display()))?;
    summary.drop_rate = if summary.clips > 0 { summary.videos_dropped as f64 / summary.clips as f64 } else { 0.0 };
    Ok(summary)
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipstream_store::fixtures::row;
    use clipstream_store::metadata::write::{RowFormat, RowWriter};

    /// 40 videos of 1..=8 clips, in shuffled order; every third clip has ASR, every seventh no caption.
    fn table(dir: &Path) -> (PathBuf, Vec<ClipRow>) {
        let mut rows = Vec::new();
        for v in 0..40u32 {
            for i in 0..(v % 8 + 1) {
                let mut r = row(&format!("vid{v:02}"), i, f64::from(i) * 5.0);
                r.asr = (i % 3 == 0).then(|| format!("speech {v} {i}"));
                if (v + i) % 7 == 0 {
                    r.caption = None;
                }
                rows.push(r);
            }
        }
        let mut shuffled = rows.clone();
        shuffled.sort_by_key(|r| clipstream_schemas::hash::id_hash(&r.identity()));
        let path = dir.join("table.parquet");
        let mut writer = RowWriter::create(&path, RowFormat::ClipParquet).expect("create");
        shuffled.iter().for_each(|r| writer.write(r).expect("write"));
        writer.finish().expect("finish");
        (path, rows)
    }

    fn run(dir: &Path, input: &Path, format: IclFormat, drop_prob: f64, seed: u64) -> (IclSummary, Vec<IclSequence>) {
        let out = dir.join(format!("{format:?}-{seed}.jsonl"));
        let options = IclOptions {
            input: input.display().to_string(),
            format,
            drop_prob,
            seed,
            out: out.clone(),
            buckets: 3,
            temp_dir: PathBuf::new(),
        };
        let summary = icl(&options).expect("icl");
        let text = std::fs::read_to_string(&out).expect("read");
        (summary, text.lines().map(|l| serde_json::from_str(l).expect("sequence")).collect())
    }

    /// Checks one video's items against its rows: temporal order, captions, optional video items, ASR.
    fn check_video(items: &[IclItem], rows: &[ClipRow], with_asr: bool) {
        let mut expected: Vec<&ClipRow> = rows.iter().filter(|r| r.caption.is_some()).collect();
        expected.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        let mut at = 0;
        for clip in expected {
            if let Some(IclItem::Video { video_id, key, start_ts, end_ts }) = items.get(at) {
                assert_eq!(
                    (video_id, key, start_ts, end_ts),
                    (&clip.video_id, &clip.key, &clip.start_ts, &clip.end_ts)
                );
                at += 1;
            }
            assert_eq!(
                items.get(at),
                Some(&IclItem::Caption { key: clip.key.clone(), text: clip.caption.clone().unwrap_or_default() })
            );
            at += 1;
            if with_asr && let Some(asr) = &clip.asr {
                assert_eq!(items.get(at), Some(&IclItem::Asr { key: clip.key.clone(), text: asr.clone() }));
                at += 1;
            }
        }
        assert_eq!(at, items.len(), "no other items");
    }

    fn rows_of(rows: &[ClipRow], video: &str) -> Vec<ClipRow> {
        rows.iter().filter(|r| r.video_id == video).cloned().collect()
    }

    #[test]
    fn formats_a_and_b_field_by_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (input, rows) = table(dir.path());
        let (a, sequences) = run(dir.path(), &input, IclFormat::A, 0.3, 9);
        assert_eq!(a.sequences, sequences.len() as u64);
        assert_eq!(a.clips + a.clips_without_caption, rows.len() as u64);
        assert_eq!(a.asr_items, 0);
        for sequence in &sequences {
            assert_eq!((sequence.format, sequence.video_ids.len()), (IclFormat::A, 1));
            check_video(&sequence.items, &rows_of(&rows, &sequence.video_ids[0]), false);
        }
        let (b, sequences) = run(dir.path(), &input, IclFormat::B, 0.3, 9);
        assert!(b.asr_items > 0);
        assert_eq!(b.videos_dropped, a.videos_dropped, "the same seed drops the same clips");
        for sequence in &sequences {
            check_video(&sequence.items, &rows_of(&rows, &sequence.video_ids[0]), true);
        }
    }

    #[test]
    fn format_c_concatenates_two_videos() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (input, rows) = table(dir.path());
        let (summary, sequences) = run(dir.path(), &input, IclFormat::C, 0.3, 9);
        assert_eq!(summary.sequences * 2 + summary.unpaired_videos, summary.videos);
        for sequence in &sequences {
            assert_eq!(sequence.format, IclFormat::C);
            let [first, second] = sequence.video_ids.as_slice() else { panic!("two videos: {:?}", sequence.video_ids) };
            assert_ne!(first, second);
            let first_rows = rows_of(&rows, first);
            let split = sequence
                .items
                .iter()
                .position(|item| match item {
                    IclItem::Video { video_id, .. } => video_id == second,
                    IclItem::Caption { key, .. } => key.as_deref().is_some_and(|k| k.starts_with(second.as_str())),
                    IclItem::Asr { .. } => false,
                })
                .expect("second video starts");
            check_video(&sequence.items[..split], &first_rows, false);
            check_video(&sequence.items[split..], &rows_of(&rows, second), false);
        }
    }

    #[test]
    fn drop_rate_is_within_tolerance() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut rows = Vec::new();
        for v in 0..100u32 {
            rows.extend((0..30u32).map(|i| row(&format!("v{v}"), i, f64::from(i))));
        }
        let input = dir.path().join("many.parquet");
        let mut writer = RowWriter::create(&input, RowFormat::ClipParquet).expect("create");
        rows.iter().for_each(|r| writer.write(r).expect("write"));
        writer.finish().expect("finish");
        let (summary, sequences) = run(dir.path(), &input, IclFormat::A, 0.3, 1);
        assert_eq!(summary.clips, 3000);
        // Binomial(3000, 0.3): sd ~ 0.0084; 0.03 is > 3 sd.
        assert!((summary.drop_rate - 0.3).abs() < 0.03, "{}", summary.drop_rate);
        let video_items: usize =
            sequences.iter().map(|s| s.items.iter().filter(|i| matches!(i, IclItem::Video { .. })).count()).sum();
        assert_eq!(video_items as u64, summary.video_items);
        assert_eq!(summary.video_items + summary.videos_dropped, 3000);
        let (none, _) = run(dir.path(), &input, IclFormat::A, 0.0, 1);
        assert_eq!(none.videos_dropped, 0);
    }
}
