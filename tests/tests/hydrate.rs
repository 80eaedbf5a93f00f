//! End to end on released-format metadata: `tests/fixtures/internvid_sample.jsonl` is a hand-written InternVid
//! jsonl (59 rows, interleaved across 10 videos, a deleted video, malformed rows, a hostile id, a clip past the end
//! of its video). `clipstream hydrate` maps the ids to local synthetic videos with `--video-root`, and the other
//! dataset tools (export, subset with reshard, stats, icl) then run on the hydrated shards, which carry the
//! fixture's captions and scores.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use clipstream_schemas::parse_timestamp;
use clipstream_tests::{clipstream, python, repo_root, run_ok, synth};
use serde_json::Value;

/// The fixture's video that is not in the video root (deleted from YouTube).
const DELETED: &str = "Zq9deleted0";
/// The fixture's id that must never become a path.
const HOSTILE: &str = "../../etc/passwd";

fn fixture() -> PathBuf {
    repo_root().join("tests/fixtures/internvid_sample.jsonl")
}

fn run_json(command: &mut Command) -> anyhow::Result<Value> {
    let out = run_ok(command)?;
    serde_json::from_slice(&out.stdout).with_context(|| format!("stdout of {command:?} is JSON"))
}

fn digests(output: &Path) -> anyhow::Result<serde_json::Map<String, Value>> {
    let out = run_ok(Command::new(python()?).arg(repo_root().join("tests/python/clip_digests.py")).arg(output))?;
    match serde_json::from_slice(&out.stdout).context("digests are JSON")? {
        Value::Object(map) => Ok(map),
        other => anyhow::bail!("digests are not an object: {other}"),
    }
}

/// The fixture rows that must become clips: well-formed, of an available video, inside the video.
fn expected_rows() -> anyhow::Result<Vec<Value>> {
    let mut rows = Vec::new();
    for line in fs::read_to_string(fixture())?.lines() {
        let Ok(row) = serde_json::from_str::<Value>(line) else { continue };
        let (Some(id), Some(start), Some(end)) =
            (row["YoutubeID"].as_str(), row["Start_timestamp"].as_str(), row["End_timestamp"].as_str())
        else {
            continue;
        };
        let (Ok(start), Ok(end)) = (parse_timestamp(start), parse_timestamp(end)) else { continue };
        let usable = id != DELETED && id != HOSTILE && end > start && start < 15.0 && row["UMT_Score"].is_number();
        if usable {
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Synthetic videos named after the fixture's available ids; returns the video root.
fn video_root(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut ids: Vec<String> = Vec::new();
    for row in expected_rows()? {
        let id = row["YoutubeID"].as_str().context("id")?.to_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    assert_eq!(ids.len(), 10);
    let synth_dir = dir.join("synth");
    let truth = synth(&synth_dir, ids.len(), 7)?;
    let root = dir.join("videos");
    fs::create_dir_all(&root)?;
    for (id, video) in ids.iter().zip(&truth) {
        let source = synth_dir.join(video["path"].as_str().context("path")?);
        let target = root.join(format!("{id}.mp4"));
        if fs::hard_link(&source, &target).is_err() {
            fs::copy(&source, &target)?;
        }
    }
    Ok(root)
}

fn hydrate(root: &Path, output: &Path) -> anyhow::Result<Value> {
    run_json(
        clipstream()
            .args(["hydrate", "-w", "2", "-i"])
            .arg(fixture())
            .arg("-o")
            .arg(output)
            .arg("--video-root")
            .arg(root),
    )
}

fn error_records(output: &Path) -> anyhow::Result<Vec<Value>> {
    let mut records = Vec::new();
    for entry in fs::read_dir(output.join("errors"))? {
        for line in fs::read_to_string(entry?.path())?.lines().filter(|l| !l.trim().is_empty()) {
            records.push(serde_json::from_str(line)?);
        }
    }
    Ok(records)
}

#[test]
fn hydrate_fetches_each_video_once_cuts_the_listed_clips_and_records_errors() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = video_root(dir.path())?;
    let output = dir.path().join("out");
    let summary = hydrate(&root, &output)?;
    let expect = |field: &str, value: u64| assert_eq!(summary[field].as_u64(), Some(value), "{field}: {summary}");
    expect("rows", 59);
    expect("rows_bad", 5);
    // 10 available videos, the deleted one, the hostile id: each tried once.
    expect("videos", 12);
    expect("fetches", 12);
    expect("videos_done", 10);
    expect("videos_failed", 2);
    expect("videos_unavailable", 2);
    expect("clips", 50);
    expect("clips_failed", 4);
    assert!((summary["unavailable_share"].as_f64().unwrap_or(0.0) - 2.0 / 12.0).abs() < 1e-9, "{summary}");

    let clips = digests(&output)?;
    let rows = expected_rows()?;
    assert_eq!((clips.len(), rows.len()), (50, 50));
    let by_time: BTreeMap<(String, String, String), &Value> = clips
        .values()
        .map(|c| {
            let text = |name: &str| c[name].as_str().unwrap_or_default().to_string();
            ((text("video_id"), text("start_ts"), text("end_ts")), c)
        })
        .collect();
    for row in &rows {
        let text = |name: &str| row[name].as_str().unwrap_or_default().to_string();
        let key = (text("YoutubeID"), text("Start_timestamp"), text("End_timestamp"));
        let clip = by_time.get(&key).with_context(|| format!("no clip for {key:?}"))?;
        assert_eq!(clip["caption"], row["Caption"], "{key:?}");
        assert_eq!(clip["sim_score"], row["UMT_Score"], "{key:?}");
        assert_eq!(clip["aesthetic_score"], row["Aesthetic_Score"], "{key:?}");
        assert_eq!(clip["lang"], row.get("Lang").cloned().unwrap_or(Value::Null), "{key:?}");
        assert_eq!(clip["category"], row.get("Type").cloned().unwrap_or(Value::Null), "{key:?}");
        let fps = clip["fps"].as_f64().context("fps")?;
        let start = parse_timestamp(&key.1)?;
        let end = parse_timestamp(&key.2)?;
        assert_eq!(clip["start_frame"].as_f64(), Some((start * fps).round()), "{key:?}");
        assert_eq!(clip["end_frame"].as_f64(), Some((end * fps).round()), "{key:?}");
        assert_eq!((clip["has_video"].as_bool(), clip["num_frames"].as_u64()), (Some(true), Some(8)), "{key:?}");
        let entries: BTreeSet<&str> =
            clip["entries"].as_object().context("entries")?.keys().map(String::as_str).collect();
        let mut expected: BTreeSet<&str> = ["json", "jpg", "txt", "mp4"].into();
        let frames: Vec<String> = (0..8).map(|i| format!("f{i}.jpg")).collect();
        expected.extend(frames.iter().map(String::as_str));
        assert_eq!(entries, expected, "{key:?}");
    }
    // Clip indexes follow time within a video.
    for clip in clips.values() {
        let index = clip["clip_index"].as_u64().context("index")?;
        let earlier = clips
            .values()
            .filter(|c| c["video_id"] == clip["video_id"] && c["start_s"].as_f64() < clip["start_s"].as_f64());
        assert_eq!(earlier.count() as u64, index, "{clip}");
    }

    let records = error_records(&output)?;
    let mut codes: Vec<(String, String)> = records
        .iter()
        .map(|r| (r["code"].as_str().unwrap_or("").to_string(), r["video_id"].as_str().unwrap_or("").to_string()))
        .collect();
    codes.sort();
    let expected_codes: Vec<(String, String)> = [
        ("fetch.not_found", DELETED),
        ("hydrate.clip_out_of_range", "Gh6Ij7Kl8Mn"),
        ("hydrate.unsafe_id", HOSTILE),
        ("source.bad_row", ""),
        ("source.bad_row", ""),
        ("source.bad_row", ""),
        ("source.bad_timestamp", "PqR-stUvWx1"),
        ("source.bad_timestamp", "k3J_9fLmQw0"),
    ]
    .iter()
    .map(|(code, id)| (code.to_string(), id.to_string()))
    .collect();
    assert_eq!(codes, expected_codes);
    for record in &records {
        assert!(!record["reason"].as_str().unwrap_or_default().is_empty(), "{record}");
        if record["stage"] == "source" {
            assert!(record["raw"].is_string(), "bad rows keep their text: {record}");
        }
    }

    let again = hydrate(&root, &output)?;
    assert_eq!((again["fetches"].as_u64(), again["videos_skipped_done"].as_u64()), (Some(0), Some(12)), "{again}");
    assert_eq!(error_records(&output)?.len(), 8, "a re-run records nothing twice");
    assert_eq!(digests(&output)?.len(), 50);
    Ok(())
}

/// Reads a jsonl file of JSON objects.
fn jsonl(path: &Path) -> anyhow::Result<Vec<Value>> {
    fs::read_to_string(path)?.lines().map(|l| serde_json::from_str(l).context("jsonl line")).collect()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> anyhow::Result<(u32, u32)> {
    let png = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(png.len() > 24 && png[..8] == *b"\x89PNG\r\n\x1a\n" && png[12..16] == *b"IHDR", "not a PNG");
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    Ok((be(16), be(20)))
}

#[test]
fn dataset_tools_on_hydrated_internvid_metadata() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = video_root(dir.path())?;
    let output = dir.path().join("out");
    hydrate(&root, &output)?;
    let rows = expected_rows()?;

    // export: the released columns of the valid, available rows, as given.
    let export = dir.path().join("export.jsonl");
    run_ok(clipstream().args(["export", "-i"]).arg(&output).arg("-o").arg(&export))?;
    let as_set = |rows: &[Value]| -> BTreeSet<String> { rows.iter().map(|r| r.to_string()).collect() };
    let normalised: Vec<Value> = rows.iter().map(|r| serde_json::from_str(&r.to_string())).collect::<Result<_, _>>()?;
    assert_eq!(as_set(&jsonl(&export)?), as_set(&normalised), "export reproduces the hydrated rows");

    // flt: DIV over the top half by UMT score.
    let mut umt: Vec<f64> = rows.iter().filter_map(|r| r["UMT_Score"].as_f64()).collect();
    umt.sort_by(|a, b| b.total_cmp(a));
    let threshold = umt[24];
    let flt_out = dir.path().join("flt.jsonl");
    let flt = run_json(
        clipstream()
            .args(["subset", "flt", "--n", "10", "--top", "0.5", "--seed", "3", "-i"])
            .arg(&output)
            .arg("-o")
            .arg(&flt_out),
    )?;
    assert_eq!(flt["sim_threshold"].as_f64(), Some(threshold), "{flt}");
    assert_eq!(flt["candidates"].as_u64(), Some(umt.iter().filter(|s| **s >= threshold).count() as u64), "{flt}");
    let picked = jsonl(&flt_out)?;
    assert_eq!((picked.len(), flt["clips"].as_u64()), (10, Some(10)));
    assert!(picked.iter().all(|p| p["sim_score"].as_f64().is_some_and(|s| s >= threshold)), "{picked:?}");
    assert!(dir.path().join("flt.jsonl.summary.json").is_file());

    // aesthetics: every clip scoring >= 5.
    let aes = run_json(
        clipstream()
            .args(["subset", "aesthetics", "--min", "5", "-i"])
            .arg(&output)
            .arg("-o")
            .arg(dir.path().join("aes.jsonl")),
    )?;
    let high = rows.iter().filter(|r| r["Aesthetic_Score"].as_f64().is_some_and(|s| s >= 5.0)).count();
    assert_eq!(aes["clips"].as_u64(), Some(high as u64), "{aes}");

    // div with reshard: new shards holding exactly the selected clips, readable by webdataset and pyarrow.
    let div = |name: &str, reshard: Option<&Path>| -> anyhow::Result<PathBuf> {
        let out = dir.path().join(name);
        let mut command = clipstream();
        command.args(["subset", "div", "--n", "12", "--seed", "4", "-i"]).arg(&output).arg("-o").arg(&out);
        if let Some(target) = reshard {
            command.arg("--reshard").arg(target);
        }
        run_ok(&mut command)?;
        Ok(out)
    };
    let resharded = dir.path().join("resharded");
    let first = div("div.jsonl", Some(&resharded))?;
    let second = div("div2.jsonl", None)?;
    assert_eq!(fs::read(&first)?, fs::read(&second)?, "the same seed gives the same subset");
    let selected: BTreeSet<String> =
        jsonl(&first)?.iter().map(|r| r["key"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(selected.len(), 12);
    let report = run_ok(Command::new(python()?).arg(repo_root().join("tests/python/check_output.py")).arg(&resharded))?;
    let report: Value = serde_json::from_slice(&report.stdout)?;
    let mut keys = BTreeSet::new();
    for shard in report["shards"].as_array().context("shards")? {
        assert_eq!(
            (shard["checksums_ok"].as_bool(), shard["samples_complete"].as_bool()),
            (Some(true), Some(true)),
            "{shard}"
        );
        assert_eq!(shard["mp4_samples"], shard["clips"], "{shard}");
        assert_eq!(shard["sample_keys"], shard["parquet_keys"], "{shard}");
        keys.extend(
            shard["sample_keys"].as_array().context("keys")?.iter().map(|k| k.as_str().unwrap_or_default().to_string()),
        );
    }
    assert_eq!(keys, selected, "the reshard holds exactly the selected clips");

    // stats: JSON, PNG plots of the right size, an HTML page embedding them, actionness from the tagger.
    let stats_dir = dir.path().join("stats");
    run_ok(
        clipstream().env("CLIPSTREAM_PYTHON", python()?).args(["stats", "-i"]).arg(&output).arg("-o").arg(&stats_dir),
    )?;
    let stats: Value = serde_json::from_slice(&fs::read(stats_dir.join("stats.json"))?)?;
    assert_eq!((stats["clips"].as_u64(), stats["videos"].as_u64()), (Some(50), Some(10)));
    let actionness = &stats["actionness"];
    assert_eq!(actionness["captions"].as_u64(), Some(50), "{actionness}");
    assert!(actionness["distinct_verbs"].as_u64().unwrap_or(0) >= 20, "{actionness}");
    assert!(actionness["tool"].as_str().unwrap_or_default().starts_with("textblob"), "{actionness}");
    let top_verbs: Vec<&str> =
        actionness["top_verbs"].as_array().context("verbs")?.iter().filter_map(|v| v[0].as_str()).collect();
    assert!(top_verbs.iter().all(|v| !["be", "have", "do"].contains(v)), "{top_verbs:?}");
    let plots = stats["plots"].as_array().context("plots")?;
    assert_eq!(plots.len(), 6, "{plots:?}");
    for plot in plots {
        assert_eq!(png_size(&stats_dir.join(plot.as_str().context("name")?))?, (800, 480), "{plot}");
    }
    let page = fs::read_to_string(stats_dir.join("index.html"))?;
    assert_eq!(page.matches("src=\"data:image/png;base64,").count(), plots.len());

    // icl (b): one video per sequence, captions in temporal order, 30% of the video items dropped.
    let icl_out = dir.path().join("icl.jsonl");
    let icl = run_json(
        clipstream().args(["icl", "--format", "b", "--seed", "2", "-i"]).arg(&output).arg("-o").arg(&icl_out),
    )?;
    let sequences = jsonl(&icl_out)?;
    assert_eq!((sequences.len(), icl["clips"].as_u64()), (10, Some(50)), "{icl}");
    let mut captions = 0;
    for sequence in &sequences {
        assert_eq!(sequence["format"], "b");
        let video = sequence["video_ids"][0].as_str().context("video")?;
        let mut starts = Vec::new();
        for item in sequence["items"].as_array().context("items")? {
            match item["type"].as_str() {
                Some("caption") => {
                    captions += 1;
                    let key = item["key"].as_str().context("key")?;
                    assert!(key.starts_with(video), "{item}");
                    let clip = rows
                        .iter()
                        .filter(|r| r["YoutubeID"] == video)
                        .find(|r| r["Caption"] == item["text"])
                        .with_context(|| format!("caption {item} is not one of {video}'s"))?;
                    starts.push(parse_timestamp(clip["Start_timestamp"].as_str().unwrap_or_default())?);
                }
                Some("video") => assert_eq!(item["video_id"], video),
                other => anyhow::bail!("unexpected item type {other:?}: the fixture has no ASR"),
            }
        }
        assert!(starts.windows(2).all(|w| w[0] <= w[1]), "temporal order: {starts:?}");
    }
    assert_eq!(captions, 50);
    let rate = icl["drop_rate"].as_f64().unwrap_or(0.0);
    assert!((rate - 0.3).abs() < 0.2, "50 clips at p=0.3: {rate}");
    Ok(())
}

#[test]
fn hydrate_rescore_replaces_the_listed_scores_with_the_score_stage() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = video_root(dir.path())?;
    let output = dir.path().join("rescored");
    let weights = repo_root().join("models/tests/fixtures/viclip/tiny-viclip.safetensors");
    run_json(
        clipstream()
            .args(["hydrate", "-w", "2", "--rescore", "-i"])
            .arg(fixture())
            .arg("-o")
            .arg(&output)
            .arg("--video-root")
            .arg(&root)
            .args(["--set", "score.similarity=viclip", "--set", "score.arch=viclip-tiny", "--set"])
            .arg(format!("score.weights={}", weights.display())),
    )?;
    let script = "import glob, json, sys, pyarrow.parquet as pq\n\
                  print(json.dumps([r for f in glob.glob(sys.argv[1] + '/**/*.parquet', recursive=True)\n\
                                    for r in pq.read_table(f).to_pylist()], default=str))";
    let out = run_ok(Command::new(python()?).arg("-c").arg(script).arg(&output))?;
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout)?;
    let listed: Vec<f64> = expected_rows()?.iter().filter_map(|r| r["UMT_Score"].as_f64()).collect();
    assert!(!rows.is_empty());
    for row in &rows {
        match (row["caption"].as_str(), row["sim_score"].as_f64()) {
            (Some(_), Some(sim)) => {
                assert!((-1.0..=1.0).contains(&sim), "{sim}");
                assert!(!listed.contains(&sim), "the listed score {sim} was kept");
            }
            (None, sim) => assert_eq!(sim, None, "no caption, no similarity: {row}"),
            (Some(_), None) => anyhow::bail!("a captioned clip was not scored: {row}"),
        }
    }
    Ok(())
}
