//! The CLIP towers against open_clip itself: `scripts/clip_fixtures.py` builds open_clip models with seeded random
//! weights (the tiny GELU config and the ViT-B/32 OpenAI layout), saves their state dicts and their outputs on fixed
//! inputs; the Rust models load the same files by name and must match image and text embeddings within 1e-4 (max
//! abs) and logits within 1e-3.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use clipstream_models::clip::Clip;
use clipstream_models::{Arch, weights};
use tch::nn::VarStore;
use tch::{Device, Tensor};

fn generate(out: &Path) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    anyhow::ensure!(
        python.exists(),
        "{} is missing: run scripts/setup (it installs torch and open_clip)",
        python.display()
    );
    let status = Command::new(&python)
        .arg(root.join("scripts/clip_fixtures.py"))
        .arg(out)
        .status()
        .context("running scripts/clip_fixtures.py")?;
    anyhow::ensure!(status.success(), "scripts/clip_fixtures.py failed: {status}");
    Ok(())
}

fn check(dir: &Path, arch: &str) -> anyhow::Result<()> {
    let Arch::Clip(config) = Arch::by_name(arch)? else { anyhow::bail!("{arch} is not CLIP") };
    let mut vs = VarStore::new(Device::Cpu);
    let model = Clip::new(&vs.root(), &config);
    let report = weights::load(&mut vs, &dir.join(format!("{arch}.safetensors")))?;
    assert!(report.is_exact(), "{arch}: {report}");
    let io: BTreeMap<String, Tensor> =
        weights::read(&dir.join(format!("{arch}-io.safetensors")))?.into_iter().collect();
    let get = |name: &str| io.get(name).with_context(|| format!("{name} in {arch}-io"));
    tch::no_grad(|| -> anyhow::Result<()> {
        let image = model.visual.encode_images(get("image")?)?;
        let text = model.text.encode(get("text")?, false)?;
        let logits = model.logits(&image, &text);
        for (name, got, tolerance) in
            [("image_embeds", &image, 1e-4), ("text_embeds", &text, 1e-4), ("logits_per_image", &logits, 1e-3)]
        {
            let want = get(name)?;
            assert_eq!(got.size(), want.size(), "{arch} {name}");
            let diff = (got - want).abs().max().double_value(&[]);
            println!("{arch} {name}: max abs diff {diff:.2e}");
            assert!(diff < tolerance, "{arch} {name}: max abs diff {diff} >= {tolerance}");
        }
        Ok(())
    })
}

#[test]
fn tiny_and_vit_b32_match_open_clip() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    generate(dir.path())?;
    check(dir.path(), "clip-tiny")?;
    check(dir.path(), "clip-vit-b32")
}
