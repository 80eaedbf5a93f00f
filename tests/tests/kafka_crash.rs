//! Effectively-once across crashes: a Kafka-fed curate run is killed with SIGKILL at random moments and aborted at
//! the two critical points (shard data uploaded but no manifest; manifests written but offsets not committed),
//! restarted each time; at the end every video is in exactly one committed shard, none lost, none duplicated, the
//! group's offsets are at the high watermarks, and `clipstream gc` removes the orphans the crashes left. Half the
//! videos are downloaded from a slow loopback server and every clip is captioned by a slow chat server, so the
//! kills land while downloads and caption requests are in flight.

use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use clipstream_tests::services::Broker;
use clipstream_tests::slow_http::SlowHttp;
use clipstream_tests::{clipstream, committed_counts, read_back, run_ok, synth};
use serde_json::json;

const TOPIC: &str = "clipstream.videos";

/// A small deterministic generator for the kill delays (xorshift64*).
struct Delays(u64);

impl Delays {
    fn next_ms(&mut self, min: u64, max: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        min + self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % (max - min)
    }
}

fn curate(broker: &Broker, output: &std::path::Path, server: &SlowHttp) -> Command {
    let mut command = clipstream();
    broker.configure(&mut command);
    // The messages name the synthetic files, which sit beside the output, or the slow server's copies of them.
    clipstream_tests::allow_local_files(&mut command, output.parent().unwrap_or(output));
    command.args(["curate", "--source", "kafka", "--until-empty", "-w", "2", "--metrics-listen", ""]);
    command.arg("--output").arg(output);
    let vlm = format!("caption.vlm.base_url={}/v1", server.base_url());
    let sets = ["source.batch_size=2", "kafka.epoch_ms=200", "sink.max_shard_clips=4", "cut.mode=keyframe"];
    let in_flight = ["fetch.allow_hosts=[\"127.0.0.1\"]", "caption.coarse=vlm-http", "caption.vlm.api_key_env=", &vlm];
    for set in sets.iter().chain(&in_flight) {
        command.args(["--set", set]);
    }
    command.stdout(Stdio::null()).stderr(Stdio::null());
    command
}

#[test]
fn every_video_exactly_once_across_kill_9_and_crash_points() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    broker.create_topic(TOPIC, 4)?;
    broker.create_topic("clipstream.videos.dlq", 1)?;
    let dir = tempfile::tempdir()?;
    let truth = synth(&dir.path().join("synth"), 10, 41)?;
    let server = SlowHttp::start(&dir.path().join("synth"), Duration::from_millis(150))?;
    // Even files from the slow server, odd ones from the local folder.
    let files: Vec<String> = truth
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let name = v["path"].as_str().unwrap_or_default();
            match i % 2 {
                0 => format!("{}/{name}", server.base_url()),
                _ => dir.path().join("synth").join(name).display().to_string(),
            }
        })
        .collect();
    let mut expected = Vec::new();
    // A batch: every synthetic file under new ids (each id is its own video to curate).
    let enqueue_batch = |batch: usize, expected: &mut Vec<String>| -> anyhow::Result<()> {
        let rows: Vec<String> = files
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let id = format!("crash-{batch}-{i:02}");
                expected.push(id.clone());
                json!({"url": path, "video_id": id}).to_string()
            })
            .collect();
        let list = dir.path().join(format!("batch-{batch}.jsonl"));
        fs::write(&list, rows.join("\n"))?;
        let mut enqueue = clipstream();
        run_ok(broker.configure(&mut enqueue).args(["enqueue", "-i"]).arg(&list)).map(drop)
    };
    let mut batches = 2;
    (0..batches).try_for_each(|b| enqueue_batch(b, &mut expected))?;
    let output = dir.path().join("out");

    let mut crashes = Vec::new();
    for point in ["sink.before_manifest", "kafka.before_commit", "sink.before_manifest", "kafka.before_commit"] {
        let status = curate(&broker, &output, &server).env("CLIPSTREAM_FAULT", point).status()?;
        crashes.push(format!("{point}: {status}"));
    }
    let mut delays = Delays(0x5EED_CAFE_F00D);
    let mut kills = 0;
    for _ in 0..30 {
        let mut child = curate(&broker, &output, &server).spawn()?;
        let delay = delays.next_ms(300, 3000);
        std::thread::sleep(Duration::from_millis(delay));
        let outcome = match child.try_wait()? {
            Some(status) => {
                // Out of work before the kill: more videos, so the next kill lands mid-work.
                enqueue_batch(batches, &mut expected)?;
                batches += 1;
                format!("finished before the kill: {status}; enqueued another batch")
            }
            None => {
                child.kill()?;
                kills += 1;
                format!("SIGKILL: {}", child.wait()?)
            }
        };
        crashes.push(format!("kill after {delay} ms: {outcome}"));
        if kills == 10 {
            break;
        }
    }
    let partial = committed_counts(&output)?;
    let status = curate(&broker, &output, &server).status()?;
    assert!(status.success(), "the final run completes: {status}");

    let counts = committed_counts(&output)?;
    let lost: Vec<&String> = expected.iter().filter(|id| !counts.contains_key(*id)).collect();
    let duplicated: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    let unexpected: Vec<&String> = counts.keys().filter(|id| !expected.contains(id)).collect();
    let before_gc = read_back(&output)?;
    let orphans = before_gc["orphans"].as_array().map_or(0, Vec::len);
    println!(
        "crash test: {} crashes/kills ({crashes:#?}); {} videos committed before the final run; final: {} videos, \
         {} lost, {} duplicated, {orphans} orphan files",
        crashes.len(),
        partial.len(),
        counts.len(),
        lost.len(),
        duplicated.len()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(duplicated.is_empty(), "duplicated: {duplicated:?}");
    assert!(unexpected.is_empty(), "unexpected: {unexpected:?}");
    assert_eq!(kills, 10, "ten runs were killed mid-work: {crashes:#?}");
    assert!(server.requests() > counts.len(), "downloads and caption requests went to the slow server");

    let mut lag = clipstream();
    let lags: serde_json::Value = serde_json::from_slice(&run_ok(broker.configure(&mut lag).arg("lag"))?.stdout)?;
    assert_eq!(lags["total_lag"], 0, "{lags}");

    let mut gc = clipstream();
    run_ok(gc.args(["gc", "--min-age-s", "0", "--output"]).arg(&output))?;
    let after_gc = read_back(&output)?;
    assert_eq!(after_gc["orphans"], json!([]), "gc removes every orphan");
    assert_eq!(after_gc["shards"], before_gc["shards"], "gc keeps every committed shard");
    for shard in after_gc["shards"].as_array().context("shards")? {
        assert_eq!(shard["checksums_ok"], true, "{shard}");
        assert_eq!(shard["samples_complete"], true, "{shard}");
    }
    Ok(())
}
