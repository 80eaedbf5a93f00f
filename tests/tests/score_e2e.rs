//! End to end with models: `clipstream curate` with the tags captioner and ViCLIP scoring (the tiny ViCLIP of the
//! reference fixtures) writes captions and similarity scores into the parquet; the score filter drops exactly the
//! clips under `score.min_similarity`; `clipstream convert` accepts a checkpoint converted by
//! `scripts/convert_checkpoint.py` from a released-style ViCLIP `.pth` and rejects it for another architecture.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use clipstream_tests::{clipstream, python, repo_root, run_ok, synth};
use serde_json::Value;

fn tiny_viclip() -> String {
    repo_root().join("models/tests/fixtures/viclip/tiny-viclip.safetensors").display().to_string()
}

/// Every parquet row of an output, as JSON objects.
fn rows(output: &Path) -> anyhow::Result<Vec<Value>> {
    let script = "import glob, json, sys, pyarrow.parquet as pq\n\
                  rows = [r for f in sorted(glob.glob(sys.argv[1] + '/**/*.parquet', recursive=True))\n\
                          for r in pq.read_table(f).to_pylist()]\n\
                  print(json.dumps(rows, default=str))";
    let out = run_ok(Command::new(python()?).arg("-c").arg(script).arg(output))?;
    serde_json::from_slice(&out.stdout).context("parquet rows as JSON")
}

fn curate(input: &Path, output: &Path, extra: &[&str]) -> anyhow::Result<()> {
    let weights = format!("score.weights={}", tiny_viclip());
    let mut command = clipstream();
    command.args(["curate", "-w", "2", "--input"]).arg(input).arg("--output").arg(output);
    for set in ["score.similarity=viclip", "score.arch=viclip-tiny", weights.as_str(), "caption.coarse=tags"] {
        command.args(["--set", set]);
    }
    for set in extra {
        command.args(["--set", set]);
    }
    run_ok(&mut command)?;
    Ok(())
}

#[test]
fn curate_writes_tags_captions_and_viclip_scores_and_filters() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("synth");
    synth(&input, 3, 5)?;
    let all = dir.path().join("all");
    curate(&input, &all, &[])?;
    let rows = rows(&all)?;
    assert!(rows.len() >= 6, "{} clips", rows.len());
    let mut sims = Vec::new();
    for row in &rows {
        let sim = row["sim_score"].as_f64().with_context(|| format!("sim_score of {row}"))?;
        assert!((-1.0..=1.0).contains(&sim), "{sim}");
        let coarse = row["caption_coarse"].as_str().context("a tags caption")?;
        assert!(coarse.starts_with("a ") && coarse.split(' ').count() >= 3, "{coarse}");
        assert_eq!(row["caption"], row["caption_coarse"], "the coarse caption is the training text");
        assert!(row["aesthetic_score"].is_null(), "no aesthetic model configured");
        sims.push(sim);
    }
    // The threshold sits in the widest gap between neighbouring scores of the middle half: a clip's score may move
    // in the last bits between two runs (clips meet in other batches), which must not move it across.
    sims.sort_by(f64::total_cmp);
    let middle = (sims.len() / 4).max(1)..=3 * sims.len() / 4;
    let (gap, i) = middle.map(|i| (sims[i] - sims[i - 1], i)).max_by(|a, b| a.0.total_cmp(&b.0)).context("scores")?;
    assert!(gap > 1e-4, "no gap between the middle scores {sims:?}");
    let threshold = (sims[i] + sims[i - 1]) / 2.0;
    let filtered = dir.path().join("filtered");
    curate(&input, &filtered, &[&format!("score.min_similarity={threshold}")])?;
    let kept = self::rows(&filtered)?;
    let expected = rows.iter().filter(|r| r["sim_score"].as_f64().unwrap_or(f64::NAN) >= threshold).count();
    assert_eq!(kept.len(), expected, "the filter keeps exactly the clips at or above {threshold}");
    assert!(kept.len() < rows.len());
    Ok(())
}

#[test]
fn convert_checks_a_converted_viclip_checkpoint() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pth = dir.path().join("viclip.pth");
    let wrap = "import sys, torch\nfrom safetensors.torch import load_file\n\
                sd = {'module.' + k: v for k, v in load_file(sys.argv[1]).items()}\n\
                torch.save({'model': sd, 'epoch': 3}, sys.argv[2])";
    run_ok(Command::new(python()?).arg("-c").arg(wrap).arg(tiny_viclip()).arg(&pth))?;
    let converted = dir.path().join("viclip.safetensors");
    run_ok(
        Command::new(python()?)
            .arg(repo_root().join("scripts/convert_checkpoint.py"))
            .args(["--kind", "viclip"])
            .arg(&pth)
            .arg(&converted),
    )?;
    let fits = run_ok(clipstream().args(["convert", "--arch", "viclip-tiny"]).arg(&converted))?;
    let text = String::from_utf8_lossy(&fits.stdout);
    assert!(text.contains("fits") && text.contains("0 missing, 0 unexpected, 0 mis-shaped"), "{text}");

    let wrong = clipstream().args(["convert", "--json", "--arch", "clip-tiny"]).arg(&converted).output()?;
    assert!(!wrong.status.success(), "another architecture is rejected");
    let report: Value = serde_json::from_slice(&wrong.stdout)?;
    assert_eq!(report["ok"], false);
    assert!(report["missing"].as_array().is_some_and(|m| m.iter().any(|k| k == "visual.conv1.weight")), "{report}");
    assert!(report["unexpected"].as_array().is_some_and(|u| u.iter().any(|k| k == "temp")), "{report}");
    Ok(())
}
