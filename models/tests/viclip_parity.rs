//! ViCLIP against the reference implementation's own fixtures (`fixtures/viclip`, see its README): the tiny model
//! in the released layout loads by name and reproduces the reference's video (T=4), image (T=1) and text
//! embeddings; models built with the ViCLIP-L/14 and ViCLIP-B/16 configs have exactly the released names and
//! shapes; masking keeps `L - int(ratio * L)` patch tokens plus the class token.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clipstream_models::clip::vision::mask_tokens;
use clipstream_models::viclip::Viclip;
use clipstream_models::{Arch, weights};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/viclip").join(name)
}

fn viclip(arch: &str) -> anyhow::Result<(VarStore, Viclip)> {
    let Arch::Viclip(config) = Arch::by_name(arch)? else { anyhow::bail!("{arch} is not ViCLIP") };
    let vs = VarStore::new(Device::Cpu);
    let model = Viclip::new(&vs.root(), config);
    Ok((vs, model))
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn tiny_viclip_matches_the_reference_outputs() -> anyhow::Result<()> {
    let (mut vs, model) = viclip("viclip-tiny")?;
    let report = weights::load(&mut vs, &fixture("tiny-viclip.safetensors"))?;
    assert!(report.is_exact(), "{report}");
    let io: BTreeMap<String, Tensor> = weights::read(&fixture("tiny-viclip-io.safetensors"))?.into_iter().collect();
    let get = |name: &str| io.get(name).with_context(|| format!("{name} in the io fixture"));
    tch::no_grad(|| -> anyhow::Result<()> {
        let video = model.encode_video(get("video")?, false)?;
        let image = model.vision.encode_images(get("image")?)?;
        let text = model.encode_text(get("text_ids")?, false)?;
        for (name, got) in [("video_embeds", &video), ("image_embeds", &image), ("text_embeds", &text)] {
            let want = get(name)?;
            assert_eq!(got.size(), want.size(), "{name}");
            let diff = max_abs_diff(got, want);
            println!("{name}: max abs diff {diff:.2e}");
            assert!(diff < 1e-4, "{name}: max abs diff {diff}");
        }
        Ok(())
    })
}

fn reference_keys(file: &str) -> anyhow::Result<BTreeMap<String, Vec<i64>>> {
    let text = std::fs::read_to_string(fixture(file))?;
    text.lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next().context("name")?.to_string();
            let shape = fields.next().context("shape")?.trim_matches(|c| c == '[' || c == ']');
            let dims = shape
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse())
                .collect::<Result<_, _>>()?;
            anyhow::ensure!(fields.next() == Some("float32"), "{line}");
            Ok((name, dims))
        })
        .collect()
}

#[test]
fn released_configs_have_exactly_the_released_names_and_shapes() -> anyhow::Result<()> {
    for (arch, file, count) in [("viclip-l14", "keys-viclip-l.txt", 447), ("viclip-b16", "keys-viclip-b.txt", 303)] {
        let reference = reference_keys(file)?;
        assert_eq!(reference.len(), count);
        let vs = VarStore::new(Device::Cpu);
        let Arch::Viclip(config) = Arch::by_name(arch)? else { unreachable!("{arch} is ViCLIP") };
        let _model = Viclip::new(&vs.root(), config);
        let report = weights::KeyReport::compare(&weights::model_shapes(&vs), &reference);
        assert!(report.is_exact(), "{arch}: {report}");
        assert_eq!(report.matched, count);
    }
    Ok(())
}

#[test]
fn masking_keeps_l_minus_int_ratio_l_tokens_plus_the_class_token() {
    for (l, ratio) in [(64_i64, 0.9), (2048, 0.9), (10, 0.5), (7, 0.0), (33, 0.75)] {
        let x = Tensor::arange(2 * l * 3, (Kind::Float, Device::Cpu)).view([2, l, 3]);
        let kept = mask_tokens(&x, ratio).expect("[B, L, W] tokens");
        let expect = l - (ratio * l as f64) as i64;
        assert_eq!(kept.size(), vec![2, expect, 3], "L={l} ratio={ratio}");
        // Kept tokens are distinct rows of their own sample.
        let ids = kept.select(2, 0).to_kind(Kind::Int64);
        let unique = ids.get(0).unique_dim(0, false, false, false).0.size()[0];
        assert_eq!(unique, expect);
    }
    let (_vs, model) = viclip("viclip-tiny").expect("tiny builds");
    let video = Tensor::randn([2, 4, 3, 56, 56], (Kind::Float, Device::Cpu));
    let out = model.vision.encode_video(&video, 0.9, true).expect("a valid video");
    assert_eq!(out.size(), vec![2, 16]);
}

#[test]
fn frames_of_another_size_are_an_error_not_a_panic() {
    let (_vs, model) = viclip("viclip-tiny").expect("tiny builds");
    let wrong = Tensor::randn([1, 4, 3, 64, 64], (Kind::Float, Device::Cpu));
    let error = model.encode_video(&wrong, false).expect_err("64 px frames into a 56 px tower");
    assert!(error.to_string().contains("3x56x56"), "{error}");
    let flat = Tensor::randn([4, 3, 56, 56], (Kind::Float, Device::Cpu));
    assert!(model.encode_video(&flat, false).is_err(), "a batch of images is not a video");
}
