//! Committed shards of a curated output, streamed sample by sample for training.
//!
//! [`ShardReader`] reads the shards one at a time in a given order: a
//! background thread downloads one shard's tar to a temporary file (never the whole dataset) and walks it, handing
//! samples over through a small bounded channel, so the next samples are ready while the caller works. Damaged
//! clips are [`Skipped`] (listed, counted, warned about) and reading goes on. A [`Position`] says where to resume.

use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::data_error::{Context, DataError, Result};
use crate::listing::list_committed_shards;
use crate::{Output, tar_key};
use serde::{Deserialize, Serialize};

use super::samples::{Sample, Skipped, walk_clips};

/// Samples read ahead of the caller per reader.
const READ_AHEAD: usize = 64;
/// Most skipped clips kept in [`ShardReader::skipped`]; the counters go on counting.
const MAX_LISTED_SKIPS: usize = 10_000;

/// Where a reader stands: the next clip to read is clip `sample_index` (counting skipped clips) of shard
/// `shard_index` of the reader's shard order. Record it with a checkpoint to resume there (samples already read
/// into a shuffle buffer but not trained on are behind this position: a checkpoint must save or replay them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    pub shard_index: usize,
    pub sample_index: usize,
}

/// What a reader has read so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Shards opened.
    pub shards: u64,
    /// Samples returned.
    pub samples: u64,
    /// Clips left out because they are damaged (see [`ShardReader::skipped`]).
    pub corrupt: u64,
    /// Clips left out because they have no caption.
    pub no_caption: u64,
}

/// What the background thread of a shard sends.
enum Event {
    Clip(usize, Result<Sample, Skipped>),
    /// The tar could not be fetched; the shard yields nothing.
    Failed(DataError),
}

/// The shard being read: the receiving end of its thread's channel. Dropping it makes the thread's next send fail,
/// which ends the thread (the handle is kept only to name it in debuggers; nobody waits for it).
struct OpenShard {
    events: Receiver<Event>,
    _thread: Option<JoinHandle<()>>,
}

/// Streams the samples of a list of shards, in order, from a [`Position`].
pub struct ShardReader {
    output: Output,
    shards: Vec<String>,
    position: Position,
    open: Option<OpenShard>,
    stats: ReadStats,
    skipped: Vec<Skipped>,
}

impl std::fmt::Debug for ShardReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardReader")
            .field("output", &self.output.url())
            .field("shards", &self.shards.len())
            .field("position", &self.position)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl ShardReader {
    /// A reader of `shards` (names, read in this order: sort or shuffle them first) starting at `start`.
    pub fn new(output: Output, shards: Vec<String>, start: Position) -> Self {
        Self { output, shards, position: start, open: None, stats: ReadStats::default(), skipped: Vec::new() }
    }

    /// A reader of every committed shard of `output`, in name order, from the start.
    pub fn committed(output: Output) -> Result<Self> {
        let shards = list_committed_shards(&output)?.committed;
        Ok(Self::new(output, shards, Position::default()))
    }

    /// The shard order of this reader.
    pub fn shards(&self) -> &[String] {
        &self.shards
    }

    /// The position right after the last sample returned: a reader started there returns the same samples that
    /// this one would return next.
    pub fn position(&self) -> Position {
        self.position
    }

    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// The damaged clips met so far (the first 10 000; [`ReadStats::corrupt`] counts them all).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The next sample; `Ok(None)` after the last shard. An error (a tar that cannot be fetched: the message names
    /// the shard) ends that shard only: the position moves to the next shard, and calling again goes on there.
    pub fn next_sample(&mut self) -> Result<Option<Sample>> {
        loop {
            if self.position.shard_index >= self.shards.len() {
                return Ok(None);
            }
            let events = match &self.open {
                Some(open) => &open.events,
                None => {
                    let shard = self.shards[self.position.shard_index].clone();
                    self.stats.shards += 1;
                    let open = self.start_shard(shard, self.position.sample_index);
                    &self.open.insert(open).events
                }
            };
            match events.recv() {
                Ok(Event::Clip(index, Ok(sample))) => {
                    self.position.sample_index = index + 1;
                    self.stats.samples += 1;
                    return Ok(Some(sample));
                }
                Ok(Event::Clip(index, Err(skipped))) => {
                    self.position.sample_index = self.position.sample_index.max(index + 1);
                    self.record_skip(skipped);
                }
                Ok(Event::Failed(error)) => {
                    self.next_shard();
                    return Err(error);
                }
                Err(_) => self.next_shard(),
            }
        }
    }

    fn next_shard(&mut self) {
        self.open = None;
        self.position = Position { shard_index: self.position.shard_index + 1, sample_index: 0 };
    }

    fn record_skip(&mut self, skipped: Skipped) {
        if !skipped.reason.is_corrupt() {
            self.stats.no_caption += 1;
            tracing::debug!(shard = %skipped.shard, key = %skipped.key, "skipping a clip without caption");
            return;
        }
        self.stats.corrupt += 1;
        tracing::warn!(shard = %skipped.shard, key = %skipped.key, reason = %skipped.reason, "skipping a damaged clip");
        if self.skipped.len() < MAX_LISTED_SKIPS {
            self.skipped.push(skipped);
        }
    }

    /// Starts the thread that fetches and walks `shard` from clip `start`.
    fn start_shard(&self, shard: String, start: usize) -> OpenShard {
        let (sender, events) = sync_channel(READ_AHEAD);
        let output = self.output.clone();
        let spawned = std::thread::Builder::new()
            .name("clipstream-shard-reader".into())
            .spawn({
                let sender = sender.clone();
                move || read_shard(&output, &shard, start, &sender)
            })
            .context("starting a shard reader thread");
        match spawned {
            Ok(thread) => OpenShard { events, _thread: Some(thread) },
            Err(error) => {
                // The receiver is still ours: report the failure through it.
                let _ = sender.try_send(Event::Failed(error));
                OpenShard { events, _thread: None }
            }
        }
    }
}

impl Iterator for ShardReader {
    type Item = Result<Sample>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_sample().transpose()
    }
}

/// Body of a shard's thread: download the tar to a temporary file, walk it, send every clip.
fn read_shard(output: &Output, shard: &str, start: usize, sender: &SyncSender<Event>) {
    let fetched = tempfile::Builder::new()
        .prefix("clipstream-train-shard-")
        .suffix(".tar")
        .tempfile()
        .context("creating a temporary file")
        .and_then(|file| {
            output.download(&tar_key(shard), file.path())?;
            let reader = File::open(file.path()).context("opening the downloaded tar")?;
            Ok((file, reader))
        })
        .with_context(|| format!("fetching shard {shard} from {}", output.url()));
    let (_file, reader) = match fetched {
        Ok(fetched) => fetched,
        Err(error) => {
            let _ = sender.send(Event::Failed(error));
            return;
        }
    };
    walk_clips(BufReader::new(reader), shard, start, |index, clip| match sender.send(Event::Clip(index, clip)) {
        Ok(()) => ControlFlow::Continue(()),
        Err(_) => ControlFlow::Break(()),
    });
}

#[cfg(test)]
mod tests {

    use crate::{ShardBuilder, commit};
    use clipstream_schemas::{ClipPayload, CuratedVideo, ShardManifest, VideoRequest};

    use super::*;
    use crate::read::samples::SkipReason;
    use crate::read::samples::tests::{clip_entries, record, tar_of};

    /// A frame's bytes: the reader hands frames over undecoded, so any bytes do.
    const JPEG: &[u8] = b"\xff\xd8 a frame \xff\xd9";

    /// A curated video with `captions.len()` clips of 3 frames each.
    fn video(video_key: &str, captions: &[Option<&str>]) -> CuratedVideo {
        let clips = captions
            .iter()
            .enumerate()
            .map(|(i, caption)| ClipPayload {
                record: record(video_key, i as u32, *caption, 3),
                middle_jpeg: JPEG.to_vec().into(),
                frames_jpeg: vec![JPEG.to_vec().into(); 3],
                fine_frames_jpeg: Vec::new(),
                video_mp4: None,
            })
            .collect();
        let mut request = VideoRequest::new(format!("https://example.com/{video_key}.mp4"));
        request.video_id = Some(format!("id/{video_key}"));
        CuratedVideo {
            request,
            video_id: format!("id/{video_key}"),
            video_key: video_key.into(),
            clips,
            scratch: Some(clipstream_schemas::Scratch::new(tempfile::tempdir().unwrap())),
        }
    }

    fn commit_videos(output: &Output, videos: Vec<CuratedVideo>) -> String {
        let mut builder = ShardBuilder::new().unwrap();
        for video in videos {
            builder.add(video).unwrap();
        }
        commit(output, builder).unwrap().shard
    }

    /// Commits a hand-made tar under `name` with a manifest, as the sink would.
    fn commit_tar(output: &Output, name: &str, tar: Vec<u8>) {
        output.put(&tar_key(name), tar).unwrap();
        let manifest = ShardManifest {
            shard: name.into(),
            video_ids: Vec::new(),
            video_keys: Vec::new(),
            clips: 0,
            files: Vec::new(),
            created_at: "2024-01-01T00:00:00Z".into(),
            clipstream_version: "test".into(),
        };
        output.put(&ShardManifest::path_for(name), serde_json::to_vec(&manifest).unwrap()).unwrap();
    }

    /// An output with two committed sink shards, one committed shard with damaged clips, and one uncommitted tar.
    fn dataset() -> (tempfile::TempDir, Output, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let output = Output::open(dir.path().join("out").to_str().unwrap()).unwrap();
        let first =
            commit_videos(&output, vec![video("va", &[Some("a 0"), Some("a 1"), None]), video("vb", &[Some("b 0")])]);
        let second = commit_videos(&output, vec![video("vc", &[Some("c 0"), Some("c 1")])]);

        let mut entries = clip_entries("vd", 0, 2);
        entries[0].1 = b"not json".to_vec();
        let mut missing = clip_entries("vd", 1, 3);
        missing.retain(|(name, _)| name != "vd_0001.f2.jpg");
        entries.extend(missing);
        entries.extend(clip_entries("vd", 2, 2));
        commit_tar(&output, "shard-damaged", tar_of(&entries));

        let mut orphan = ShardBuilder::new().unwrap();
        orphan.add(video("vz", &[Some("z 0")])).unwrap();
        let orphan = orphan.close().unwrap();
        output.put_file_multipart(&tar_key(&orphan.name), orphan.tar_path()).unwrap();
        (dir, output, first, second)
    }

    fn keys(reader: &mut ShardReader, n: usize) -> Vec<String> {
        reader.by_ref().take(n).map(|s| s.unwrap().key).collect()
    }

    #[test]
    fn lists_committed_shards_and_skips_uncommitted_ones() {
        let (_dir, output, first, second) = dataset();
        let list = list_committed_shards(&output).unwrap();
        let mut expected = vec![first, second, "shard-damaged".to_string()];
        expected.sort();
        assert_eq!(list.committed, expected);
        assert_eq!(list.uncommitted, vec![crate::shard_name(["vz"])]);
        assert!(list.missing_tar.is_empty() && list.unreadable_manifests.is_empty());

        output.delete(&tar_key("shard-damaged")).unwrap();
        let list = list_committed_shards(&output).unwrap();
        assert_eq!(list.missing_tar, vec!["shard-damaged".to_string()]);
        assert_eq!(list.committed.len(), 2);
    }

    #[test]
    fn reads_every_committed_sample_and_reports_damaged_ones() {
        let (_dir, output, first, _) = dataset();
        let mut reader = ShardReader::committed(output).unwrap();
        let samples: Vec<Sample> = reader.by_ref().map(Result::unwrap).collect();
        let mut got: Vec<&str> = samples.iter().map(|s| s.key.as_str()).collect();
        got.sort_unstable();
        assert_eq!(got, ["va_0000", "va_0001", "vb_0000", "vc_0000", "vc_0001", "vd_0002"]);
        assert!(!got.contains(&"vz_0000"), "the uncommitted shard is never read");

        let va = samples.iter().find(|s| s.key == "va_0001").unwrap();
        assert_eq!((va.video_key.as_str(), va.clip_index, va.caption.as_str()), ("va", 1, "a 1"));
        assert_eq!(va.frames, vec![JPEG.to_vec(); 3]);

        let stats = reader.stats();
        assert_eq!((stats.shards, stats.samples, stats.corrupt, stats.no_caption), (3, 6, 2, 1));
        let skipped: Vec<(&str, &str)> = reader.skipped().iter().map(|s| (s.shard.as_str(), s.key.as_str())).collect();
        assert_eq!(skipped, [("shard-damaged", "vd_0000"), ("shard-damaged", "vd_0001")]);
        assert!(matches!(reader.skipped()[0].reason, SkipReason::BadRecord(_)));
        assert_eq!(reader.skipped()[1].reason, SkipReason::MissingFrames { expected: 3, found: 2 });
        assert_eq!(reader.position(), Position { shard_index: 3, sample_index: 0 });
        assert!(reader.next_sample().unwrap().is_none());
        let _ = first;
    }

    #[test]
    fn resumes_from_a_recorded_position() {
        let (_dir, output, _, _) = dataset();
        let all: Vec<String> = ShardReader::committed(output.clone()).unwrap().map(|s| s.unwrap().key).collect();
        for cut in 0..=all.len() {
            let mut reader = ShardReader::committed(output.clone()).unwrap();
            let head = keys(&mut reader, cut);
            let position = reader.position();
            let shards = reader.shards().to_vec();
            drop(reader);
            let tail: Vec<String> =
                ShardReader::new(output.clone(), shards, position).map(|s| s.unwrap().key).collect();
            assert_eq!([head, tail].concat(), all, "resuming after {cut} samples at {position:?}");
        }
    }

    #[test]
    fn a_truncated_shard_is_reported_and_reading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let output = Output::open(dir.path().join("out").to_str().unwrap()).unwrap();
        let entries: Vec<_> = (0..3).flat_map(|i| clip_entries("vt", i, 2)).collect();
        let tar = tar_of(&entries);
        // Not on a 512-byte block boundary, so the cut is inside a header or inside data.
        commit_tar(&output, "shard-a-truncated", tar[..tar.len() / 2 + 100].to_vec());
        commit_tar(&output, "shard-b-whole", tar_of(&clip_entries("vw", 0, 1)));
        let mut reader = ShardReader::committed(output).unwrap();
        let got: Vec<String> = reader.by_ref().map(|s| s.unwrap().key).collect();
        assert_eq!(got.last().map(String::as_str), Some("vw_0000"));
        assert!(got.len() < 4, "{got:?}");
        assert_eq!(reader.stats().corrupt, 1);
        assert!(matches!(reader.skipped()[0].reason, SkipReason::BadTar(_)), "{:?}", reader.skipped());
    }

    #[test]
    fn a_missing_tar_is_an_error_for_that_shard_only() {
        let dir = tempfile::tempdir().unwrap();
        let output = Output::open(dir.path().join("out").to_str().unwrap()).unwrap();
        output.put(&tar_key("shard-b"), tar_of(&clip_entries("vb", 0, 1))).unwrap();
        let mut reader = ShardReader::new(output, vec!["shard-a".into(), "shard-b".into()], Position::default());
        let error = reader.next_sample().unwrap_err();
        assert!(format!("{error:#}").contains("shard-a"), "{error:#}");
        assert_eq!(reader.next_sample().unwrap().unwrap().key, "vb_0000");
        assert!(reader.next_sample().unwrap().is_none());
    }
}
