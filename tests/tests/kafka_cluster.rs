//! Cluster mode: two `clipstream curate` processes with two workers each form one timely cluster on 127.0.0.1 and
//! consume one topic together: the four partitions spread over the four workers, every video lands in exactly one
//! committed shard, and the group's offsets reach the high watermarks.

use std::fs;
use std::process::Stdio;

use anyhow::Context;
use clipstream_tests::services::{Broker, free_port};
use clipstream_tests::{clipstream, committed_counts, synth};
use serde_json::json;

#[test]
fn two_processes_consume_one_topic_exactly_once() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    broker.create_topic("clipstream.videos", 4)?;
    broker.create_topic("clipstream.videos.dlq", 1)?;
    let dir = tempfile::tempdir()?;
    let truth = synth(&dir.path().join("synth"), 8, 57)?;
    let rows: Vec<String> = truth
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let path = dir.path().join("synth").join(v["path"].as_str().unwrap_or_default());
            json!({"url": path.display().to_string(), "video_id": format!("cluster-{i}")}).to_string()
        })
        .collect();
    let list = dir.path().join("videos.jsonl");
    fs::write(&list, rows.join("\n"))?;
    let mut enqueue = clipstream();
    clipstream_tests::run_ok(broker.configure(&mut enqueue).args(["enqueue", "-i"]).arg(&list))?;

    let hostfile = dir.path().join("hosts.txt");
    fs::write(&hostfile, format!("127.0.0.1:{}\n127.0.0.1:{}\n", free_port()?, free_port()?))?;
    let output = dir.path().join("out");
    let children: Vec<_> = (0..2)
        .map(|process| {
            let mut command = clipstream();
            broker.configure(&mut command);
            clipstream_tests::allow_local_files(&mut command, dir.path());
            command
                .env("RUST_LOG", "info")
                .args(["curate", "--source", "kafka", "--until-empty", "--metrics-listen", ""])
                .args(["-w", "2", "-n", "2", "-p", &process.to_string(), "--hostfile"])
                .arg(&hostfile)
                .arg("--output")
                .arg(&output)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut assigned = Vec::new();
    for child in children {
        let out = child.wait_with_output()?;
        let log = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "a cluster process failed: {}\n{log}", out.status);
        assigned.extend(log.lines().filter(|l| l.contains("kafka partitions assigned")).map(str::to_string));
    }
    assert_eq!(assigned.len(), 4, "one reader per worker of the cluster: {assigned:#?}");
    let mut partitions: Vec<String> = assigned
        .iter()
        .map(|line| line.split("partitions=").nth(1).and_then(|p| p.split(' ').next()).unwrap_or("").to_string())
        .collect();
    partitions.sort();
    assert_eq!(partitions, ["[0]", "[1]", "[2]", "[3]"], "partition p goes to worker p % 4: {assigned:#?}");

    let counts = committed_counts(&output)?;
    assert_eq!(counts.len(), truth.len(), "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "each video exactly once: {counts:?}");
    let mut lag = clipstream();
    let out = clipstream_tests::run_ok(broker.configure(&mut lag).arg("lag"))?;
    let lags: serde_json::Value = serde_json::from_slice(&out.stdout).context("lag JSON")?;
    assert_eq!(lags["total_lag"], 0, "{lags}");
    Ok(())
}
