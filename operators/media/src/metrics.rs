//! The media stages' own metrics: clips found by scene cutting (kept, or dropped by reason) and frames decoded by
//! the scene detector. Registered once in the default registry under the names of `clipstream_schemas::metrics`.

use std::sync::OnceLock;

use clipstream_core::registry::{counter, counter_vec};
use clipstream_schemas::metrics as names;
use prometheus::{IntCounter, IntCounterVec};

use crate::scene::ClipPlan;

struct MediaMetrics {
    clips: IntCounterVec,
    scene_frames: IntCounter,
}

fn metrics() -> &'static MediaMetrics {
    static METRICS: OnceLock<MediaMetrics> = OnceLock::new();
    METRICS.get_or_init(|| MediaMetrics {
        clips: counter_vec(names::CLIPS_TOTAL, "Clips found by scene cutting, kept or dropped by reason", &["outcome"]),
        scene_frames: counter(names::SCENE_FRAMES_TOTAL, "Frames decoded by the scene detector"),
    })
}

/// The clips of one planned video and the frames its detector decoded.
pub fn count_plan(plan: &ClipPlan, frames: u64) {
    let m = metrics();
    m.scene_frames.inc_by(frames);
    for (outcome, n) in [
        ("kept", plan.kept.len() as u64),
        ("too_short", plan.dropped.too_short),
        ("still", plan.dropped.still),
        ("dynamic", plan.dropped.dynamic),
    ] {
        m.clips.with_label_values(&[outcome]).inc_by(n);
    }
}
