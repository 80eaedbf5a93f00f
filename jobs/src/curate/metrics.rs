//! The curate job's own metrics: videos by source outcome, clips kept or dropped by reason, frames decoded by the
//! scene detector, bytes fetched. Registered once in the default registry.

use std::sync::OnceLock;

use clipstream_media::scene::ClipPlan;
use clipstream_schemas::metrics as names;
use prometheus::{IntCounter, IntCounterVec, Opts, register_int_counter, register_int_counter_vec};

struct CurateMetrics {
    source_videos: IntCounterVec,
    clips: IntCounterVec,
    scene_frames: IntCounter,
    fetch_bytes: IntCounter,
}

fn metrics() -> &'static CurateMetrics {
    static METRICS: OnceLock<CurateMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let unique = "metric names are unique constants";
        CurateMetrics {
            source_videos: register_int_counter_vec!(
                Opts::new(names::SOURCE_VIDEOS_TOTAL, "Videos read from the source by outcome"),
                &["outcome"]
            )
            .expect(unique),
            clips: register_int_counter_vec!(
                Opts::new(names::CLIPS_TOTAL, "Clips found by scene cutting, kept or dropped by reason"),
                &["outcome"]
            )
            .expect(unique),
            scene_frames: register_int_counter!(names::SCENE_FRAMES_TOTAL, "Frames decoded by the scene detector")
                .expect(unique),
            fetch_bytes: register_int_counter!(names::FETCH_BYTES_TOTAL, "Bytes fetched from video URLs")
                .expect(unique),
        }
    })
}

/// What became of one source row: `accepted`, `skipped_done`, `duplicate` or `invalid`.
pub fn count_source(outcome: &str) {
    metrics().source_videos.with_label_values(&[outcome]).inc();
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

/// Bytes of one fetched video.
pub fn count_fetched(bytes: u64) {
    metrics().fetch_bytes.inc_by(bytes);
}
