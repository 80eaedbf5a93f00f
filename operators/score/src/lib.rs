//! The model stages of the curate dataflow (tch): `score` (video-text similarity with ViCLIP or CLIP frame-mean,
//! LAION aesthetic score as the max over the frames, then the score filter), and the similarity model lent to the
//! caption crate's zero-shot `tags` captioner ([`zero_shot`]).
//! Models load once per process ([`ScoreModels`]) and run on CUDA in bf16 when available, else on the CPU in fp32.

pub mod batcher;
pub mod device;
pub mod metrics;
pub mod models;
pub mod pixels;
pub mod stage;
pub mod zero_shot;

pub use batcher::{Answer, ScoreBatcher};
pub use models::{LoadError, ScoreModels};
pub use stage::{score_video, score_videos};
pub use zero_shot::SharedSimilarity;
