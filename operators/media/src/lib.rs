//! ffmpeg-next stages of clipstream: probe, scene_cut (PySceneDetect 0.7 ContentDetector semantics), clip
//! cutting, frame sampling, and the synthetic multi-shot video writer.

pub mod decode;
pub mod error;
pub mod probe;
pub mod span;

pub use decode::{DecodeStats, DecodedFrame, VideoDecoder};
pub use error::MediaError;
pub use probe::{ProbeInfo, check_policy, probe};
pub use span::ClipSpan;
