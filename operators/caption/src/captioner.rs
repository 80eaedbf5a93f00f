//! `Captioner`: what every caption backend (`vlm-http`, `tags`) implements. A backend sees all clips of one video at
//! once, so it can batch them (one model call) or keep several requests in flight, and answers one result per clip.

use clipstream_schemas::{ClipPayload, Jpeg};

use crate::error::CaptionError;

/// The two caption scales of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// One sentence for the clip's middle frame (`ClipPayload::middle_jpeg`).
    Coarse,
    /// One sentence for the whole clip, from its frames (`fine_frames_jpeg`, else `frames_jpeg`).
    Fine,
}

impl Scale {
    /// The metric label / name in error reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Coarse => "coarse",
            Scale::Fine => "fine",
        }
    }
}

/// A caption backend. Both methods take the clips of one video (in clip order) and return exactly one result per
/// clip, in the same order; a backend may stop early after a failure and answer the clips it did not try with
/// [`CaptionError::Cancelled`], since one failed clip fails the whole video. Called from a synchronous (timely
/// worker) thread: a backend that needs async I/O owns its runtime. Backends are not shared between workers.
pub trait Captioner: Send {
    /// The backend's name (`vlm-http`, `tags`): a metric label and part of error reasons.
    fn backend(&self) -> &'static str;

    /// Coarse captions: one sentence per clip for its middle frame.
    fn coarse(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>>;

    /// Fine captions: one sentence per clip from its frames at `caption.fine_fps` (`fine_frames_jpeg`), or from the
    /// stored uniform frames (`frames_jpeg`) when it has none.
    fn fine(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>>;

    /// The captions of `scale`.
    fn caption(&mut self, scale: Scale, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
        match scale {
            Scale::Coarse => self.coarse(clips),
            Scale::Fine => self.fine(clips),
        }
    }
}

/// The frames a fine caption reads: the clip's `fine_frames_jpeg`, else its stored uniform frames; empty images
/// are skipped.
pub fn fine_frames(clip: &ClipPayload) -> Vec<&Jpeg> {
    let source =
        if clip.fine_frames_jpeg.iter().any(|f| !f.is_empty()) { &clip.fine_frames_jpeg } else { &clip.frames_jpeg };
    source.iter().filter(|f| !f.is_empty()).collect()
}

/// The frame a coarse caption reads: the clip's middle frame, else the middle one of its stored frames.
pub fn coarse_frame(clip: &ClipPayload) -> Option<&Jpeg> {
    if !clip.middle_jpeg.is_empty() {
        return Some(&clip.middle_jpeg);
    }
    let stored: Vec<&Jpeg> = clip.frames_jpeg.iter().filter(|f| !f.is_empty()).collect();
    stored.get(stored.len() / 2).copied()
}

/// The bytes of `jpeg`, read back from the spill file if need be.
pub fn read(jpeg: &Jpeg) -> Result<std::borrow::Cow<'_, [u8]>, CaptionError> {
    jpeg.bytes().map_err(|error| CaptionError::Spill(error.to_string()))
}
