//! Training metrics through a real Prometheus (started by deploy/local/prometheus): a running `clipstream train
//! --metrics-listen` is scraped every second; step, loss, temperature, learning rate, samples and the data-wait
//! fraction are found with sane values through the HTTP API.

use std::process::Stdio;
use std::time::Duration;

use clipstream_tests::services::{Prometheus, free_port, wait_until};
use clipstream_tests::{clipstream, run_ok};
use serde_json::Value;

fn value(result: &[Value]) -> f64 {
    result.iter().filter_map(|r| r["value"][1].as_str()?.parse::<f64>().ok()).sum()
}

#[test]
fn prometheus_scrapes_a_running_training() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let videos = dir.path().join("videos");
    run_ok(clipstream().args(["synth", "--videos", "8", "--seed", "3", "--out"]).arg(&videos))?;
    let data = dir.path().join("shards");
    run_ok(
        clipstream()
            .args(["curate", "-w", "2", "--input"])
            .arg(videos.join("requests.jsonl"))
            .arg("--output")
            .arg(&data),
    )?;

    let port = free_port()?;
    let mut train = clipstream()
        .args(["train", "--train-text", "--frames", "4", "--batch-size", "8", "--steps", "100000", "--data"])
        .arg(&data)
        .arg("--log")
        .arg(dir.path().join("log.jsonl"))
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let checks = (|| -> anyhow::Result<()> {
        let prometheus = Prometheus::start(&format!("127.0.0.1:{port}"))?;
        wait_until(Duration::from_secs(120), || Ok(value(&prometheus.query("clipstream_train_step")?) >= 10.0))?;
        let steps = value(&prometheus.query("clipstream_train_step")?);
        let loss = value(&prometheus.query("clipstream_train_loss")?);
        assert!(loss.is_finite() && loss > 0.0, "loss {loss}");
        assert!(value(&prometheus.query("clipstream_train_temperature")?) >= 0.01, "temperature clamped at 1/100");
        assert!(value(&prometheus.query("clipstream_train_learning_rate")?) > 0.0);
        // A clip-per-video batch holds 2 to 8 clips (fewer than 8 once an epoch runs short of distinct videos); the
        // step gauge is set after the step's other values, so a later query sees at least these samples.
        let samples = value(&prometheus.query("clipstream_train_samples_total")?);
        assert!(samples >= 2.0 * steps, "{samples} samples after {steps} steps of at least 2 clips");
        let wait = value(&prometheus.query("clipstream_train_data_wait_fraction")?);
        assert!((0.0..=1.0).contains(&wait), "data wait {wait}");
        assert_eq!(value(&prometheus.query("clipstream_train_same_video_pairs_total")?), 0.0, "clip-per-video");
        Ok(())
    })();
    train.kill()?;
    train.wait()?;
    checks
}
