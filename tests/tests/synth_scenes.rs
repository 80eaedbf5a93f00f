//! Scene cuts found by `clipstream scenes --json` on synthetic videos match their ground truth: F1 >= 0.99 and
//! every matched cut within one frame.

use anyhow::Context;
use clipstream_tests::{clipstream, run_ok, synth};

#[test]
fn scene_cuts_match_synthetic_ground_truth() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let truth = synth(dir.path(), 10, 2024)?;
    let mut command = clipstream();
    command.args(["scenes", "--json"]);
    for video in &truth {
        command.arg(dir.path().join(video["path"].as_str().context("path")?));
    }
    let found: serde_json::Value = serde_json::from_slice(&run_ok(&mut command)?.stdout)?;
    let (mut matched, mut expected_total, mut found_total) = (0usize, 0usize, 0usize);
    for video in &truth {
        let path = dir.path().join(video["path"].as_str().context("path")?).display().to_string();
        let entry = &found[&path];
        let expected: Vec<i64> =
            video["cut_frames"].as_array().context("cut_frames")?.iter().filter_map(|v| v.as_i64()).collect();
        let cuts: Vec<i64> = entry["cut_frames"]
            .as_array()
            .with_context(|| format!("{path}: {entry}"))?
            .iter()
            .filter_map(|v| v.as_i64())
            .collect();
        assert_eq!(entry["frames"], video["frames"], "{path}: frame count");
        expected_total += expected.len();
        found_total += cuts.len();
        let mut unused = cuts.clone();
        for cut in &expected {
            if let Some(pos) = unused.iter().position(|c| (c - cut).abs() <= 1) {
                unused.remove(pos);
                matched += 1;
            } else {
                eprintln!("{path}: missed cut at {cut} (found {cuts:?})");
            }
        }
        for extra in &unused {
            eprintln!("{path}: extra cut at {extra} (expected {expected:?})");
        }
    }
    let precision = matched as f64 / found_total.max(1) as f64;
    let recall = matched as f64 / expected_total.max(1) as f64;
    let f1 = 2.0 * precision * recall / (precision + recall).max(f64::EPSILON);
    eprintln!("cuts: expected {expected_total}, found {found_total}, matched {matched}, F1 {f1:.4}");
    assert!(expected_total >= 30, "the synthetic set must have enough cuts to be meaningful");
    assert!(f1 >= 0.99, "F1 {f1:.4} below 0.99");
    Ok(())
}
