//! The LAION aesthetic MLP against the reference definition in PyTorch (`scripts/aesthetic_fixture.py`, seeded
//! random weights): loads by the released names and gives the same scores.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use clipstream_models::aesthetic::{AESTHETIC_INPUT, AestheticMlp};
use clipstream_models::weights;
use tch::nn::VarStore;
use tch::{Device, Tensor};

#[test]
fn scores_match_the_reference_mlp() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    anyhow::ensure!(python.exists(), "{} is missing: run scripts/setup", python.display());
    let dir = tempfile::tempdir()?;
    let status = Command::new(&python).arg(root.join("scripts/aesthetic_fixture.py")).arg(dir.path()).status()?;
    anyhow::ensure!(status.success(), "scripts/aesthetic_fixture.py failed: {status}");

    let mut vs = VarStore::new(Device::Cpu);
    let mlp = AestheticMlp::new(&vs.root(), AESTHETIC_INPUT);
    let report = weights::load(&mut vs, &dir.path().join("aesthetic.safetensors"))?;
    assert!(report.is_exact(), "{report}");
    assert_eq!(report.matched, 10, "layers 0, 2, 4, 6, 7: weight and bias");
    let io: BTreeMap<String, Tensor> =
        weights::read(&dir.path().join("aesthetic-io.safetensors"))?.into_iter().collect();
    let scores = tch::no_grad(|| mlp.score(&io["embeddings"], false));
    let diff = (&scores - io.get("scores").context("scores")?).abs().max().double_value(&[]);
    println!("aesthetic scores: max abs diff {diff:.2e}");
    assert!(diff < 1e-5, "max abs diff {diff}");
    Ok(())
}
