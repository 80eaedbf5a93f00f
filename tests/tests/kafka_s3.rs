//! Kafka in, S3 out, against real servers started by deploy/local scripts (tansu, s3s-fs): good videos fetched from
//! `s3://` (205 requests) land once each in committed shards on S3 (readable by Python webdataset/pyarrow), bad messages and failed
//! videos are in the dead-letter topic with their reasons, the group's committed offsets reach the high
//! watermarks, and re-runs and re-enqueued duplicates add nothing.

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

use anyhow::Context;
use clipstream_tests::kafka::read_topic;
use clipstream_tests::services::{Broker, S3};
use clipstream_tests::{clipstream, committed_counts, read_back, run_ok, synth};
use serde_json::{Value, json};

const TOPIC: &str = "clipstream.videos";
const DLQ: &str = "clipstream.videos.dlq";
/// Requests per synthetic video.
const COPIES: usize = 41;

fn command(broker: &Broker, s3: &S3, args: &[&str]) -> Command {
    let mut command = clipstream();
    broker.configure(&mut command);
    s3.configure(&mut command);
    command.args(args);
    command
}

fn lag(broker: &Broker, s3: &S3) -> anyhow::Result<Value> {
    let out = run_ok(&mut command(broker, s3, &["lag"]))?;
    serde_json::from_slice(&out.stdout).context("lag JSON")
}

#[test]
fn kafka_to_s3_each_video_once_and_bad_messages_dead_lettered() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    broker.create_topic(TOPIC, 4)?;
    broker.create_topic(DLQ, 1)?;
    let s3 = S3::start()?;
    let videos = s3.create_bucket("videos")?;
    let out_bucket = s3.create_bucket("out")?;
    let dir = tempfile::tempdir()?;

    let truth = synth(&dir.path().join("synth"), 5, 31)?;
    let mut rows = Vec::new();
    let mut good = Vec::new();
    for video in &truth {
        let name = video["path"].as_str().context("path")?;
        fs::copy(dir.path().join("synth").join(name), videos.join(name))?;
    }
    // 200+ requests: every synthetic video under many ids (each id is its own video to curate).
    for copy in 0..COPIES {
        for (i, video) in truth.iter().enumerate() {
            let name = video["path"].as_str().context("path")?;
            let id = format!("vid-{i}-{copy:02}");
            rows.push(json!({"url": format!("s3://videos/{name}"), "video_id": id, "copy": copy}).to_string());
            good.push(id);
        }
    }
    fs::write(videos.join("corrupt.mp4"), "not a video\n".repeat(500))?;
    rows.push(json!({"url": "s3://videos/corrupt.mp4", "video_id": "corrupt"}).to_string());
    rows.push(json!({"url": "http://127.0.0.1:9/private.mp4", "video_id": "ssrf"}).to_string());
    let list = dir.path().join("videos.jsonl");
    fs::write(&list, rows.join("\n"))?;
    let raw_lines = ["{this is not json", r#"{"video_id":"no-url"}"#, r#"{"url":"ftp://example.com/a.mp4"}"#];
    let raw = dir.path().join("raw.txt");
    fs::write(&raw, raw_lines.join("\n"))?;

    let list_arg = list.display().to_string();
    run_ok(&mut command(&broker, &s3, &["enqueue", "-i", &list_arg]))?;
    run_ok(&mut command(&broker, &s3, &["enqueue", "--raw", "-i", &raw.display().to_string()]))?;

    let curate_args = [
        "curate",
        "--source",
        "kafka",
        "--until-empty",
        "-w",
        "2",
        "--metrics-listen",
        "",
        "--output",
        "s3://out/dataset",
        "--set",
        "sink.max_shard_clips=200",
        "--set",
        "frames.count=2",
        "--set",
        "fetch.allow_buckets=[\"videos\"]",
    ];
    let first = run_ok(&mut command(&broker, &s3, &curate_args))?;
    let summary = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(summary.contains(&format!("{} curated", good.len())), "{summary}");

    let output = out_bucket.join("dataset");
    let counts = committed_counts(&output)?;
    for id in &good {
        assert_eq!(counts.get(id), Some(&1), "{id} once in the manifests: {counts:?}");
    }
    assert_eq!(counts.len(), good.len(), "{counts:?}");
    let report = read_back(&output)?;
    let shards = report["shards"].as_array().context("shards")?;
    assert!(shards.len() >= 4, "several shards (multipart uploads through S3): {}", shards.len());
    for shard in shards {
        assert_eq!(shard["checksums_ok"], true, "{shard}");
        assert_eq!(shard["samples_complete"], true, "{shard}");
        assert_eq!(shard["sample_keys"], shard["parquet_keys"], "{shard}");
    }

    let lags = lag(&broker, &s3)?;
    assert_eq!(lags["total_lag"], 0, "{lags}");
    for partition in lags["partitions"].as_array().context("partitions")? {
        assert_eq!(partition["committed"].as_i64().unwrap_or(0), partition["high"].as_i64().unwrap_or(-1), "{lags}");
    }

    let letters = read_topic(&broker.address(), DLQ)?;
    let mut codes: Vec<String> = letters.iter().map(|m| m.headers["clipstream.code"].clone()).collect();
    codes.sort();
    assert_eq!(
        codes,
        ["fetch.refused_address", "probe.not_a_video", "source.bad_row", "source.bad_url", "source.missing_url"],
        "{letters:?}"
    );
    for letter in &letters {
        assert!(!letter.headers["clipstream.reason"].is_empty(), "{letter:?}");
        if letter.headers["clipstream.stage"] == "source" {
            let payload = String::from_utf8_lossy(&letter.payload).to_string();
            assert!(raw_lines.contains(&payload.as_str()), "original bytes kept: {payload}");
        }
    }
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(5), "errors/ on S3 too: {}", report["errors"]);

    let again = run_ok(&mut command(&broker, &s3, &curate_args))?;
    assert!(String::from_utf8_lossy(&again.stdout).contains("rows:     0"), "nothing left to read");
    run_ok(&mut command(&broker, &s3, &["enqueue", "-i", &list_arg]))?;
    let duplicates = run_ok(&mut command(&broker, &s3, &curate_args))?;
    let text = String::from_utf8_lossy(&duplicates.stdout).to_string();
    assert!(text.contains("0 curated") && text.contains("0 new shards"), "re-enqueued videos are skipped: {text}");
    assert_eq!(committed_counts(&output)?, counts, "no video twice after duplicates");
    assert_eq!(lag(&broker, &s3)?["total_lag"], 0);
    let dlq_after: BTreeMap<String, usize> =
        read_topic(&broker.address(), DLQ)?.iter().fold(BTreeMap::new(), |mut m, l| {
            *m.entry(l.headers["clipstream.code"].clone()).or_default() += 1;
            m
        });
    assert_eq!(dlq_after.values().sum::<usize>(), 5, "permanent failures are not dead-lettered again: {dlq_after:?}");
    Ok(())
}
