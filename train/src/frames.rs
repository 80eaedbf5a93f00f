//! A clip's stored JPEG frames as a model input: pick `T` frames uniformly, decode them (zune-jpeg), crop and
//! resize them to `size` x `size`, normalise with CLIP's mean and std, and lay them out `[T, 3, size, size]`.
//!
//! Training uses torchvision's `RandomResizedCrop(size, scale=(0.5, 1.0), ratio=(3/4, 4/3))` and a horizontal
//! flip with p = 0.5, both drawn once per clip so that every frame of the clip gets the same crop and flip
//! (ViCLIP / UMT do the same per-video augmentation). Evaluation resizes the shorter side to `size` and centre
//! crops, done here as one resample of the centred square of side `min(width, height)`: the same pixels up to
//! torchvision's rounding of the resized size. Everything is deterministic given the caller's RNG.

use clipstream_models::preprocess::{CLIP_MEAN, CLIP_STD, uniform_indices};
use rand::Rng;
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::resize::{Normalise, Region, RgbImage, resize_normalise};

/// Area fraction range of the training crop.
const CROP_SCALE: (f64, f64) = (0.5, 1.0);
/// Aspect ratio (width / height) range of the training crop.
const CROP_RATIO: (f64, f64) = (3.0 / 4.0, 4.0 / 3.0);
/// Tries at a random crop before falling back to a centre crop, as torchvision does.
const CROP_ATTEMPTS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the clip has no stored frames")]
    NoFrames,
    #[error("decoding frame {index}: {reason}")]
    Decode { index: usize, reason: String },
}

/// Decodes a JPEG to RGB (grayscale JPEGs are expanded to three equal channels).
pub fn decode_rgb(jpeg: &[u8]) -> Result<RgbImage, String> {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(jpeg, options);
    let pixels = decoder.decode().map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions().ok_or("no dimensions after decoding")?;
    if width == 0 || height == 0 {
        return Err(format!("empty image {width}x{height}"));
    }
    let area = width * height;
    let pixels = match pixels.len() {
        n if n == area * 3 => pixels,
        n if n == area => pixels.iter().flat_map(|&v| [v; 3]).collect(),
        n => return Err(format!("{n} bytes for a {width}x{height} image")),
    };
    Ok(RgbImage { width, height, pixels })
}

/// A crop as fractions of the image (so one crop applies to frames of any size) and whether to flip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crop {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    pub flip: bool,
}

impl Crop {
    /// The centred square of side `min(width, height)`, not flipped.
    pub fn center_square(width: usize, height: usize) -> Self {
        let side = width.min(height) as f64;
        let (w, h) = (width as f64, height as f64);
        Self { left: (w - side) / 2.0 / w, top: (h - side) / 2.0 / h, width: side / w, height: side / h, flip: false }
    }

    /// torchvision's `RandomResizedCrop.get_params` for a `width` x `height` image (scale (0.5, 1), ratio (3/4,
    /// 4/3), integer pixel box), plus a flip with p = 0.5.
    pub fn random_resized<R: Rng + ?Sized>(width: usize, height: usize, rng: &mut R) -> Self {
        let (w, h) = (width as f64, height as f64);
        let area = w * h;
        let (log_lo, log_hi) = (CROP_RATIO.0.ln(), CROP_RATIO.1.ln());
        let mut chosen = None;
        for _ in 0..CROP_ATTEMPTS {
            let target = area * rng.random_range(CROP_SCALE.0..=CROP_SCALE.1);
            let ratio = rng.random_range(log_lo..=log_hi).exp();
            let cw = (target * ratio).sqrt().round();
            let ch = (target / ratio).sqrt().round();
            if cw > 0.0 && cw <= w && ch > 0.0 && ch <= h {
                let top = rng.random_range(0..=(h - ch) as usize) as f64;
                let left = rng.random_range(0..=(w - cw) as usize) as f64;
                chosen = Some((left, top, cw, ch));
                break;
            }
        }
        let (left, top, cw, ch) = chosen.unwrap_or_else(|| {
            // Centre crop at the nearest allowed aspect ratio.
            let ratio = w / h;
            let (cw, ch) = if ratio < CROP_RATIO.0 {
                (w, (w / CROP_RATIO.0).round())
            } else if ratio > CROP_RATIO.1 {
                ((h * CROP_RATIO.1).round(), h)
            } else {
                (w, h)
            };
            (((w - cw) / 2.0).floor(), ((h - ch) / 2.0).floor(), cw, ch)
        });
        let flip = rng.random_bool(0.5);
        Self { left: left / w, top: top / h, width: cw / w, height: ch / h, flip }
    }

    fn region(&self, width: usize, height: usize) -> Region {
        let (w, h) = (width as f64, height as f64);
        Region {
            left: (self.left * w) as f32,
            top: (self.top * h) as f32,
            width: (self.width * w) as f32,
            height: (self.height * h) as f32,
        }
    }
}

/// Turns a clip's stored frames into a `[frames, 3, size, size]` float input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameTransform {
    /// Output height and width.
    pub size: usize,
    /// Frames per clip (`T`).
    pub frames: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl FrameTransform {
    /// `frames` frames of `size` x `size`, normalised with CLIP's mean and std.
    pub fn new(size: usize, frames: usize) -> Self {
        Self { size, frames, mean: CLIP_MEAN, std: CLIP_STD }
    }

    /// Floats of one clip: `frames * 3 * size * size`.
    pub fn clip_len(&self) -> usize {
        self.frames * 3 * self.size * self.size
    }

    /// The training input: one random resized crop and flip for the whole clip, drawn from `rng`.
    pub fn train<R: Rng + ?Sized>(&self, jpegs: &[Vec<u8>], rng: &mut R) -> Result<Vec<f32>, FrameError> {
        self.apply(jpegs, |width, height| Crop::random_resized(width, height, rng))
    }

    /// The evaluation input: shorter side to `size`, centre crop.
    pub fn eval(&self, jpegs: &[Vec<u8>]) -> Result<Vec<f32>, FrameError> {
        self.apply(jpegs, Crop::center_square)
    }

    /// Decodes the chosen frames and resamples each with the crop that `choose` makes from the first one's size.
    fn apply(&self, jpegs: &[Vec<u8>], choose: impl FnOnce(usize, usize) -> Crop) -> Result<Vec<f32>, FrameError> {
        let indices = uniform_indices(jpegs.len(), self.frames);
        if indices.is_empty() {
            return Err(FrameError::NoFrames);
        }
        let per_frame = 3 * self.size * self.size;
        let mut out = vec![0f32; self.clip_len()];
        let mut choose = Some(choose);
        let mut crop = None;
        let mut decoded: Option<(usize, RgbImage)> = None;
        for (slot, &index) in indices.iter().enumerate() {
            // Repeated indices (fewer stored frames than T) decode once.
            if decoded.as_ref().is_none_or(|(i, _)| *i != index) {
                let image = decode_rgb(&jpegs[index]).map_err(|reason| FrameError::Decode { index, reason })?;
                decoded = Some((index, image));
            }
            let Some((_, image)) = decoded.as_ref() else { return Err(FrameError::NoFrames) };
            let clip_crop = *crop.get_or_insert_with(|| match choose.take() {
                Some(choose) => choose(image.width, image.height),
                None => Crop::center_square(image.width, image.height),
            });
            resize_normalise(
                image,
                clip_crop.region(image.width, image.height),
                self.size,
                clip_crop.flip,
                Normalise { mean: self.mean, std: self.std },
                &mut out[slot * per_frame..(slot + 1) * per_frame],
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// 32x16: left half pure red, right half pure blue (see testdata/make_fixtures.sh).
    const HALVES: &[u8] = include_bytes!("testdata/halves.jpg");

    fn normalised(rgb: [f32; 3]) -> [f32; 3] {
        std::array::from_fn(|c| (rgb[c] / 255.0 - CLIP_MEAN[c]) / CLIP_STD[c])
    }

    /// The RGB (0..255) of pixel (x, y) of frame `t` of a `[T, 3, size, size]` output.
    fn pixel(out: &[f32], size: usize, t: usize, x: usize, y: usize) -> [f32; 3] {
        std::array::from_fn(|c| {
            let v = out[((t * 3 + c) * size + y) * size + x];
            (v * CLIP_STD[c] + CLIP_MEAN[c]) * 255.0
        })
    }

    fn close(a: [f32; 3], b: [f32; 3], tolerance: f32) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    #[test]
    fn decodes_the_fixture() {
        let image = decode_rgb(HALVES).unwrap();
        assert_eq!((image.width, image.height), (32, 16));
        let at =
            |x: usize, y: usize| -> [f32; 3] { std::array::from_fn(|c| f32::from(image.pixels[(y * 32 + x) * 3 + c])) };
        assert!(close(at(2, 8), [255.0, 0.0, 0.0], 6.0), "{:?}", at(2, 8));
        assert!(close(at(29, 8), [0.0, 0.0, 255.0], 6.0), "{:?}", at(29, 8));
        assert!(decode_rgb(b"\xff\xd8 not a jpeg").is_err());
    }

    #[test]
    fn eval_center_crops_and_normalises() {
        let transform = FrameTransform::new(8, 3);
        let jpegs = vec![HALVES.to_vec(); 2];
        let out = transform.eval(&jpegs).unwrap();
        assert_eq!(out.len(), 3 * 3 * 8 * 8);
        assert_eq!(transform.clip_len(), out.len());
        // The centre 16x16 square spans x 8..24: its left half red, right half blue.
        for t in 0..3 {
            assert!(close(pixel(&out, 8, t, 1, 4), [255.0, 0.0, 0.0], 8.0), "{:?}", pixel(&out, 8, t, 1, 4));
            assert!(close(pixel(&out, 8, t, 6, 4), [0.0, 0.0, 255.0], 8.0));
        }
        let red = normalised([255.0, 0.0, 0.0]);
        assert!((out[1] - red[0]).abs() < 0.1, "{} vs {}", out[1], red[0]);
        assert_eq!(out, transform.eval(&jpegs).unwrap(), "eval is deterministic");
    }

    #[test]
    fn train_uses_one_crop_and_flip_per_clip_and_is_seeded() {
        let transform = FrameTransform::new(6, 4);
        let jpegs = vec![HALVES.to_vec(); 5];
        let per_frame = 3 * 6 * 6;
        let mut flips = [0usize; 2];
        let mut checked = 0;
        for seed in 0..40 {
            let out = transform.train(&jpegs, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
            assert_eq!(out.len(), transform.clip_len());
            for t in 1..4 {
                assert_eq!(out[..per_frame], out[t * per_frame..(t + 1) * per_frame], "seed {seed} frame {t}");
            }
            assert_eq!(out, transform.train(&jpegs, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap());
            // The crop and flip the transform drew first from the same RNG; where the crop straddles the red/blue
            // edge (x = 16 of 32), the left output column shows red unflipped, blue flipped.
            let crop = Crop::random_resized(32, 16, &mut ChaCha8Rng::seed_from_u64(seed));
            flips[usize::from(crop.flip)] += 1;
            let (x0, x1) = (crop.left * 32.0, (crop.left + crop.width) * 32.0);
            if x0 < 13.0 && x1 > 19.0 {
                checked += 1;
                let (left, right) = (pixel(&out, 6, 0, 0, 3), pixel(&out, 6, 0, 5, 3));
                let (red, blue) = (|p: [f32; 3]| p[0] > p[2], |p: [f32; 3]| p[2] > p[0]);
                if crop.flip {
                    assert!(blue(left) && red(right), "seed {seed}: {crop:?} {left:?} {right:?}");
                } else {
                    assert!(red(left) && blue(right), "seed {seed}: {crop:?} {left:?} {right:?}");
                }
            }
        }
        assert!(flips[0] > 5 && flips[1] > 5, "both flips happen: {flips:?}");
        assert!(checked > 10, "{checked} crops straddle the edge");
    }

    #[test]
    fn random_crops_follow_the_scale_and_ratio_ranges() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut fallbacks = 0;
        for (width, height) in [(320, 240), (100, 100), (1000, 90), (64, 480)] {
            for _ in 0..500 {
                let crop = Crop::random_resized(width, height, &mut rng);
                assert!(crop.left >= 0.0 && crop.top >= 0.0);
                assert!(crop.left + crop.width <= 1.0 + 1e-9 && crop.top + crop.height <= 1.0 + 1e-9);
                let (cw, ch) = (crop.width * width as f64, crop.height * height as f64);
                let area = crop.width * crop.height;
                let ratio = cw / ch;
                if area < 0.5 - 0.03 || !(0.75 - 0.03..=4.0 / 3.0 + 0.03).contains(&ratio) {
                    // Only the fallback (extreme aspect images) may leave the ranges; it keeps an allowed ratio.
                    fallbacks += 1;
                    assert!(width * 3 < height * 2 || height * 3 < width * 2, "{width}x{height}: {crop:?}");
                }
            }
        }
        assert!(fallbacks > 0, "the 1000x90 image needs the fallback");
    }

    #[test]
    fn bad_frames_are_errors() {
        let transform = FrameTransform::new(4, 2);
        assert_eq!(transform.eval(&[]), Err(FrameError::NoFrames));
        let broken = vec![HALVES.to_vec(), b"junk".to_vec()];
        assert!(matches!(transform.eval(&broken), Err(FrameError::Decode { index: 1, .. })));
    }
}
