//! `clip`: cutting the clips of one video into mp4 files in one pass, by stream copy from keyframes or by exact
//! re-encoding.

mod cut;
mod keyframe;
mod precise;

pub use cut::{clip_path, cut_clips, cut_clips_sampling};
pub use keyframe::cut_keyframe;
pub use precise::cut_precise;
