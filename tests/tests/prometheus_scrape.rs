//! Metrics through a real Prometheus (Debian package, started by deploy/local/prometheus): a continuous Kafka-fed
//! curate job is scraped every second; the test finds its stage, sink and Kafka metrics with sane values through
//! the HTTP API, then stops the job with SIGTERM and checks it drained and committed cleanly.

use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

use clipstream_tests::services::{Broker, Prometheus, free_port, wait_until};
use clipstream_tests::{clipstream, committed_counts, run_ok, synth};
use serde_json::{Value, json};

fn value(result: &[Value]) -> f64 {
    result.iter().filter_map(|r| r["value"][1].as_str()?.parse::<f64>().ok()).sum()
}

#[test]
fn prometheus_scrapes_a_running_kafka_job() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    broker.create_topic("clipstream.videos", 2)?;
    broker.create_topic("clipstream.videos.dlq", 1)?;
    let dir = tempfile::tempdir()?;
    let truth = synth(&dir.path().join("synth"), 3, 77)?;
    let rows: Vec<String> = truth
        .iter()
        .map(|v| json!({"url": dir.path().join("synth").join(v["path"].as_str().unwrap_or_default())}).to_string())
        .chain(["{broken".to_string()])
        .collect();
    let list = dir.path().join("videos.txt");
    fs::write(&list, rows.join("\n"))?;
    let mut enqueue = clipstream();
    run_ok(broker.configure(&mut enqueue).args(["enqueue", "--raw", "-i"]).arg(&list))?;

    let metrics_port = free_port()?;
    let output = dir.path().join("out");
    let mut job = clipstream();
    clipstream_tests::allow_local_files(&mut job, dir.path());
    broker
        .configure(&mut job)
        .args(["curate", "--source", "kafka", "-w", "2", "--set", "sink.max_shard_age_s=1", "--metrics-listen"])
        .arg(format!("127.0.0.1:{metrics_port}"))
        .arg("--output")
        .arg(&output)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let job = job.spawn()?;
    let prometheus = Prometheus::start(&format!("127.0.0.1:{metrics_port}"))?;

    let committed = "sum(clipstream_kafka_committed_offset)";
    wait_until(Duration::from_secs(120), || Ok(value(&prometheus.query(committed)?) >= 4.0))?;
    assert_eq!(value(&prometheus.query("up{job=\"clipstream\"}")?), 1.0);
    assert_eq!(value(&prometheus.query("sum(clipstream_stage_items_in_total{stage=\"fetch\"})")?), 3.0);
    assert_eq!(value(&prometheus.query("sum(clipstream_stage_items_out_total{stage=\"frames\"})")?), 3.0);
    assert_eq!(value(&prometheus.query("sum(clipstream_kafka_messages_total{outcome=\"invalid\"})")?), 1.0);
    assert_eq!(value(&prometheus.query("sum(clipstream_dlq_messages_total)")?), 1.0);
    assert!(value(&prometheus.query("sum(clipstream_sink_shards_total)")?) >= 1.0);
    assert_eq!(value(&prometheus.query("sum(clipstream_source_videos_total{outcome=\"accepted\"})")?), 3.0);
    assert_eq!(value(&prometheus.query("sum(clipstream_source_videos_total{outcome=\"invalid\"})")?), 1.0);
    let kept = value(&prometheus.query("sum(clipstream_clips_total{outcome=\"kept\"})")?);
    assert_eq!(kept, value(&prometheus.query("sum(clipstream_sink_clips_total)")?), "every kept clip is committed");
    assert!(value(&prometheus.query("sum(clipstream_scene_frames_total)")?) > 100.0);
    let fetched: u64 = truth
        .iter()
        .map(|v| {
            std::fs::metadata(dir.path().join("synth").join(v["path"].as_str().unwrap_or_default()))
                .map_or(0, |m| m.len())
        })
        .sum();
    assert_eq!(value(&prometheus.query("sum(clipstream_fetch_bytes_total)")?), fetched as f64);
    assert!(value(&prometheus.query("sum(clipstream_sink_bytes_total{kind=\"tar\"})")?) > 10_000.0);
    assert!(value(&prometheus.query("sum(clipstream_sink_upload_seconds_count{kind=\"manifest\"})")?) >= 1.0);
    let lag = prometheus.query("clipstream_kafka_consumer_lag")?;
    assert_eq!(lag.len(), 2, "a lag series per partition: {lag:?}");
    wait_until(Duration::from_secs(30), || Ok(value(&prometheus.query("sum(clipstream_kafka_consumer_lag)")?) == 0.0))?;
    let scene_cut = "clipstream_stage_latency_seconds_count{stage=\"scene_cut\"}";
    assert_eq!(value(&prometheus.query(&format!("sum({scene_cut})"))?), 3.0);
    let latency = "histogram_quantile(0.5, sum by (le) (clipstream_stage_latency_seconds_bucket{stage=\"scene_cut\"}))";
    let p50 = value(&prometheus.query(latency)?);
    assert!(p50.is_finite() && p50 > 0.0 && p50 < 60.0, "scene_cut p50 latency {p50}");

    run_ok(Command::new("kill").args(["-TERM", &job.id().to_string()]))?;
    let out = job.wait_with_output()?;
    assert!(
        out.status.success(),
        "SIGTERM drains and exits 0: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(committed_counts(&output)?.len(), 3);
    let mut lag = clipstream();
    let report: Value = serde_json::from_slice(&run_ok(broker.configure(&mut lag).arg("lag"))?.stdout)?;
    assert_eq!(report["total_lag"], 0, "{report}");
    Ok(())
}
