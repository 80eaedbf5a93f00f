//! `Resharder`: writes the selected clips of a committed dataset into new shards of another output, copying their
//! tar entries (frames, clip mp4, record) from the source shards. Selected rows arrive grouped by source shard;
//! each source tar is streamed to a temporary file and read once, one video's clips at a time, into the curate
//! sink (manifests last, whole videos per shard, content-addressed names, so a re-run rewrites the same shards).
//! Memory: the keys selected in one source shard and the frames of one video.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clipstream_core::SpillFile;
use clipstream_schemas::config::SinkConfig;
use clipstream_schemas::{ClipPayload, ClipRecord, CuratedVideo, Jpeg, Scratch, VideoRequest};
use clipstream_sink::ShardSink;
use clipstream_store::webdataset::Entry;
use clipstream_store::{Output, tar_key};
use serde::Serialize;

use clipstream_store::metadata::row::ClipRow;

/// What a reshard wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReshardSummary {
    pub output: String,
    pub source_shards: u64,
    pub shards: u64,
    pub videos: u64,
    pub clips: u64,
}

/// See the module docs.
pub struct Resharder {
    source: Output,
    sink: ShardSink,
    current: Option<String>,
    keys: HashSet<String>,
    finished_shards: HashSet<String>,
    summary: ReshardSummary,
}

/// A clip being read from a tar.
struct PartialClip {
    record: ClipRecord,
    middle: Vec<u8>,
    frames: Vec<(u32, Vec<u8>)>,
    mp4: Option<PathBuf>,
}

/// The clips of one video being read from a tar.
struct PartialVideo {
    scratch: Arc<tempfile::TempDir>,
    /// The video's JPEGs, spilled as its clips are read (a video's frames are never all in memory).
    spill: Arc<SpillFile>,
    clips: Vec<ClipPayload>,
    video_id: String,
    video_key: String,
    url: String,
}

impl Resharder {
    /// Reshards from the dataset at `source` into `target` (a directory or object-store URL).
    pub fn new(source: Output, target: &str, config: SinkConfig) -> anyhow::Result<Self> {
        let output = Output::open(target).with_context(|| format!("opening reshard output {target}"))?;
        let summary = ReshardSummary { output: target.to_string(), ..ReshardSummary::default() };
        Ok(Self {
            source,
            sink: ShardSink::new(output, config),
            current: None,
            keys: HashSet::new(),
            finished_shards: HashSet::new(),
            summary,
        })
    }

    /// Adds a selected clip. Clips of one source shard must arrive together.
    pub fn add(&mut self, row: &ClipRow) -> anyhow::Result<()> {
        let (Some(shard), Some(key)) = (&row.shard, &row.key) else {
            anyhow::bail!("clip {} has no shard: only clips of a committed dataset can be resharded", row.identity());
        };
        if self.current.as_ref() != Some(shard) {
            self.flush_shard()?;
            anyhow::ensure!(
                !self.finished_shards.contains(shard),
                "clips of shard {shard} arrive in two runs; the selection must be grouped by shard"
            );
            self.current = Some(shard.clone());
        }
        self.keys.insert(key.clone());
        Ok(())
    }

    /// Writes the last shard's clips and commits the last new shard.
    pub fn finish(mut self) -> anyhow::Result<ReshardSummary> {
        self.flush_shard()?;
        if self.sink.finish().map_err(|f| f.error).context("committing the last resharded shard")?.is_some() {
            self.summary.shards += 1;
        }
        Ok(self.summary)
    }

    fn flush_shard(&mut self) -> anyhow::Result<()> {
        let Some(shard) = self.current.take() else { return Ok(()) };
        let keys = std::mem::take(&mut self.keys);
        self.copy_shard(&shard, &keys).with_context(|| format!("resharding clips of {shard}"))?;
        self.finished_shards.insert(shard);
        self.summary.source_shards += 1;
        Ok(())
    }

    fn copy_shard(&mut self, shard: &str, keys: &HashSet<String>) -> anyhow::Result<()> {
        let spool = tempfile::Builder::new().prefix("clipstream-reshard-").tempdir().context("creating a spool")?;
        let tar_path = spool.path().join("source.tar");
        self.source.download(&tar_key(shard), &tar_path)?;
        let mut archive = tar::Archive::new(File::open(&tar_path).context("opening the downloaded tar")?);
        let mut video: Option<PartialVideo> = None;
        let mut clip: Option<PartialClip> = None;
        let mut found = 0usize;
        for entry in archive.entries().context("reading the tar")? {
            let mut entry = entry.context("reading a tar entry")?;
            let name = entry.path().context("tar entry name")?.to_string_lossy().into_owned();
            let (key, kind) = Entry::parse(&name);
            let Some(kind) = kind.filter(|_| keys.contains(key)) else { continue };
            let mut data = Vec::new();
            entry.read_to_end(&mut data).with_context(|| format!("reading {name}"))?;
            if kind == Entry::Record {
                if let Some(done) = clip.take() {
                    self.finish_clip(done, &mut video)?;
                }
                let record: ClipRecord = serde_json::from_slice(&data).with_context(|| format!("parsing {name}"))?;
                found += 1;
                clip = Some(PartialClip { record, middle: Vec::new(), frames: Vec::new(), mp4: None });
                continue;
            }
            let Some(current) = clip.as_mut().filter(|c| c.record.key == key) else {
                anyhow::bail!("{name} comes before {key}.json");
            };
            match kind {
                Entry::Middle => current.middle = data,
                Entry::Mp4 => {
                    let video = self.video_for(&current.record, &mut video)?;
                    let path = video.scratch.path().join(Entry::Mp4.name(key));
                    std::fs::write(&path, &data).with_context(|| format!("spooling {}", path.display()))?;
                    current.mp4 = Some(path);
                }
                Entry::Frame(index) => current.frames.push((index, data)),
                Entry::Record | Entry::Caption => {}
            }
        }
        if let Some(done) = clip.take() {
            self.finish_clip(done, &mut video)?;
        }
        if let Some(done) = video.take() {
            self.push_video(done)?;
        }
        anyhow::ensure!(found == keys.len(), "{} selected clips are not in the tar", keys.len() - found);
        Ok(())
    }

    /// The video a clip belongs to, pushing the previous video when this clip starts a new one.
    fn video_for<'a>(
        &mut self,
        record: &ClipRecord,
        video: &'a mut Option<PartialVideo>,
    ) -> anyhow::Result<&'a mut PartialVideo> {
        if video.as_ref().is_some_and(|v| v.video_key != record.video_key)
            && let Some(done) = video.take()
        {
            self.push_video(done)?;
        }
        if video.is_none() {
            let scratch = tempfile::Builder::new().prefix("clipstream-reshard-video-").tempdir().context("scratch")?;
            let spill = SpillFile::new_in(scratch.path()).context("spill file")?;
            *video = Some(PartialVideo {
                scratch: Arc::new(scratch),
                spill,
                clips: Vec::new(),
                video_id: record.video_id.clone(),
                video_key: record.video_key.clone(),
                url: record.url.clone(),
            });
        }
        video.as_mut().context("a video is open")
    }

    fn finish_clip(&mut self, clip: PartialClip, video: &mut Option<PartialVideo>) -> anyhow::Result<()> {
        let mut frames = clip.frames;
        frames.sort_by_key(|(index, _)| *index);
        let target = self.video_for(&clip.record, video)?;
        let spill = |bytes: &[u8]| target.spill.append(bytes).context("spilling a frame");
        let middle_jpeg = if clip.middle.is_empty() { Jpeg::default() } else { spill(&clip.middle)? };
        let frames_jpeg = frames.iter().map(|(_, data)| spill(data)).collect::<anyhow::Result<Vec<Jpeg>>>()?;
        target.clips.push(ClipPayload {
            record: clip.record,
            middle_jpeg,
            frames_jpeg,
            fine_frames_jpeg: Vec::new(),
            video_mp4: clip.mp4,
        });
        Ok(())
    }

    fn push_video(&mut self, video: PartialVideo) -> anyhow::Result<()> {
        let request = VideoRequest { video_id: Some(video.video_id.clone()), ..VideoRequest::new(video.url) };
        self.summary.videos += 1;
        self.summary.clips += video.clips.len() as u64;
        let curated = CuratedVideo {
            request,
            video_id: video.video_id,
            video_key: video.video_key,
            clips: video.clips,
            scratch: Some(Scratch::new(video.scratch)),
        };
        if self.sink.push(curated).map_err(|f| f.error).context("writing a resharded shard")?.is_some() {
            self.summary.shards += 1;
        }
        Ok(())
    }
}
