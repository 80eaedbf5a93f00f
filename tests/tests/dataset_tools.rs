//! End to end: curate synthetic videos, `clipstream export` the clips in the released InternVid layout, then
//! `clipstream hydrate` that export over the same local videos: the same clips come back (same frames, times
//! within a frame, same captions and scores), read back with Python pyarrow and webdataset. A second hydrate adds
//! nothing.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use clipstream_tests::{clipstream, python, repo_root, run_ok, synth};
use serde_json::Value;

/// Runs a clipstream command and parses its stdout as JSON.
fn run_json(command: &mut Command) -> anyhow::Result<Value> {
    let out = run_ok(command)?;
    serde_json::from_slice(&out.stdout).with_context(|| format!("stdout of {command:?} is JSON"))
}

/// Every clip of an output, read back by `tests/python/clip_digests.py`: key -> parquet columns + entry hashes.
fn digests(output: &Path) -> anyhow::Result<serde_json::Map<String, Value>> {
    let script = repo_root().join("tests/python/clip_digests.py");
    let out = run_ok(Command::new(python()?).arg(script).arg(output))?;
    match serde_json::from_slice(&out.stdout).context("digests are JSON")? {
        Value::Object(map) => Ok(map),
        other => anyhow::bail!("digests are not an object: {other}"),
    }
}

#[test]
fn export_then_hydrate_reproduces_the_curated_clips() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let videos = dir.path().join("synth");
    let truth = synth(&videos, 3, 21)?;
    let list = dir.path().join("videos.jsonl");
    let mut lines = Vec::new();
    for (i, video) in truth.iter().enumerate() {
        let path = videos.join(video["path"].as_str().context("path")?);
        lines.push(
            serde_json::json!({
                "url": path.display().to_string(),
                "video_id": video["video"],
                "caption": format!("shapes move over a {} background", video["theme"].as_str().unwrap_or("plain")),
                "lang": "en",
                "category": if i % 2 == 0 { "Film & Animation" } else { "Education" },
            })
            .to_string(),
        );
    }
    fs::write(&list, lines.join("\n"))?;
    let curated = dir.path().join("curated");
    run_ok(clipstream().args(["curate", "--metrics-listen", "", "--input"]).arg(&list).arg("--output").arg(&curated))?;

    let export = dir.path().join("export/internvid.jsonl");
    let exported =
        run_json(clipstream().args(["export", "--format", "internvid", "-i"]).arg(&curated).arg("-o").arg(&export))?;
    let text = fs::read_to_string(&export)?;
    let released: BTreeSet<&str> =
        ["YoutubeID", "Start_timestamp", "End_timestamp", "Caption", "UMT_Score", "Aesthetic_Score", "Lang", "Type"]
            .into();
    for line in text.lines() {
        let row: Value = serde_json::from_str(line)?;
        let columns: BTreeSet<&str> = row.as_object().context("row")?.keys().map(String::as_str).collect();
        assert_eq!(columns, released, "{line}");
        for ts in ["Start_timestamp", "End_timestamp"] {
            let value = row[ts].as_str().context("timestamp")?;
            assert!(value.len() == 12 && value.as_bytes()[2] == b':' && value.as_bytes()[8] == b'.', "{value}");
        }
        assert!(row["UMT_Score"].is_null() && row["Aesthetic_Score"].is_null(), "no scoring model ran: {line}");
    }
    let original = digests(&curated)?;
    assert_eq!(exported["rows"].as_u64(), Some(original.len() as u64));
    assert!(original.len() >= 6, "expected clips from 3 synthetic videos, got {}", original.len());

    let hydrated = dir.path().join("hydrated");
    let hydrate = || {
        let mut command = clipstream();
        command.args(["hydrate", "-i"]).arg(&export).arg("-o").arg(&hydrated).arg("--video-root").arg(&videos);
        command
    };
    let summary = run_json(&mut hydrate())?;
    assert_eq!(summary["fetches"], 3, "one fetch per video: {summary}");
    assert_eq!(summary["videos_done"], 3, "{summary}");
    assert_eq!(summary["clips"].as_u64(), Some(original.len() as u64), "{summary}");

    let again = digests(&hydrated)?;
    assert_eq!(again.keys().collect::<Vec<_>>(), original.keys().collect::<Vec<_>>(), "the same clip keys");
    for (key, before) in &original {
        let after = &again[key];
        let frame = 1.0 / before["fps"].as_f64().context("fps")?;
        for time in ["start_s", "end_s"] {
            let (a, b) = (before[time].as_f64().context("time")?, after[time].as_f64().context("time")?);
            assert!((a - b).abs() <= frame, "{key} {time}: {a} vs {b}");
        }
        for column in [
            "video_id",
            "clip_index",
            "start_frame",
            "end_frame",
            "caption",
            "sim_score",
            "aesthetic_score",
            "lang",
            "category",
        ] {
            assert_eq!(before[column], after[column], "{key} {column}");
        }
        // The same frames were sampled and encoded: the JPEGs are byte-identical.
        let entries = |digest: &Value| -> Vec<(String, Value)> {
            digest["entries"]
                .as_object()
                .map(|e| {
                    e.iter().filter(|(name, _)| name.ends_with("jpg")).map(|(n, v)| (n.clone(), v.clone())).collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(entries(before).len(), 9, "{key}: middle frame + 8 frames");
        assert_eq!(entries(before), entries(after), "{key}: frames differ");
        assert!(after["entries"].get("mp4").is_some(), "{key}: precise clip written");
    }

    let export_again = dir.path().join("export/again.jsonl");
    run_ok(clipstream().args(["export", "-i"]).arg(&hydrated).arg("-o").arg(&export_again))?;
    assert_eq!(fs::read_to_string(&export_again)?, text, "exporting the hydrated clips gives the same metadata");

    let rerun = run_json(&mut hydrate())?;
    assert_eq!((rerun["fetches"].as_u64(), rerun["videos_skipped_done"].as_u64()), (Some(0), Some(3)), "{rerun}");
    assert_eq!(digests(&hydrated)?.len(), original.len(), "a second hydrate adds nothing");
    Ok(())
}
