//! ffmpeg-next stages of clipstream: probe, scene_cut (PySceneDetect 0.7 ContentDetector semantics), clip
//! cutting, frame sampling, and the synthetic multi-shot video writer.

pub mod clip;
pub mod decode;
pub mod encode;
pub mod error;
pub mod frames;
pub mod open;
pub mod probe;
pub mod scaler;
pub mod scene;
pub mod span;
pub mod synth;

pub use clip::cut_clips;
pub use decode::{DecodeLimits, DecodeStats, DecodedFrame, VideoDecoder};
pub use encode::{Mp4Settings, Mp4Writer};
pub use error::MediaError;
pub use frames::{ClipFrames, FineSampling, sample_frames};
pub use open::open_input;
pub use probe::{ProbeInfo, check_policy, probe};
pub use scene::{ClipPlan, DropCounts, SceneList, detect_scenes, plan_clips};
pub use span::ClipSpan;
pub use synth::{ShotKind, SynthShot, SynthSpec, SynthVideo, write_dataset};
