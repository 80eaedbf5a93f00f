//! `synth`: procedural multi-shot videos with known cut frames and per-shot captions, deterministic from a seed.
//! Used by tests, benches and the demo as ground truth for scene cutting, motion filtering and captioning.

mod dataset;
mod palette;
mod plan;
mod render;
mod spec;
mod truth;

#[cfg(test)]
mod tests;

pub use dataset::{GROUND_TRUTH_FILE, write_dataset, write_video};
pub use plan::{VideoPlan, plan_video};
pub use render::Renderer;
pub use spec::SynthSpec;
pub use truth::{ShotKind, SynthShot, SynthVideo, read_ground_truth};
