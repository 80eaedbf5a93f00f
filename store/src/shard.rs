//! `ShardBuilder`: collects whole curated videos into one webdataset shard on local disk.
//!
//! Clip bytes are spooled to a temporary folder as videos arrive; the tar is written only at [`ShardBuilder::close`],
//! once the set of videos (and so the shard name) is known. The name is `shard-` plus the first 16 hex digits of
//! the SHA-256 of the sorted video keys joined by `\n`, so a replay of the same videos gives the same name, and every
//! `{key}.json` in the tar carries its final `shard`. Entries are sorted by video key, keep the clips' order, and have
//! fixed metadata (mtime 0, mode 0644, uid/gid 0): the same videos always give a byte-identical tar.
//!
//! Per clip, in this order: `{key}.json` (the full `ClipRecord`), `{key}.jpg` (middle frame, when not empty),
//! `{key}.f{i}.jpg` (sampled frames), `{key}.txt` (caption, only when present), `{key}.mp4` (when cut).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clipstream_schemas::config::SinkConfig;
use clipstream_schemas::key::MAX_KEY_LEN;
use clipstream_schemas::{ClipRecord, CuratedVideo, Jpeg, SourcePosition, clip_key};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::error::StoreError;
use crate::webdataset::Entry;

/// Every shard name starts with this.
pub const SHARD_PREFIX: &str = "shard-";
/// Hex digits of the key-set hash in a shard name.
const NAME_HASH_HEX: usize = 16;
/// Tar block size.
const BLOCK: u64 = 512;
/// Longest entry name that fits a tar header without the GNU long-name extension.
const HEADER_NAME_MAX: usize = 100;

/// The shard name of a set of videos: `shard-` + 16 hex digits of SHA-256 over the sorted keys joined by `\n`.
pub fn shard_name<'a>(video_keys: impl IntoIterator<Item = &'a str>) -> String {
    let mut keys: Vec<&str> = video_keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    let digest = Sha256::digest(keys.join("\n").as_bytes());
    let mut name = String::from(SHARD_PREFIX);
    name.push_str(&hex::encode(digest)[..NAME_HASH_HEX]);
    name
}

/// A video of a shard, as listed in its manifest (and in error records when its shard fails).
#[derive(Debug, Clone, PartialEq)]
pub struct ShardVideo {
    pub video_id: String,
    pub video_key: String,
    pub url: String,
    pub source: Option<SourcePosition>,
}

#[derive(Debug)]
struct SpooledClip {
    record: ClipRecord,
    middle: Option<PathBuf>,
    frames: Vec<PathBuf>,
    mp4: Option<PathBuf>,
}

#[derive(Debug)]
struct SpooledVideo {
    info: ShardVideo,
    clips: Vec<SpooledClip>,
}

/// A shard being filled. See the module docs for the layout.
#[derive(Debug)]
pub struct ShardBuilder {
    spool: TempDir,
    videos: BTreeMap<String, SpooledVideo>,
    clips: u64,
    /// Exact size the tar will have, without the 1 KiB end-of-archive marker.
    tar_bytes: u64,
    next_dir: u64,
}

/// A shard whose tar is written locally and whose records carry their shard name; ready for
/// [`crate::commit::commit`].
#[derive(Debug)]
pub struct ClosedShard {
    pub name: String,
    /// Videos sorted by key.
    pub videos: Vec<ShardVideo>,
    /// Clip records in tar order, `shard` filled in.
    pub records: Vec<ClipRecord>,
    pub tar_bytes: u64,
    tar_path: PathBuf,
    _spool: TempDir,
}

impl ClosedShard {
    /// The local tar file (deleted when this value is dropped).
    pub fn tar_path(&self) -> &Path {
        &self.tar_path
    }
}

impl ShardBuilder {
    /// An empty shard spooling to the system temp directory.
    pub fn new() -> Result<Self, StoreError> {
        Self::new_in(&std::env::temp_dir())
    }

    /// An empty shard spooling under `dir`.
    pub fn new_in(dir: &Path) -> Result<Self, StoreError> {
        let spool = tempfile::Builder::new()
            .prefix(&clipstream_core::scratch_prefix("shard"))
            .tempdir_in(dir)
            .map_err(|e| StoreError::io("create shard spool", dir, e))?;
        Ok(Self { spool, videos: BTreeMap::new(), clips: 0, tar_bytes: 0, next_dir: 0 })
    }

    /// Adds all clips of one video. A video already in this shard is ignored (replays are idempotent). On error
    /// the shard is unchanged.
    pub fn add(&mut self, video: CuratedVideo) -> Result<(), StoreError> {
        if self.videos.contains_key(&video.video_key) {
            tracing::warn!(video_key = %video.video_key, "video already in this shard; ignoring the repeat");
            return Ok(());
        }
        if !is_safe_key(&video.video_key) {
            return Err(StoreError::BadKey { video_id: video.video_id.clone(), key: video.video_key.clone() });
        }
        let dir = self.spool.path().join(self.next_dir.to_string());
        self.next_dir += 1;
        match spool_video(&dir, &video) {
            Ok((clips, bytes)) => {
                self.clips += clips.len() as u64;
                self.tar_bytes += bytes;
                let info = ShardVideo {
                    video_id: video.video_id,
                    video_key: video.video_key.clone(),
                    url: video.request.url,
                    source: video.request.source,
                };
                self.videos.insert(video.video_key, SpooledVideo { info, clips });
                Ok(())
            }
            Err(error) => {
                if let Err(cleanup) = std::fs::remove_dir_all(&dir)
                    && cleanup.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(dir = %dir.display(), %cleanup, "cannot remove the spool of a failed video");
                }
                Err(error)
            }
        }
    }

    /// Whether the tar reached `max_shard_bytes` or the shard holds `max_shard_clips` clips.
    pub fn is_full(&self, config: &SinkConfig) -> bool {
        self.tar_bytes + 2 * BLOCK >= config.max_shard_bytes || self.clips >= config.max_shard_clips
    }

    pub fn is_empty(&self) -> bool {
        self.videos.is_empty()
    }

    pub fn contains(&self, video_key: &str) -> bool {
        self.videos.contains_key(video_key)
    }

    pub fn video_count(&self) -> usize {
        self.videos.len()
    }

    pub fn clip_count(&self) -> u64 {
        self.clips
    }

    /// The size the tar will have, end-of-archive marker included.
    pub fn tar_bytes(&self) -> u64 {
        self.tar_bytes + 2 * BLOCK
    }

    /// The videos added so far, sorted by key.
    pub fn videos(&self) -> impl Iterator<Item = &ShardVideo> {
        self.videos.values().map(|video| &video.info)
    }

    /// The name the shard would get if closed now.
    pub fn name(&self) -> String {
        shard_name(self.videos.keys().map(String::as_str))
    }

    /// Names the shard, stamps every record with the name and writes the tar.
    pub fn close(self) -> Result<ClosedShard, StoreError> {
        if self.videos.is_empty() {
            return Err(StoreError::EmptyShard);
        }
        let name = self.name();
        let tar_path = self.spool.path().join("shard.tar");
        let file = File::create(&tar_path).map_err(|e| StoreError::io("create tar", &tar_path, e))?;
        let mut tar = tar::Builder::new(BufWriter::new(file));
        let mut records = Vec::with_capacity(usize::try_from(self.clips).unwrap_or(0));
        let mut videos = Vec::with_capacity(self.videos.len());
        let tar_err = |e| StoreError::io("write tar", &tar_path, e);
        for video in self.videos.into_values() {
            for clip in video.clips {
                let mut record = clip.record;
                record.shard.clone_from(&name);
                write_clip(&mut tar, &record, clip.middle.as_deref(), &clip.frames, clip.mp4.as_deref())
                    .map_err(tar_err)?;
                records.push(record);
            }
            videos.push(video.info);
        }
        let mut writer = tar.into_inner().map_err(tar_err)?;
        writer.flush().map_err(tar_err)?;
        drop(writer);
        let tar_bytes = std::fs::metadata(&tar_path).map_err(|e| StoreError::io("stat tar", &tar_path, e))?.len();
        Ok(ClosedShard { name, videos, records, tar_bytes, tar_path, _spool: self.spool })
    }
}

/// Writes one video's frames and clip files under `dir`; returns the spooled clips and their tar bytes.
fn spool_video(dir: &Path, video: &CuratedVideo) -> Result<(Vec<SpooledClip>, u64), StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create spool folder", dir, e))?;
    let placeholder = "x".repeat(SHARD_PREFIX.len() + NAME_HASH_HEX);
    let mut clips = Vec::with_capacity(video.clips.len());
    let mut bytes = 0;
    for clip in &video.clips {
        let mut record = clip.record.clone();
        if record.key.is_empty() {
            record.key = clip_key(&video.video_key, record.clip_index);
        }
        let key = record.key.clone();
        if !is_safe_key(&key) {
            return Err(StoreError::BadKey { video_id: video.video_id.clone(), key });
        }
        record.num_frames = u32::try_from(clip.frames_jpeg.len()).unwrap_or(u32::MAX);
        record.has_video = clip.video_mp4.is_some();
        record.shard.clone_from(&placeholder);
        let json = record_json(&record)?;
        bytes += entry_bytes(&Entry::Record.name(&key), json.len() as u64);

        let mut spool = |name: String, jpeg: &Jpeg| -> Result<PathBuf, StoreError> {
            let path = dir.join(&name);
            let data = jpeg.bytes().map_err(|e| StoreError::io("read a frame back from its spill file", &path, e))?;
            std::fs::write(&path, &data).map_err(|e| StoreError::io("spool frame", &path, e))?;
            bytes += entry_bytes(&name, data.len() as u64);
            Ok(path)
        };
        let middle =
            if clip.middle_jpeg.is_empty() { None } else { Some(spool(Entry::Middle.name(&key), &clip.middle_jpeg)?) };
        let frames = clip
            .frames_jpeg
            .iter()
            .enumerate()
            .map(|(i, jpeg)| spool(Entry::Frame(i as u32).name(&key), jpeg))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(caption) = &record.caption {
            bytes += entry_bytes(&Entry::Caption.name(&key), caption.len() as u64);
        }
        let mp4 = match &clip.video_mp4 {
            Some(source) => {
                let name = Entry::Mp4.name(&key);
                let path = dir.join(&name);
                let size = link_or_copy(source, &path)?;
                bytes += entry_bytes(&name, size);
                Some(path)
            }
            None => None,
        };
        clips.push(SpooledClip { record, middle, frames, mp4 });
    }
    Ok((clips, bytes))
}

/// Whether `key` can name tar entries and spool files: `[A-Za-z0-9_-]`, not empty, not starting with `-`, and
/// short (a clip key is a safe video key of up to `MAX_KEY_LEN` bytes plus `_NNNN`).
fn is_safe_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 2 * MAX_KEY_LEN
        && !key.starts_with('-')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Hard-links `source` into the spool (cheap, and survives the deletion of the scratch folder), copying when the
/// two are on different file systems. Returns the file size.
fn link_or_copy(source: &Path, target: &Path) -> Result<u64, StoreError> {
    if std::fs::hard_link(source, target).is_err() {
        std::fs::copy(source, target).map_err(|e| StoreError::io("copy clip into spool", source, e))?;
    }
    std::fs::metadata(target).map(|m| m.len()).map_err(|e| StoreError::io("stat spooled clip", target, e))
}

fn record_json(record: &ClipRecord) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(record).map_err(|source| StoreError::Json { what: format!("clip {}", record.key), source })
}

/// Bytes one entry takes in the tar: header, GNU long-name entry when needed, data padded to blocks.
fn entry_bytes(name: &str, size: u64) -> u64 {
    let padded = |n: u64| n.div_ceil(BLOCK) * BLOCK;
    let long_name = if name.len() > HEADER_NAME_MAX { BLOCK + padded(name.len() as u64 + 1) } else { 0 };
    long_name + BLOCK + padded(size)
}

fn header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> std::io::Result<()> {
    tar.append_data(&mut header(data.len() as u64), name, data)
}

fn append_file<W: Write>(tar: &mut tar::Builder<W>, name: &str, path: &Path) -> std::io::Result<()> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    tar.append_data(&mut header(size), name, file)
}

fn write_clip<W: Write>(
    tar: &mut tar::Builder<W>,
    record: &ClipRecord,
    middle: Option<&Path>,
    frames: &[PathBuf],
    mp4: Option<&Path>,
) -> std::io::Result<()> {
    let key = &record.key;
    let json = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    append_bytes(tar, &Entry::Record.name(key), &json)?;
    if let Some(path) = middle {
        append_file(tar, &Entry::Middle.name(key), path)?;
    }
    for (i, path) in frames.iter().enumerate() {
        append_file(tar, &Entry::Frame(i as u32).name(key), path)?;
    }
    if let Some(caption) = &record.caption {
        append_bytes(tar, &Entry::Caption.name(key), caption.as_bytes())?;
    }
    if let Some(path) = mp4 {
        append_file(tar, &Entry::Mp4.name(key), path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::fixtures::video;

    fn entries(tar_path: &Path) -> Vec<(String, Vec<u8>, tar::Header)> {
        let mut archive = tar::Archive::new(File::open(tar_path).unwrap());
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let name = entry.path().unwrap().to_string_lossy().into_owned();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                (name, data, entry.header().clone())
            })
            .collect()
    }

    #[test]
    fn tar_has_webdataset_layout() {
        let mut builder = ShardBuilder::new().unwrap();
        builder.add(video("vb", 1, false)).unwrap();
        builder.add(video("va", 2, true)).unwrap();
        assert_eq!((builder.video_count(), builder.clip_count()), (2, 3));
        let estimated = builder.tar_bytes();
        let shard = builder.close().unwrap();
        assert_eq!(shard.name, shard_name(["va", "vb"]));
        assert_eq!(shard.tar_bytes, estimated, "size is tracked exactly");

        let entries = entries(shard.tar_path());
        let names: Vec<&str> = entries.iter().map(|(name, _, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "va_0000.json",
                "va_0000.jpg",
                "va_0000.f0.jpg",
                "va_0000.f1.jpg",
                "va_0000.txt",
                "va_0000.mp4",
                "va_0001.json",
                "va_0001.jpg",
                "va_0001.f0.jpg",
                "va_0001.f1.jpg",
                "va_0001.mp4",
                "vb_0000.json",
                "vb_0000.jpg",
                "vb_0000.f0.jpg",
                "vb_0000.f1.jpg",
                "vb_0000.txt",
            ]
        );
        let data = |name: &str| entries.iter().find(|(n, _, _)| n == name).map(|(_, d, _)| d.clone()).unwrap();
        assert_eq!(data("va_0000.jpg"), "\u{ff}middle va 0".as_bytes());
        assert_eq!(data("va_0001.f1.jpg"), b"frame 1 of va 1");
        assert_eq!(data("va_0000.txt"), b"a caption of va clip 0");
        assert_eq!(data("va_0001.mp4"), b"mp4 of va 1");
        let record: ClipRecord = serde_json::from_slice(&data("va_0001.json")).unwrap();
        assert_eq!(record.shard, shard.name);
        assert_eq!(record.key, "va_0001");
        assert_eq!((record.num_frames, record.has_video), (2, true));
        assert_eq!(shard.records.len(), 3);
        assert!(shard.records.iter().all(|r| r.shard == shard.name));
        assert_eq!(shard.videos.iter().map(|v| v.video_key.as_str()).collect::<Vec<_>>(), ["va", "vb"]);
        for (_, _, header) in &entries {
            assert_eq!(header.mtime().unwrap(), 0);
            assert_eq!(header.mode().unwrap(), 0o644);
            assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
        }
    }

    #[test]
    fn same_videos_give_identical_shards() {
        let build = |keys: &[&str]| {
            let mut builder = ShardBuilder::new().unwrap();
            for key in keys {
                builder.add(video(key, 2, true)).unwrap();
            }
            let shard = builder.close().unwrap();
            (shard.name.clone(), std::fs::read(shard.tar_path()).unwrap())
        };
        let first = build(&["v1", "v2", "v3"]);
        let second = build(&["v3", "v1", "v2"]);
        assert_eq!(first.0, second.0);
        assert!(first.1 == second.1, "tar bytes differ");
        assert_ne!(first.0, build(&["v1", "v2"]).0);
        assert!(first.0.starts_with("shard-") && first.0.len() == 22);
    }

    #[test]
    fn long_keys_use_gnu_long_names_and_are_counted() {
        let key = "k".repeat(96);
        let mut builder = ShardBuilder::new().unwrap();
        builder.add(video(&key, 1, false)).unwrap();
        let estimated = builder.tar_bytes();
        let shard = builder.close().unwrap();
        assert_eq!(shard.tar_bytes, estimated);
        let names: Vec<String> = entries(shard.tar_path()).into_iter().map(|(n, _, _)| n).collect();
        assert!(names.contains(&format!("{key}_0000.f1.jpg")));
    }

    #[test]
    fn bad_keys_fail_alone_and_repeats_are_ignored() {
        let mut builder = ShardBuilder::new().unwrap();
        builder.add(video("good", 1, false)).unwrap();
        let before = builder.tar_bytes();
        let mut hostile = video("evil", 1, false);
        hostile.clips[0].record.key = "../evil".into();
        assert!(matches!(builder.add(hostile), Err(StoreError::BadKey { .. })));
        assert!(matches!(builder.add(video("a.b", 1, false)), Err(StoreError::BadKey { .. })));
        builder.add(video("good", 3, false)).unwrap();
        assert_eq!((builder.video_count(), builder.clip_count(), builder.tar_bytes()), (1, 1, before));
    }

    #[test]
    fn fullness_by_clips_and_bytes() {
        let mut builder = ShardBuilder::new().unwrap();
        builder.add(video("a", 2, false)).unwrap();
        assert!(!builder.is_full(&SinkConfig {
            max_shard_bytes: 1 << 20,
            max_shard_clips: 3,
            ..SinkConfig::default()
        }));
        assert!(builder.is_full(&SinkConfig { max_shard_bytes: 1 << 20, max_shard_clips: 2, ..SinkConfig::default() }));
        assert!(builder.is_full(&SinkConfig {
            max_shard_bytes: builder.tar_bytes(),
            max_shard_clips: 100,
            ..SinkConfig::default()
        }));
        assert!(matches!(ShardBuilder::new().unwrap().close(), Err(StoreError::EmptyShard)));
    }

    #[test]
    fn videos_without_clips_are_listed() {
        let mut builder = ShardBuilder::new().unwrap();
        builder.add(video("empty", 0, false)).unwrap();
        let shard = builder.close().unwrap();
        assert_eq!(shard.videos.len(), 1);
        assert!(shard.records.is_empty());
        assert_eq!(shard.tar_bytes, 1024);
    }
}
