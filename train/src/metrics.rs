//! Prometheus metrics of `clipstream train`, updated once per step.

use std::sync::OnceLock;

use clipstream_core::registry::{counter, gauge};
use clipstream_schemas::metrics as names;
use prometheus::{Gauge, IntCounter};

use super::trainer::StepLog;

struct TrainMetrics {
    step: Gauge,
    loss: Gauge,
    temperature: Gauge,
    lr: Gauge,
    samples: IntCounter,
    data_wait: Gauge,
    same_video_pairs: IntCounter,
    collective_wait: Gauge,
    world: Gauge,
}

fn metrics() -> &'static TrainMetrics {
    static METRICS: OnceLock<TrainMetrics> = OnceLock::new();
    METRICS.get_or_init(|| TrainMetrics {
        step: gauge(names::TRAIN_STEP, "Optimizer steps done"),
        loss: gauge(names::TRAIN_LOSS, "InfoNCE loss of the last step"),
        temperature: gauge(names::TRAIN_TEMPERATURE, "Learned temperature"),
        lr: gauge(names::TRAIN_LEARNING_RATE, "Learning rate of the last step"),
        samples: counter(names::TRAIN_SAMPLES_TOTAL, "Clips trained on"),
        data_wait: gauge(names::TRAIN_DATA_WAIT_FRACTION, "Fraction of the last step spent waiting for data"),
        same_video_pairs: counter(names::TRAIN_SAME_VIDEO_PAIRS_TOTAL, "Same-video pairs that met in a batch"),
        collective_wait: gauge(
            names::TRAIN_COLLECTIVE_WAIT_FRACTION,
            "Fraction of the last step spent waiting for collectives (data-parallel runs)",
        ),
        world: gauge(names::TRAIN_WORLD_SIZE, "Ranks of the data-parallel run"),
    })
}

/// Publishes one step of a run of `world` ranks. The step gauge is set last, so a scrape that sees step N also sees the other values of
/// step N (a scrape can fall between two of these updates).
pub fn observe(line: &StepLog, world: usize, step_seconds: f64) {
    let m = metrics();
    m.world.set(world as f64);
    m.collective_wait.set(line.comm_s / step_seconds.max(1e-9));
    m.loss.set(line.loss);
    m.temperature.set(line.temperature);
    m.lr.set(line.lr);
    m.samples.inc_by(line.batch as u64);
    m.data_wait.set(line.data_wait);
    m.same_video_pairs.inc_by(line.same_video_pairs);
    m.step.set(line.step as f64);
}
