//! Subset tests over generated metadata files: DIV inclusion probabilities, reproducibility, FLT and aesthetics
//! filters.

use std::collections::HashMap;
use std::path::Path;

use clipstream_schemas::config::SinkConfig;

use super::*;
use clipstream_store::fixtures::row;
use clipstream_store::metadata::Metadata;
use clipstream_store::metadata::row::ClipRow;
use clipstream_store::metadata::write::{RowFormat, RowWriter};

/// Clips per video of the skewed table: one video dominates the clip count.
const SKEW: [u32; 4] = [1, 3, 10, 30];

fn write_table(path: &Path, rows: &[ClipRow]) {
    let mut writer = RowWriter::create(path, RowFormat::ClipParquet).expect("create");
    rows.iter().for_each(|r| writer.write(r).expect("write"));
    writer.finish().expect("finish");
}

fn skewed_rows() -> Vec<ClipRow> {
    SKEW.iter()
        .enumerate()
        .flat_map(|(v, clips)| (0..*clips).map(move |i| row(&format!("video{v}"), i, f64::from(i) * 3.0)))
        .collect()
}

fn options(input: &Path, out: &Path, mode: SubsetMode, seed: u64) -> SubsetOptions {
    SubsetOptions {
        input: input.display().to_string(),
        mode,
        seed,
        out: out.to_path_buf(),
        reshard: None,
        sink: SinkConfig::default(),
    }
}

fn selected(out: &Path) -> Vec<ClipRow> {
    Metadata::open(out.to_str().expect("utf8"), true).expect("open").map(|r| r.expect("row")).collect()
}

/// Exact inclusion probability of item `i` in 2 successive weighted draws without replacement.
fn included_in_two(weights: &[f64], i: usize) -> f64 {
    let total: f64 = weights.iter().sum();
    let first = weights[i] / total;
    let second: f64 =
        (0..weights.len()).filter(|&j| j != i).map(|j| weights[j] / total * weights[i] / (total - weights[j])).sum();
    first + second
}

#[test]
fn div_matches_the_expected_inclusion_probabilities() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("table.parquet");
    let rows = skewed_rows();
    write_table(&input, &rows);
    let weights: Vec<f64> = SKEW.iter().flat_map(|c| (0..*c).map(move |_| 1.0 / f64::from(*c))).collect();
    let video_of: Vec<usize> = SKEW.iter().enumerate().flat_map(|(v, c)| (0..*c).map(move |_| v)).collect();
    let trials = 1500u64;
    for n in [1usize, 2] {
        let mut hits = [0u32; SKEW.len()];
        for seed in 0..trials {
            let out = dir.path().join("pick.parquet");
            let summary = subset(&options(&input, &out, SubsetMode::Div { n }, seed)).expect("subset");
            assert_eq!(summary.clips, n as u64);
            for picked in selected(&out) {
                let video: usize = picked.video_id.trim_start_matches("video").parse().expect("video index");
                hits[video] += 1;
            }
        }
        for (video, hit) in hits.iter().enumerate() {
            let expected: f64 = (0..weights.len())
                .filter(|&i| video_of[i] == video)
                .map(|i| if n == 1 { weights[i] / SKEW.len() as f64 } else { included_in_two(&weights, i) })
                .sum();
            let observed = f64::from(*hit) / trials as f64;
            // Binomial sd <= sqrt(0.25 / 1500) ~ 0.013: a tolerance of 0.045 is > 3 sd.
            assert!(
                (observed - expected).abs() < 0.045,
                "n={n} video{video} ({} clips): observed {observed:.3}, expected {expected:.3}",
                SKEW[video]
            );
        }
        if n == 1 {
            // Without DIV weights the 30-clip video would win 30/44 = 68% of the time; DIV gives each video 25%.
            assert!(f64::from(hits[3]) / (trials as f64) < 0.32, "{hits:?}");
        }
    }
}

#[test]
fn same_seed_same_subset_other_seed_other_subset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("table.parquet");
    let mut rows = skewed_rows();
    write_table(&input, &rows);
    let reversed = dir.path().join("reversed.parquet");
    rows.reverse();
    write_table(&reversed, &rows);
    let pick = |input: &Path, seed: u64, name: &str| {
        let out = dir.path().join(name);
        subset(&options(input, &out, SubsetMode::Div { n: 10 }, seed)).expect("subset");
        selected(&out).into_iter().map(|r| r.identity()).collect::<Vec<_>>()
    };
    let first = pick(&input, 42, "a.parquet");
    assert_eq!(first.len(), 10);
    assert_eq!(first, pick(&input, 42, "b.parquet"), "same seed, same subset");
    assert_eq!(first, pick(&reversed, 42, "c.parquet"), "the read order does not matter");
    assert_ne!(first, pick(&input, 43, "d.parquet"), "another seed, another subset");
}

#[test]
fn flt_keeps_the_top_fraction_within_the_duration_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("table.parquet");
    let mut rows = Vec::new();
    for v in 0..10 {
        for i in 0..10u32 {
            let mut r = row(&format!("v{v}"), i, f64::from(i) * 10.0);
            r.sim_score = Some(f64::from(v * 10 + i) / 100.0);
            // Every fifth clip is too short, one is too long.
            r.end_s = r.start_s
                + if i % 5 == 0 {
                    0.5
                } else if v == 9 && i == 9 {
                    200.0
                } else {
                    4.0
                };
            rows.push(r);
        }
    }
    rows.push(ClipRow { sim_score: None, ..row("unscored", 0, 0.0) });
    write_table(&input, &rows);
    let out = dir.path().join("flt.jsonl");
    let mode = SubsetMode::Flt { n: 1000, top: 0.3, min_duration_s: 1.0, max_duration_s: 120.0 };
    let summary = subset(&options(&input, &out, mode, 7)).expect("flt");
    // 100 clips minus 20 short, 1 long = 79 in bounds; top 30% = ceil(23.7) = 24 clips.
    assert_eq!((summary.candidates, summary.clips), (24, 24));
    let threshold = summary.sim_threshold.expect("threshold");
    let eligible: Vec<f64> =
        rows.iter().filter(|r| (1.0..=120.0).contains(&r.duration_s())).filter_map(|r| r.sim_score).collect();
    let mut sorted = eligible.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(threshold as f32, sorted[23] as f32);
    let text = std::fs::read_to_string(&out).expect("jsonl");
    assert_eq!(text.lines().count(), 24);
    for line in text.lines() {
        let picked: ClipRow = serde_json::from_str(line).expect("clip row");
        assert!(picked.sim_score.is_some_and(|s| s >= threshold) && picked.duration_s() >= 1.0, "{line}");
    }
    let few = SubsetMode::Flt { n: 5, top: 0.3, min_duration_s: 1.0, max_duration_s: 120.0 };
    let small = subset(&options(&input, &dir.path().join("few.parquet"), few, 7)).expect("flt 5");
    assert_eq!((small.candidates, small.clips), (24, 5));
}

#[test]
fn scoreless_metadata_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("table.parquet");
    write_table(&input, &[ClipRow { sim_score: None, ..row("v", 0, 0.0) }]);
    let out = dir.path().join("x.parquet");
    let mode = SubsetMode::Flt { n: 5, top: 0.3, min_duration_s: 1.0, max_duration_s: 120.0 };
    let flt = subset(&options(&input, &out, mode, 1)).expect_err("no sim scores");
    assert!(format!("{flt:#}").contains("sim_score"), "{flt:#}");
    let aes = subset(&options(&input, &out, SubsetMode::Aesthetics { min: 4.0 }, 1)).expect_err("no aesthetic scores");
    assert!(format!("{aes:#}").contains("aesthetic_score"), "{aes:#}");
    assert!(!out.exists() && !dir.path().join("x.parquet.partial").exists());
}

#[test]
fn aesthetics_and_random() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("table.parquet");
    let rows: Vec<ClipRow> = (0..50u32)
        .map(|i| ClipRow { aesthetic_score: Some(f64::from(i) / 5.0), ..row(&format!("v{}", i % 7), i, 0.0) })
        .collect();
    write_table(&input, &rows);
    let out = dir.path().join("aes.parquet");
    let summary = subset(&options(&input, &out, SubsetMode::Aesthetics { min: 4.0 }, 0)).expect("aesthetics");
    assert_eq!(summary.clips, 30);
    assert!(selected(&out).iter().all(|r| r.aesthetic_score.is_some_and(|s| s >= 4.0)));
    assert_eq!(summary.aesthetic_score.count, 30);
    let random =
        subset(&options(&input, &dir.path().join("r.parquet"), SubsetMode::Random { n: 12 }, 5)).expect("random");
    assert_eq!((random.clips, random.candidates, random.input_rows), (12, 50, 50));
    let mut per_video: HashMap<String, u32> = HashMap::new();
    for r in selected(&dir.path().join("r.parquet")) {
        *per_video.entry(r.video_id).or_default() += 1;
    }
    assert_eq!(random.videos, per_video.len() as u64);
    assert!((random.mean_clips_per_video - 12.0 / per_video.len() as f64).abs() < 1e-9);
}
