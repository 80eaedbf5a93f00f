//! End to end: `clipstream curate` with 2 workers on synthetic + real videos + broken inputs; the output is read
//! back by Python webdataset and pyarrow and checked against the manifests; a second run adds nothing, also after
//! its settled index was compacted or removed.

use std::collections::BTreeMap;
use std::fs;

use anyhow::Context;
use clipstream_schemas::VideoRequest;
use clipstream_tests::{clipstream, read_back, real_video, run_ok, synth};
use serde_json::Value;

#[test]
fn curate_end_to_end_with_broken_inputs_and_rerun() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let synth_dir = dir.path().join("synth");
    let truth = synth(&synth_dir, 3, 11)?;
    let mut good: Vec<String> =
        truth.iter().map(|v| synth_dir.join(v["path"].as_str().unwrap_or_default()).display().to_string()).collect();
    for name in ["bikes.mp4", "cockatoo.mp4", "cityCC0.mpg", "demo.mp4", "vtest.avi"] {
        good.push(real_video(name)?.display().to_string());
    }
    let text_mp4 = dir.path().join("notes.mp4");
    fs::write(&text_mp4, "this is a text file, not a video\n".repeat(100))?;
    let truncated = dir.path().join("truncated.mp4");
    fs::write(&truncated, &fs::read(real_video("bikes.mp4")?)?[..3000])?;
    let broken: BTreeMap<String, &str> = [
        (text_mp4.display().to_string(), "probe.not_a_video"),
        (truncated.display().to_string(), "probe.not_a_video"),
        (dir.path().join("missing.mp4").display().to_string(), "fetch.not_found"),
        ("ftp://example.com/video.mp4".to_string(), "source.bad_url"),
        ("http://127.0.0.1:9/video.mp4".to_string(), "fetch.refused_address"),
    ]
    .into_iter()
    .collect();
    let list = dir.path().join("videos.txt");
    let mut lines = vec!["# a comment line".to_string(), String::new()];
    lines.extend(good.iter().cloned());
    lines.extend(broken.keys().cloned());
    fs::write(&list, lines.join("\n"))?;
    let output = dir.path().join("out");

    let curate = || {
        let mut command = clipstream();
        command
            .args(["curate", "-w", "2", "--metrics-listen", "127.0.0.1:0", "--input"])
            .arg(&list)
            .arg("--output")
            .arg(&output);
        command
    };
    run_ok(&mut curate())?;
    let report = read_back(&output)?;

    let shards = report["shards"].as_array().context("shards")?;
    assert!(!shards.is_empty());
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for shard in shards {
        assert_eq!(shard["checksums_ok"], true, "{shard}");
        assert_eq!(shard["parquet_shard_ok"], true, "{shard}");
        assert_eq!(shard["samples_complete"], true, "{shard}");
        assert_eq!(shard["tar_samples"], shard["clips"], "{shard}");
        assert_eq!(shard["sample_keys"], shard["parquet_keys"], "{shard}");
        assert_eq!(shard["mp4_samples"], shard["clips"], "every clip has its mp4 (AVI/MS-MPEG4 falls back to precise)");
        for d in shard["durations"].as_array().context("durations")? {
            let d = d.as_f64().context("duration")?;
            assert!((2.0..=60.0 + 1e-6).contains(&d), "clip duration {d} outside the default policy");
        }
        for id in shard["video_ids"].as_array().context("ids")? {
            *seen.entry(id.as_str().unwrap_or_default().to_string()).or_default() += 1;
        }
        for id in shard["parquet_videos"].as_array().context("parquet videos")? {
            assert!(shard["video_ids"].as_array().context("ids")?.contains(id), "parquet video {id} not in manifest");
        }
    }
    for url in &good {
        let id = VideoRequest::new(url.clone()).raw_id();
        assert_eq!(seen.get(&id), Some(&1), "{url} ({id}) must be in exactly one manifest; seen {seen:?}");
    }
    assert_eq!(seen.len(), good.len(), "only the good videos are committed: {seen:?}");
    let total_clips: u64 = shards.iter().map(|s| s["clips"].as_u64().unwrap_or(0)).sum();
    assert!(total_clips >= 10, "expected clips from 8 videos, got {total_clips}");
    assert_eq!(report["orphans"], serde_json::json!([]));

    let errors = report["errors"].as_array().context("errors")?;
    for (url, code) in &broken {
        let found: Vec<&Value> = errors.iter().filter(|e| e["url"] == url.as_str()).collect();
        assert_eq!(found.len(), 1, "{url} must have one error record: {errors:?}");
        assert_eq!(found[0]["code"], *code, "{url}: {}", found[0]);
        assert!(!found[0]["reason"].as_str().unwrap_or_default().is_empty());
    }
    assert_eq!(errors.len(), broken.len(), "{errors:?}");

    let second = run_ok(&mut curate())?;
    let again = read_back(&output)?;
    assert_eq!(again["shards"], report["shards"], "a second run adds no shard");
    assert_eq!(
        again["errors"].as_array().map(Vec::len),
        Some(broken.len()),
        "and no error record: {}",
        again["errors"]
    );
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.contains("0 curated"), "{stdout}");

    // The settled index: a start that compacts it, and a start on an output whose index is gone (as written by a
    // version before it) which reads everything once and builds it again, answer the same.
    let deltas = |kind: &str| fs::read_dir(output.join("index").join(kind).join("deltas")).map_or(0, |d| d.count());
    assert!(output.join("index/committed/INIT").exists() && deltas("committed") == shards.len());
    for (compact, remove) in [(true, false), (false, true)] {
        if remove {
            fs::remove_dir_all(output.join("index"))?;
        }
        let mut command = curate();
        if compact {
            command.args(["--set", "sink.index_compact_deltas=1"]);
        }
        let run = run_ok(&mut command)?;
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(stdout.contains("0 curated"), "compact {compact}, index removed {remove}: {stdout}");
        let again = read_back(&output)?;
        assert_eq!(again["shards"], report["shards"]);
        assert_eq!(again["errors"].as_array().map(Vec::len), Some(broken.len()));
        assert_eq!((deltas("committed"), deltas("failed")), (0, 0), "folded, or rebuilt from the full listing");
        assert!(output.join("index/committed/INIT").exists() && output.join("index/failed/INIT").exists());
    }
    Ok(())
}
