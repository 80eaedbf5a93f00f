//! Grouping a shard's tar entries into training samples. One webdataset key is one clip: `{key}.json` (the
//! `ClipRecord`), `{key}.txt` (caption), `{key}.f{i}.jpg` (frames); `{key}.jpg` and `{key}.mp4` are not read. A clip
//! that is incomplete or corrupt becomes a [`Skipped`] value, never an error: one bad clip must not stop training.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::ControlFlow;

use clipstream_schemas::ClipRecord;

use crate::webdataset::Entry;

/// One clip ready for the frame transform: its caption and its stored frames (JPEG bytes, `f0`, `f1`, ... order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The webdataset key (`{video_key}_{clip_index:04}`).
    pub key: String,
    /// The clip's video, as a safe key: the unit of the clip-per-video sampler.
    pub video_key: String,
    pub clip_index: u32,
    pub caption: String,
    /// The clip's class label, when the record has one (zero-shot classification in `clipstream eval`).
    pub category: Option<String>,
    pub frames: Vec<Vec<u8>>,
}

/// Why a clip was left out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("no .json record")]
    MissingRecord,
    #[error("the .json record does not parse: {0}")]
    BadRecord(String),
    #[error("the record is for key {0:?}")]
    KeyMismatch(String),
    #[error("the record lists no frames")]
    NoFrames,
    #[error("{found} of {expected} frames present (missing or empty .f{{i}}.jpg)")]
    MissingFrames { expected: u32, found: u32 },
    #[error("the record has a caption but the .txt is missing")]
    MissingCaption,
    #[error("the caption is not UTF-8")]
    BadCaption,
    /// Not corruption: the clip was curated without a caption. Counted, not listed.
    #[error("no caption")]
    NoCaption,
    #[error("the tar is corrupt or truncated: {0}")]
    BadTar(String),
}

impl SkipReason {
    /// Whether the clip is damaged (as opposed to merely having no caption).
    pub fn is_corrupt(&self) -> bool {
        !matches!(self, Self::NoCaption)
    }
}

/// A clip left out of training: where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub shard: String,
    /// The clip's key; empty when the tar broke before any entry of the clip could be read.
    pub key: String,
    pub reason: SkipReason,
}

/// The entries of one key seen so far.
#[derive(Debug, Default)]
struct Group {
    key: String,
    record: Option<Vec<u8>>,
    caption: Option<Vec<u8>>,
    frames: BTreeMap<u32, Vec<u8>>,
}

impl Group {
    fn new(key: &str) -> Self {
        Self { key: key.to_string(), ..Self::default() }
    }

    /// Keeps the entries a sample needs (the middle frame and the mp4 are not read).
    fn add(&mut self, entry: Entry, data: Vec<u8>) {
        match entry {
            Entry::Record => self.record = Some(data),
            Entry::Caption => self.caption = Some(data),
            Entry::Frame(index) => {
                self.frames.insert(index, data);
            }
            Entry::Middle | Entry::Mp4 => {}
        }
    }

    /// The sample, or why there is none.
    fn finish(self) -> Result<Sample, SkipReason> {
        let data = self.record.ok_or(SkipReason::MissingRecord)?;
        let record: ClipRecord = serde_json::from_slice(&data).map_err(|e| SkipReason::BadRecord(e.to_string()))?;
        if record.key != self.key {
            return Err(SkipReason::KeyMismatch(record.key));
        }
        let caption = match self.caption {
            Some(bytes) => String::from_utf8(bytes).map_err(|_| SkipReason::BadCaption)?,
            None if record.caption.as_deref().is_some_and(|c| !c.trim().is_empty()) => {
                return Err(SkipReason::MissingCaption);
            }
            None => String::new(),
        };
        if caption.trim().is_empty() {
            return Err(SkipReason::NoCaption);
        }
        let expected = record.num_frames;
        if expected == 0 {
            return Err(SkipReason::NoFrames);
        }
        let mut frames = self.frames;
        let present: Vec<Vec<u8>> = (0..expected).filter_map(|i| frames.remove(&i)).filter(|f| !f.is_empty()).collect();
        if present.len() != expected as usize {
            let found = u32::try_from(present.len()).unwrap_or(u32::MAX);
            return Err(SkipReason::MissingFrames { expected, found });
        }
        Ok(Sample {
            key: self.key,
            video_key: record.video_key,
            clip_index: record.clip_index,
            caption,
            category: record.category,
            frames: present,
        })
    }
}

/// The clip being read: its index among the clips of the tar, its key, and its entries (`None` while passing over
/// clips before the start index).
struct Current {
    index: usize,
    key: String,
    group: Option<Group>,
}

/// Walks a webdataset tar and hands every clip, in tar order, to `visit` with its index among the clips of the tar
/// (skipped ones included, so that an index names the same clip whatever was skipped). Clips before index `start`
/// are passed over without reading their data. A broken tar ends the walk with one `BadTar` skip for the clip in
/// progress; `visit` returning `Break` ends it early. Returns the number of clips seen.
pub fn walk_clips<R: Read>(
    reader: R,
    shard: &str,
    start: usize,
    mut visit: impl FnMut(usize, Result<Sample, Skipped>) -> ControlFlow<()>,
) -> usize {
    let skipped = |key: &str, reason| Skipped { shard: shard.to_string(), key: key.to_string(), reason };
    let broken = |current: Option<&Current>, seen: usize, message: String| {
        let (index, key) = current.map_or((seen, ""), |c| (c.index, c.key.as_str()));
        (index.max(start), Err(skipped(key, SkipReason::BadTar(message))))
    };
    let finish = |current: Option<Current>| match current {
        Some(Current { index, key, group: Some(group) }) => {
            Some((index, group.finish().map_err(|reason| skipped(&key, reason))))
        }
        _ => None,
    };
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(error) => {
            let (index, result) = broken(None, 0, error.to_string());
            let _ = visit(index, result);
            return 0;
        }
    };
    let mut current: Option<Current> = None;
    let mut seen = 0usize;
    for entry in entries {
        let named = entry.and_then(|entry| {
            let name = entry.path()?.to_string_lossy().into_owned();
            Ok((entry, name))
        });
        let (mut entry, name) = match named {
            Ok(named) => named,
            Err(error) => {
                let (index, result) = broken(current.as_ref(), seen, error.to_string());
                let _ = visit(index, result);
                return seen;
            }
        };
        let (key, kind) = Entry::parse(&name);
        if current.as_ref().is_none_or(|c| c.key != key) {
            if let Some((index, result)) = finish(current.take())
                && visit(index, result).is_break()
            {
                return seen;
            }
            current =
                Some(Current { index: seen, key: key.to_string(), group: (seen >= start).then(|| Group::new(key)) });
            seen += 1;
        }
        let Some(kind) = kind.filter(|k| !matches!(k, Entry::Middle | Entry::Mp4)) else { continue };
        if current.as_ref().is_none_or(|c| c.group.is_none()) {
            continue;
        }
        let size = entry.size();
        let mut data = Vec::with_capacity(usize::try_from(size.min(1 << 24)).unwrap_or(0));
        let problem = match entry.read_to_end(&mut data) {
            Err(error) => Some(format!("reading {name}: {error}")),
            Ok(n) if n as u64 != size => Some(format!("{name} has {n} of {size} bytes")),
            Ok(_) => None,
        };
        if let Some(message) = problem {
            let (index, result) = broken(current.as_ref(), seen, message);
            let _ = visit(index, result);
            return seen;
        }
        if let Some(group) = current.as_mut().and_then(|c| c.group.as_mut()) {
            group.add(kind, data);
        }
    }
    if let Some((index, result)) = finish(current) {
        let _ = visit(index, result);
    }
    seen
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Cursor;

    use super::*;

    /// A `ClipRecord` as the sink writes it, with `frames` stored frames.
    pub(crate) fn record(video_key: &str, clip_index: u32, caption: Option<&str>, frames: u32) -> ClipRecord {
        let start = f64::from(clip_index) * 2.0;
        ClipRecord {
            video_id: format!("id/{video_key}"),
            video_key: video_key.to_string(),
            clip_index,
            key: clipstream_schemas::clip_key(video_key, clip_index),
            shard: "shard-test".into(),
            url: format!("https://example.com/{video_key}.mp4"),
            start_s: start,
            end_s: start + 2.0,
            start_ts: clipstream_schemas::format_timestamp(start),
            end_ts: clipstream_schemas::format_timestamp(start + 2.0),
            duration_s: 2.0,
            end_frame: 50,
            fps: 25.0,
            width: 32,
            height: 16,
            num_frames: frames,
            motion: 1.0,
            caption: caption.map(str::to_string),
            ..Default::default()
        }
    }

    /// Tar bytes of `(name, data)` entries.
    pub(crate) fn tar_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            builder.append_data(&mut header, name, data.as_slice()).unwrap();
        }
        builder.into_inner().unwrap()
    }

    /// The entries of a complete clip.
    pub(crate) fn clip_entries(video_key: &str, clip_index: u32, frames: u32) -> Vec<(String, Vec<u8>)> {
        let caption = format!("caption of {video_key} {clip_index}");
        let record = record(video_key, clip_index, Some(&caption), frames);
        let key = record.key.clone();
        let mut entries = vec![(format!("{key}.json"), serde_json::to_vec(&record).unwrap())];
        entries.push((format!("{key}.jpg"), b"middle".to_vec()));
        entries.extend((0..frames).map(|i| (format!("{key}.f{i}.jpg"), format!("frame {i} of {key}").into_bytes())));
        entries.push((format!("{key}.txt"), caption.into_bytes()));
        entries.push((format!("{key}.mp4"), b"mp4".to_vec()));
        entries
    }

    /// The clips a walk visits, with their indices.
    type Visited = Vec<(usize, Result<Sample, Skipped>)>;

    fn walk(bytes: &[u8], start: usize) -> (Visited, usize) {
        let mut out = Vec::new();
        let seen = walk_clips(Cursor::new(bytes), "s", start, |i, r| {
            out.push((i, r));
            ControlFlow::Continue(())
        });
        (out, seen)
    }

    fn reasons(out: &Visited) -> Vec<(usize, Result<String, SkipReason>)> {
        out.iter().map(|(i, r)| (*i, r.clone().map(|s| s.key).map_err(|s| s.reason))).collect()
    }

    #[test]
    fn groups_entries_into_samples() {
        let mut entries = clip_entries("va", 0, 3);
        entries.extend(clip_entries("va", 1, 2));
        let (out, seen) = walk(&tar_of(&entries), 0);
        assert_eq!(seen, 2);
        let first = out[0].1.clone().unwrap();
        assert_eq!(
            first,
            Sample {
                key: "va_0000".into(),
                video_key: "va".into(),
                clip_index: 0,
                caption: "caption of va 0".into(),
                category: None,
                frames: (0..3).map(|i| format!("frame {i} of va_0000").into_bytes()).collect(),
            }
        );
        assert_eq!(out[1].0, 1);
        assert_eq!(out[1].1.as_ref().unwrap().frames.len(), 2);
    }

    #[test]
    fn frames_are_ordered_by_index_not_by_tar_order() {
        let mut entries = clip_entries("v", 0, 12);
        entries.swap(2, 13);
        let (out, _) = walk(&tar_of(&entries), 0);
        let frames = &out[0].1.as_ref().unwrap().frames;
        assert_eq!(frames[10], b"frame 10 of v_0000");
        assert_eq!(frames[0], b"frame 0 of v_0000");
    }

    #[test]
    fn damaged_clips_are_skipped_with_a_reason() {
        let mut entries = Vec::new();
        // 0: json is not json.
        let mut bad_json = clip_entries("a", 0, 2);
        bad_json[0].1 = b"{not json".to_vec();
        entries.extend(bad_json);
        // 1: frame 1 missing.
        let mut missing = clip_entries("a", 1, 3);
        missing.retain(|(name, _)| name != "a_0001.f1.jpg");
        entries.extend(missing);
        // 2: no caption at all (not corruption).
        let mut record = record("a", 2, None, 1);
        record.caption = None;
        entries.push(("a_0002.json".into(), serde_json::to_vec(&record).unwrap()));
        entries.push(("a_0002.f0.jpg".into(), b"f".to_vec()));
        // 3: the record promises a caption, the .txt is gone.
        let mut no_txt = clip_entries("a", 3, 1);
        no_txt.retain(|(name, _)| !name.ends_with(".txt"));
        entries.extend(no_txt);
        // 4: no json; 5: json of another key; 6: an empty frame; 7: good.
        entries.push(("a_0004.f0.jpg".into(), b"f".to_vec()));
        let mut other = clip_entries("a", 5, 1);
        other[0].1 = serde_json::to_vec(&super::tests::record("b", 0, Some("c"), 1)).unwrap();
        entries.extend(other);
        let mut empty = clip_entries("a", 6, 2);
        empty[3].1.clear();
        entries.extend(empty);
        entries.extend(clip_entries("a", 7, 1));

        let (out, seen) = walk(&tar_of(&entries), 0);
        assert_eq!(seen, 8);
        let got = reasons(&out);
        assert!(matches!(got[0], (0, Err(SkipReason::BadRecord(_)))), "{got:?}");
        assert_eq!(got[1], (1, Err(SkipReason::MissingFrames { expected: 3, found: 2 })));
        assert_eq!(got[2], (2, Err(SkipReason::NoCaption)));
        assert!(!SkipReason::NoCaption.is_corrupt());
        assert_eq!(got[3], (3, Err(SkipReason::MissingCaption)));
        assert_eq!(got[4], (4, Err(SkipReason::MissingRecord)));
        assert_eq!(got[5], (5, Err(SkipReason::KeyMismatch("b_0000".into()))));
        assert_eq!(got[6], (6, Err(SkipReason::MissingFrames { expected: 2, found: 1 })));
        assert_eq!(got[7], (7, Ok("a_0007".into())));
        assert_eq!(out[0].1.as_ref().unwrap_err().key, "a_0000");
    }

    #[test]
    fn truncated_tar_reports_the_clip_in_progress_and_stops() {
        let mut entries = clip_entries("v", 0, 2);
        entries.extend(clip_entries("v", 1, 2));
        let bytes = tar_of(&entries);
        // Cut inside the data of the second clip's first frame.
        let cut = bytes.windows(7).position(|w| w == b"frame 0").unwrap();
        let second = bytes[cut + 1..].windows(7).position(|w| w == b"frame 0").unwrap() + cut + 1;
        let (out, seen) = walk(&bytes[..second + 3], 0);
        assert_eq!(seen, 2);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].1.as_ref().unwrap().key, "v_0000");
        let skip = out[1].1.as_ref().unwrap_err();
        assert_eq!((out[1].0, skip.key.as_str()), (1, "v_0001"));
        assert!(matches!(skip.reason, SkipReason::BadTar(_)), "{skip:?}");

        // Cut inside a header: the same, reported as a broken tar.
        let (out, _) = walk(&bytes[..bytes.len() - 1024 - 600], 0);
        assert!(out.last().unwrap().1.as_ref().is_err_and(|s| matches!(s.reason, SkipReason::BadTar(_))));

        // Not a tar at all.
        let (out, seen) = walk(&[7u8; 700], 0);
        assert_eq!(seen, 0);
        assert!(matches!(out[0].1.as_ref().unwrap_err().reason, SkipReason::BadTar(_)));
    }

    #[test]
    fn start_skips_clips_by_index_and_break_stops() {
        let entries: Vec<_> = (0..5).flat_map(|i| clip_entries("v", i, 1)).collect();
        let bytes = tar_of(&entries);
        let (out, seen) = walk(&bytes, 3);
        assert_eq!(seen, 5);
        assert_eq!(reasons(&out), vec![(3, Ok("v_0003".into())), (4, Ok("v_0004".into()))]);
        let mut visits = 0;
        walk_clips(Cursor::new(&bytes), "s", 0, |_, _| {
            visits += 1;
            ControlFlow::Break(())
        });
        assert_eq!(visits, 1);
    }
}
