//! What the media stages hand to the sink: one curated video with the bytes of its clips. Clip video files stay on
//! disk in a scratch folder owned by the payload (deleted when the last clone is dropped), so a long video never has
//! to fit in memory.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use crate::clip::ClipRecord;
use crate::video::VideoRequest;

/// One clip ready for a shard. `record.shard` and `record.key` are filled in by the sink.
#[derive(Debug, Clone)]
pub struct ClipPayload {
    pub record: ClipRecord,
    /// The middle frame as JPEG (`{key}.jpg`).
    pub middle_jpeg: Vec<u8>,
    /// Uniformly sampled frames as JPEG (`{key}.f{i}.jpg`), `record.num_frames` of them.
    pub frames_jpeg: Vec<Vec<u8>>,
    /// Frames at `caption.fine_fps` for the fine caption; not stored in shards (empty unless a fine backend runs).
    pub fine_frames_jpeg: Vec<Vec<u8>>,
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
