//! What the media stages hand to the sink: one curated video with the bytes of its clips. Clip video files and the
//! clips' JPEG frames stay on disk in a scratch folder owned by the payload (deleted when the last clone is
//! dropped) and are read back when a stage needs them, so a long video never has to fit in memory.

use std::any::Any;
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

/// Where spilled JPEGs are read back from (a video's spill file; implemented where the I/O is, so this crate does
/// none).
pub trait SpillRead: Send + Sync {
    /// The `len` bytes at `offset`.
    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>>;
}

/// One JPEG image of a clip: bytes in memory, or a range of the video's spill file read back on demand. Empty =
/// no image.
#[derive(Clone, Default)]
pub struct Jpeg(Repr);

#[derive(Clone, Default)]
enum Repr {
    #[default]
    Empty,
    Memory(Vec<u8>),
    Spilled {
        file: Arc<dyn SpillRead>,
        offset: u64,
        len: usize,
    },
}

impl Jpeg {
    /// An image held in memory.
    pub fn memory(bytes: Vec<u8>) -> Self {
        if bytes.is_empty() { Self(Repr::Empty) } else { Self(Repr::Memory(bytes)) }
    }

    /// The `len` bytes at `offset` of a spill file.
    pub fn spilled(file: Arc<dyn SpillRead>, offset: u64, len: usize) -> Self {
        if len == 0 { Self(Repr::Empty) } else { Self(Repr::Spilled { file, offset, len }) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the image.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Empty => 0,
            Repr::Memory(bytes) => bytes.len(),
            Repr::Spilled { len, .. } => *len,
        }
    }

    /// Whether the bytes live in a spill file rather than in memory.
    pub fn is_spilled(&self) -> bool {
        matches!(self.0, Repr::Spilled { .. })
    }

    /// The image's bytes (read back from the spill file when spilled).
    pub fn bytes(&self) -> std::io::Result<Cow<'_, [u8]>> {
        match &self.0 {
            Repr::Empty => Ok(Cow::Borrowed(&[])),
            Repr::Memory(bytes) => Ok(Cow::Borrowed(bytes)),
            Repr::Spilled { file, offset, len } => file.read_at(*offset, *len).map(Cow::Owned),
        }
    }
}

impl From<Vec<u8>> for Jpeg {
    fn from(bytes: Vec<u8>) -> Self {
        Self::memory(bytes)
    }
}

impl std::fmt::Debug for Jpeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Repr::Empty => f.write_str("Jpeg(empty)"),
            Repr::Memory(bytes) => write!(f, "Jpeg({} bytes)", bytes.len()),
            Repr::Spilled { offset, len, .. } => write!(f, "Jpeg({len} bytes spilled at {offset})"),
        }
    }
}

use crate::clip::ClipRecord;
use crate::video::VideoRequest;

/// One clip ready for a shard. `record.shard` and `record.key` are filled in by the sink.
#[derive(Debug, Clone)]
pub struct ClipPayload {
    pub record: ClipRecord,
    /// The middle frame as JPEG (`{key}.jpg`).
    pub middle_jpeg: Jpeg,
    /// Uniformly sampled frames as JPEG (`{key}.f{i}.jpg`), `record.num_frames` of them.
    pub frames_jpeg: Vec<Jpeg>,
    /// Frames at `caption.fine_fps` for the fine caption; not stored in shards (empty unless a fine backend runs).
    pub fine_frames_jpeg: Vec<Jpeg>,
    /// The clip's mp4 file (`{key}.mp4`), inside `CuratedVideo::scratch`, when clips are cut.
    pub video_mp4: Option<PathBuf>,
}

/// A video after curation: all its kept clips, in time order (possibly none).
#[derive(Debug, Clone)]
pub struct CuratedVideo {
    pub request: VideoRequest,
    pub video_id: String,
    pub video_key: String,
    pub clips: Vec<ClipPayload>,
    /// Keeps the folder holding the clip files alive until the sink has copied them.
    pub scratch: Option<Scratch>,
}

/// Whatever owns a video's scratch folder (a `tempfile::TempDir`, say), shared by the clones of the video: the
/// folder goes when the last clone drops. Opaque here, so this crate does no I/O.
#[derive(Clone)]
pub struct Scratch {
    _owner: Arc<dyn Any + Send + Sync>,
}

impl Scratch {
    /// Shares `owner` (dropped, and so the folder deleted, with the last clone).
    pub fn new(owner: impl Any + Send + Sync) -> Self {
        Self { _owner: Arc::new(owner) }
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    struct Owner(Arc<AtomicBool>);

    impl Drop for Owner {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    struct Bytes(Vec<u8>);

    impl SpillRead for Bytes {
        fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
            Ok(self.0[offset as usize..offset as usize + len].to_vec())
        }
    }

    #[test]
    fn a_jpeg_reads_the_same_from_memory_and_from_a_spill() {
        let memory = Jpeg::memory(vec![1, 2, 3]);
        let spilled = Jpeg::spilled(Arc::new(Bytes(vec![9, 1, 2, 3, 9])), 1, 3);
        assert_eq!(memory.bytes().expect("memory")[..], spilled.bytes().expect("spill")[..]);
        assert_eq!((memory.len(), spilled.len(), spilled.is_spilled(), memory.is_spilled()), (3, 3, true, false));
        assert!(Jpeg::memory(Vec::new()).is_empty() && Jpeg::default().bytes().expect("empty").is_empty());
    }

    #[test]
    fn the_owner_goes_with_the_last_clone() {
        let dropped = Arc::new(AtomicBool::new(false));
        let scratch = Scratch::new(Owner(dropped.clone()));
        let clone = scratch.clone();
        drop(scratch);
        assert!(!dropped.load(Ordering::SeqCst), "a clone still holds it");
        drop(clone);
        assert!(dropped.load(Ordering::SeqCst));
    }
}
