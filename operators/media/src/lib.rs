//! ffmpeg-next stages of clipstream: probe, scene_cut (PySceneDetect 0.7 ContentDetector semantics), clip
//! cutting, frame sampling, the synthetic multi-shot video writer; and the per-video stage adapters that put them
//! into the curate dataflow (`stage`).

pub mod clip;
pub mod decode;
pub mod encode;
pub mod error;
pub mod frames;
mod metrics;
pub mod open;
pub mod probe;
pub mod scaler;
pub mod scene;
pub mod segments;
pub mod span;
pub mod stage;
pub mod synth;

pub use clip::{cut_clips, cut_clips_sampling};
pub use decode::{DecodeLimits, DecodeStats, DecodedFrame, VideoDecoder};
pub use encode::{Mp4Settings, Mp4Writer};
pub use error::MediaError;
pub use frames::{ClipFrames, FineSampling, FrameSampler, sample_frames};
pub use open::open_input;
pub use probe::{ProbeInfo, check_policy, probe};
pub use scene::{ClipPlan, DropCounts, SceneList, detect_scenes, plan_clips};
pub use span::ClipSpan;
pub use stage::{CutVideo, MediaStages, PlannedVideo, ProbedVideo, VideoFacts, clip_record};
pub use synth::{ShotKind, SynthShot, SynthSpec, SynthVideo, write_dataset};
