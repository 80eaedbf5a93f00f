//! The edges of the Kafka source against the real broker (tansu) and S3 server (s3s-fs): messages at, under and
//! over `kafka.max_message_bytes`, long bad messages (bounded dead letters, originals stored whole), local paths,
//! `file://` URLs, symlinks and playlists from untrusted messages, an id equal to another id's hashed key, and a
//! shard upload that fails at its finish. Every run ends at the end of the topic with every video committed once
//! or with exactly one error record and one dead letter, and the group's offsets at the high watermarks.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use clipstream_tests::kafka::read_topic;
use clipstream_tests::services::{Broker, S3};
use clipstream_tests::{allow_local_files, clipstream, committed_counts, error_records, run_ok, synth};
use serde_json::{Value, json};

const TOPIC: &str = "clipstream.videos";
const DLQ: &str = "clipstream.videos.dlq";
const MAX_MESSAGE: usize = 4096;
const DLQ_PAYLOAD: usize = 1024;

/// `{"url": url, "video_id": id, "pad": "xx.."}` padded to exactly `bytes` bytes.
fn padded(url: &str, id: &str, bytes: usize) -> String {
    let bare = json!({"url": url, "video_id": id, "pad": ""}).to_string();
    json!({"url": url, "video_id": id, "pad": "x".repeat(bytes - bare.len())}).to_string()
}

/// Every error record under `errors/` of a local output, by video id.
fn error_records_by_id(output: &Path) -> anyhow::Result<BTreeMap<String, Vec<Value>>> {
    let mut records: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for record in error_records(output)? {
        records.entry(record["video_id"].as_str().unwrap_or_default().to_string()).or_default().push(record);
    }
    Ok(records)
}

fn enqueue_raw(broker: &Broker, dir: &Path, lines: &[String]) -> anyhow::Result<()> {
    let list = dir.join("raw.txt");
    fs::write(&list, lines.join("\n"))?;
    run_ok(broker.configure(&mut clipstream()).args(["enqueue", "--raw", "-i"]).arg(&list)).map(drop)
}

fn total_lag(broker: &Broker) -> anyhow::Result<i64> {
    let out = run_ok(broker.configure(&mut clipstream()).arg("lag"))?;
    let lag: Value = serde_json::from_slice(&out.stdout).context("lag JSON")?;
    lag["total_lag"].as_i64().context("total_lag")
}

fn curate(broker: &Broker, output: &str, extra: &[&str]) -> Command {
    let mut command = clipstream();
    broker.configure(&mut command);
    command.args(["curate", "--source", "kafka", "--until-empty", "-w", "2", "--metrics-listen", ""]);
    command.args(["--output", output, "--set", "frames.count=2", "--set", "kafka.epoch_ms=200"]);
    for set in [format!("kafka.max_message_bytes={MAX_MESSAGE}"), format!("kafka.dlq_payload_bytes={DLQ_PAYLOAD}")] {
        command.args(["--set", &set]);
    }
    for set in extra {
        command.args(["--set", set]);
    }
    command
}

#[test]
fn no_message_stops_the_job_and_untrusted_urls_name_no_local_file() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    broker.create_topic(TOPIC, 2)?;
    broker.create_topic(DLQ, 1)?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("synth");
    let truth = synth(&root, 2, 5)?;
    let video = |i: usize| root.join(truth[i]["path"].as_str().unwrap_or_default()).display().to_string();
    // Outside the allowed root: a real video, reachable through a symlink and an HLS playlist inside the root.
    let secret = dir.path().join("secret.mp4");
    fs::copy(video(0), &secret)?;
    std::os::unix::fs::symlink(&secret, root.join("link.mp4"))?;
    let playlist = root.join("list.m3u8");
    let hls = format!("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{}\n#EXT-X-ENDLIST\n", secret.display());
    fs::write(&playlist, hls)?;
    let unsafe_id = "a/b";
    let hashed = clipstream_schemas::safe_key(unsafe_id)?;

    let long_bad = "y".repeat(3 * DLQ_PAYLOAD);
    let huge = "z".repeat(200_000);
    let lines = vec![
        padded(&video(0), "at-limit", MAX_MESSAGE),
        padded(&video(1), "under-limit", MAX_MESSAGE - 1),
        padded(&video(1), "over-limit", MAX_MESSAGE + 1),
        long_bad.clone(),
        huge.clone(),
        json!({"url": "/etc/passwd", "video_id": "passwd"}).to_string(),
        json!({"url": "file:///proc/self/environ", "video_id": "environ"}).to_string(),
        json!({"url": root.join("link.mp4").display().to_string(), "video_id": "symlink"}).to_string(),
        json!({"url": root.join("../secret.mp4").display().to_string(), "video_id": "dotdot"}).to_string(),
        json!({"url": playlist.display().to_string(), "video_id": "playlist"}).to_string(),
        json!({"url": video(0), "video_id": unsafe_id}).to_string(),
        json!({"url": video(1), "video_id": hashed}).to_string(),
    ];
    enqueue_raw(&broker, dir.path(), &lines)?;

    let output = dir.path().join("out");
    let mut job = curate(&broker, &output.display().to_string(), &[]);
    allow_local_files(&mut job, &root);
    let run = run_ok(&mut job)?;
    let summary = String::from_utf8_lossy(&run.stdout).to_string();
    assert_eq!(total_lag(&broker)?, 0, "offsets at the high watermarks: {summary}");

    let counts = committed_counts(&output)?;
    for id in ["at-limit", "under-limit"] {
        assert_eq!(counts.get(id), Some(&1), "{id}: {counts:?}");
    }
    let errors = error_records_by_id(&output)?;
    let code_of = |id: &str| -> Vec<String> {
        errors
            .get(id)
            .map(|r| r.iter().map(|r| r["code"].as_str().unwrap_or_default().to_string()).collect())
            .unwrap_or_default()
    };
    for (id, code) in [
        ("passwd", "fetch.local_refused"),
        ("environ", "fetch.local_refused"),
        ("symlink", "fetch.local_refused"),
        ("dotdot", "fetch.local_refused"),
        ("playlist", "probe.not_a_video"),
    ] {
        assert_eq!(code_of(id), [code], "{id}: {errors:?}");
        assert!(!counts.contains_key(id), "{id} never curated");
    }
    // The two videos share a key: one is curated under it, the other refused with a record, not dropped.
    assert_eq!(counts.get(&hashed), Some(&1), "{counts:?}");
    let refused: Vec<&str> =
        [unsafe_id, hashed.as_str()].into_iter().filter(|id| code_of(id) == ["source.key_collision"]).collect();
    assert_eq!(refused.len(), 1, "{errors:?}");
    let mut source_codes: Vec<String> = errors
        .get("")
        .map(|r| r.iter().map(|r| r["code"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default();
    source_codes.sort();
    assert_eq!(source_codes, ["source.bad_row", "source.too_large", "source.too_large"], "{errors:?}");
    assert_eq!(code_of("over-limit"), Vec::<String>::new(), "an unparsed message has no id");

    let letters = read_topic(&broker.address(), DLQ)?;
    let mut letter_codes: Vec<String> = letters.iter().map(|m| m.headers["clipstream.code"].clone()).collect();
    letter_codes.sort();
    let mut expected = vec![
        "fetch.local_refused",
        "fetch.local_refused",
        "fetch.local_refused",
        "fetch.local_refused",
        "probe.not_a_video",
        "source.bad_row",
        "source.key_collision",
        "source.too_large",
        "source.too_large",
    ];
    expected.sort();
    assert_eq!(letter_codes, expected, "{letters:?}");
    let originals = [("over-limit", lines[2].as_bytes()), ("bad", long_bad.as_bytes()), ("huge", huge.as_bytes())];
    let mut stored = 0;
    for letter in &letters {
        assert!(letter.payload.len() <= DLQ_PAYLOAD, "bounded payload: {}", letter.payload.len());
        assert!(letter.headers.values().all(|v| v.len() <= 16 << 10), "bounded headers");
        if let Some(key) = letter.headers.get("clipstream.original") {
            let original = fs::read(output.join(key)).with_context(|| format!("original {key}"))?;
            assert!(originals.iter().any(|(_, bytes)| *bytes == original.as_slice()), "{key} holds a whole message");
            assert!(original.starts_with(&letter.payload), "the letter carries a prefix");
            assert!(letter.headers["clipstream.position"].starts_with(&format!("{TOPIC}/")), "{letter:?}");
            stored += 1;
        }
    }
    assert_eq!(stored, 3, "three messages longer than the letter payload: {letters:?}");
    Ok(())
}

#[test]
fn a_shard_upload_failing_at_its_finish_is_retried_or_becomes_error_records() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    broker.create_topic(TOPIC, 2)?;
    broker.create_topic(DLQ, 1)?;
    let s3 = S3::start()?;
    let out_bucket = s3.create_bucket("out")?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("synth");
    let truth = synth(&root, 4, 9)?;
    let rows = |batch: &str| -> Vec<String> {
        truth
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = root.join(v["path"].as_str().unwrap_or_default()).display().to_string();
                json!({"url": path, "video_id": format!("{batch}-{i}")}).to_string()
            })
            .collect()
    };
    let configured = |command: &mut Command| {
        s3.configure(command);
        allow_local_files(command, &root);
    };
    let no_pause = ["sink.commit_backoff_ms=10", "sink.max_shard_clips=1000"];

    // A store that fails the first two finishes: the commit is tried again and lands, once.
    enqueue_raw(&broker, dir.path(), &rows("flaky"))?;
    let mut flaky = curate(&broker, "s3://out/dataset", &no_pause);
    configured(&mut flaky);
    run_ok(flaky.env("CLIPSTREAM_FAULT", "sink.finish_upload:2"))?;
    let output = out_bucket.join("dataset");
    let counts = committed_counts(&output)?;
    assert_eq!(counts.len(), truth.len(), "{counts:?}");
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert_eq!(total_lag(&broker)?, 0);

    // A store that never finishes: every video of the shard becomes a sink error record and a dead letter; the run
    // says so and exits 1; the offsets move past them because the failures themselves are stored.
    enqueue_raw(&broker, dir.path(), &rows("down"))?;
    let mut down = curate(&broker, "s3://out/dataset", &["sink.commit_attempts=2", "sink.commit_backoff_ms=10"]);
    configured(&mut down);
    let failed = down.env("CLIPSTREAM_FAULT", "sink.finish_upload:always").output()?;
    let text = String::from_utf8_lossy(&failed.stdout).to_string();
    assert_eq!(failed.status.code(), Some(1), "{text}\n{}", String::from_utf8_lossy(&failed.stderr));
    assert!(text.contains("OUTPUT FAILED"), "{text}");
    assert_eq!(committed_counts(&output)?, counts, "nothing new committed");
    let errors = error_records_by_id(&output)?;
    for i in 0..truth.len() {
        let records = errors.get(&format!("down-{i}")).cloned().unwrap_or_default();
        assert_eq!(records.len(), 1, "down-{i}: {errors:?}");
        assert_eq!((records[0]["code"].as_str(), records[0]["retryable"].as_bool()), (Some("sink.store"), Some(true)));
    }
    let letters = read_topic(&broker.address(), DLQ)?;
    assert_eq!(letters.iter().filter(|l| l.headers["clipstream.code"] == "sink.store").count(), truth.len());
    assert_eq!(total_lag(&broker)?, 0);
    let staged: Vec<String> =
        clipstream_tests::services::files_under(&output).into_iter().filter(|f| f.contains('#')).collect();
    assert!(staged.is_empty(), "no staged parts left: {staged:?}");
    Ok(())
}
