//! The CLIP transform (`clipstream_models::preprocess`) against open_clip's `image_transform` outputs in
//! `fixtures/clip_transform.safetensors` (made by `scripts/clip_transform_fixture.py`): the eval variant (shortest
//! side and squash) on images shrunk, enlarged, left alone, tall and wide; the train variant with the crop box
//! open_clip drew, unflipped and flipped; all within 1e-4.

use std::collections::HashMap;
use std::path::Path;

use clipstream_models::preprocess::{ClipTransform, CropBox, Resize, RgbImage};
use tch::{Kind, Tensor};

/// The fixture script's image: (7 (c + 1) x^2 + 13 (c + 2) y + 3 x y + 71 c) mod 256.
fn image(width: usize, height: usize) -> RgbImage {
    let pixels = (0..height)
        .flat_map(|y| {
            (0..width).flat_map(move |x| {
                (0..3).map(move |c| ((7 * (c + 1) * x * x + 13 * (c + 2) * y + 3 * x * y + 71 * c) % 256) as u8)
            })
        })
        .collect();
    RgbImage { width, height, pixels }
}

fn fixtures() -> HashMap<String, Tensor> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip_transform.safetensors");
    Tensor::read_safetensors(path).expect("fixture").into_iter().collect()
}

/// (width, height, size) from a fixture name's `{W}x{H}-{S}[-{seed}]` part.
fn parse(spec: &str) -> (usize, usize, usize) {
    let number = |s: &str| s.parse::<usize>().expect("a number in the fixture name");
    let parts: Vec<&str> = spec.split('-').collect();
    let (w, h) = parts[0].split_once('x').expect("WxH");
    (number(w), number(h), number(parts[1]))
}

fn max_difference(ours: &[f32], theirs: &Tensor) -> f64 {
    let theirs = Vec::<f32>::try_from(theirs.to_kind(Kind::Float).flatten(0, -1)).expect("floats");
    assert_eq!(ours.len(), theirs.len());
    ours.iter().zip(&theirs).map(|(a, b)| f64::from((a - b).abs())).fold(0.0, f64::max)
}

#[test]
fn eval_matches_open_clip_shortest_and_squash() {
    let fixtures = fixtures();
    let mut checked = 0;
    for (name, want) in &fixtures {
        let (spec, resize) = match (name.strip_prefix("eval-"), name.strip_prefix("squash-")) {
            (Some(spec), _) => (spec, Resize::Shortest),
            (_, Some(spec)) => (spec, Resize::Squash),
            _ => continue,
        };
        let (width, height, size) = parse(spec);
        let transform = ClipTransform::new(size).with_resize(resize);
        let mut out = vec![0f32; transform.image_len()];
        transform.eval(&image(width, height), &mut out);
        let difference = max_difference(&out, want);
        assert!(difference < 1e-4, "{name}: max |difference| {difference}");
        checked += 1;
    }
    assert_eq!(checked, 12);
}

#[test]
fn train_matches_open_clip_with_its_crop_box_and_flips_after_the_crop() {
    let fixtures = fixtures();
    let mut checked = 0;
    for (name, want) in &fixtures {
        let Some(spec) = name.strip_prefix("train-") else { continue };
        let (width, height, size) = parse(spec);
        let b = Vec::<f32>::try_from(&fixtures[&format!("box-{spec}")]).expect("box");
        let crop = CropBox { top: b[0] as usize, left: b[1] as usize, height: b[2] as usize, width: b[3] as usize };
        let transform = ClipTransform::new(size);
        let mut out = vec![0f32; transform.image_len()];
        transform.train(&image(width, height), crop, false, &mut out);
        let difference = max_difference(&out, want);
        assert!(difference < 1e-4, "{name} {crop:?}: max |difference| {difference}");
        transform.train(&image(width, height), crop, true, &mut out);
        let difference = max_difference(&out, &want.flip([-1]));
        assert!(difference < 1e-4, "{name} flipped: max |difference| {difference}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}
