//! scene_cut: PySceneDetect 0.7 ContentDetector semantics (OpenCV-exact downscale and HSV), the fixed-stride
//! splitter, and the clip planner that turns scenes into clips.

pub mod chroma_filter;
pub mod content;
#[cfg(test)]
mod conversion_check;
pub mod detect;
pub mod hsv;
pub mod odd_height;
pub mod plan;
pub mod planar;
pub mod resize;
pub mod simd;
pub mod stride;
pub mod yuv;
pub mod yuv444;

pub use content::{Components, ContentDetector};
pub use detect::{ColorPath, DetectOptions, SceneList, detect_scenes, detect_scenes_with, normalize_fps};
pub use hsv::HsvFrame;
pub use plan::{ClipPlan, DropCounts, plan_clips};
pub use resize::{BgrRows, PackedBgr, Resizer, auto_downscale_factor, downscale_factor, downscaled_size};
pub use stride::stride_cuts;
