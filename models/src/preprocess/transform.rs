//! open_clip's `image_transform` for one image, with CLIP's mean and std: the eval variant (`Resize(size)` of the
//! shorter side and `CenterCrop(size)`, or with `resize_mode="squash"` the whole image to `Resize((size, size))`;
//! then `Normalize`) and the train variant (`RandomResizedCrop(size, scale=(0.9, 1))`, `Normalize`), both bicubic
//! with antialiasing as torchvision resizes tensors; plus an optional horizontal flip after the crop (open_clip has
//! none: the caller decides, see the trainer's `flip`).

use rand::Rng;

use super::image::RgbImage;
use super::resample::{Window, resample};
use super::{CLIP_MEAN, CLIP_STD};

/// Area fraction range of the training crop (open_clip's `AugmentationCfg.scale`).
pub const TRAIN_CROP_SCALE: (f64, f64) = (0.9, 1.0);
/// Aspect ratio (width / height) range of the training crop (torchvision's default).
pub const TRAIN_CROP_RATIO: (f64, f64) = (3.0 / 4.0, 4.0 / 3.0);
/// Tries at a random crop before falling back to a centre crop, as torchvision does.
const CROP_ATTEMPTS: usize = 10;

/// A source rectangle in pixels, as torchvision's `RandomResizedCrop.get_params` returns it (i, j, h, w).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropBox {
    pub top: usize,
    pub left: usize,
    pub height: usize,
    pub width: usize,
}

impl CropBox {
    /// torchvision's `RandomResizedCrop.get_params` for a `width` x `height` image with open_clip's scale range.
    pub fn random<R: Rng + ?Sized>(width: usize, height: usize, rng: &mut R) -> Self {
        let (w, h) = (width as f64, height as f64);
        let (log_lo, log_hi) = (TRAIN_CROP_RATIO.0.ln(), TRAIN_CROP_RATIO.1.ln());
        for _ in 0..CROP_ATTEMPTS {
            let target = w * h * rng.random_range(TRAIN_CROP_SCALE.0..=TRAIN_CROP_SCALE.1);
            let ratio = rng.random_range(log_lo..=log_hi).exp();
            let cw = (target * ratio).sqrt().round_ties_even();
            let ch = (target / ratio).sqrt().round_ties_even();
            if cw > 0.0 && cw <= w && ch > 0.0 && ch <= h {
                let (cw, ch) = (cw as usize, ch as usize);
                let top = rng.random_range(0..=height - ch);
                let left = rng.random_range(0..=width - cw);
                return Self { top, left, height: ch, width: cw };
            }
        }
        // Centre crop at the nearest allowed aspect ratio.
        let ratio = w / h;
        let (cw, ch) = if ratio < TRAIN_CROP_RATIO.0 {
            (width, (w / TRAIN_CROP_RATIO.0).round_ties_even() as usize)
        } else if ratio > TRAIN_CROP_RATIO.1 {
            ((h * TRAIN_CROP_RATIO.1).round_ties_even() as usize, height)
        } else {
            (width, height)
        };
        Self { top: (height - ch) / 2, left: (width - cw) / 2, height: ch, width: cw }
    }

    /// The same rectangle on a frame of another size (scaled, inside the frame).
    pub fn rescaled(self, from: (usize, usize), to: (usize, usize)) -> Self {
        if from == to {
            return self;
        }
        let scale = |v: usize, a: usize, b: usize| (v as f64 * b as f64 / a.max(1) as f64) as usize;
        let (width, height) =
            (scale(self.width, from.0, to.0).clamp(1, to.0), scale(self.height, from.1, to.1).clamp(1, to.1));
        let left = scale(self.left, from.0, to.0).min(to.0 - width);
        let top = scale(self.top, from.1, to.1).min(to.1 - height);
        Self { top, left, height, width }
    }
}

/// The size `Resize(size)` gives a `width` x `height` image: the shorter side `size`, the longer one scaled and
/// truncated (torchvision's `_compute_resized_output_size`), as (height, width).
fn shorter_side_to(size: usize, width: usize, height: usize) -> (usize, usize) {
    let longer = |long: usize, short: usize| ((size * long) as f64 / short as f64) as usize;
    if width <= height { (longer(height, width), size) } else { (size, longer(width, height)) }
}

/// How the eval variant fits an image into the square input (open_clip's `resize_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resize {
    /// The shorter side to `size`, then the centre `size` x `size` (open_clip's default, `"shortest"`).
    Shortest,
    /// The whole image to `size` x `size`, the aspect ratio not kept (`"squash"`).
    Squash,
}

impl Resize {
    /// ViCLIP's (and UMT's) test transform, `Resize((size, size))`: the same geometry as the training crops, which
    /// take nearly the whole frame.
    pub const VICLIP: Self = Self::Squash;
    /// CLIP's, open_clip's default.
    pub const CLIP: Self = Self::Shortest;
}

/// One image to a `[3, size, size]` model input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipTransform {
    pub size: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// The eval variant's resize.
    pub resize: Resize,
}

impl ClipTransform {
    /// `size` x `size` with CLIP's mean and std, the eval variant resizing the shorter side and cropping.
    pub fn new(size: usize) -> Self {
        Self { size, mean: CLIP_MEAN, std: CLIP_STD, resize: Resize::Shortest }
    }

    /// The same with `resize` for the eval variant.
    pub fn with_resize(self, resize: Resize) -> Self {
        Self { resize, ..self }
    }

    /// Floats of one image: `3 * size * size`.
    pub fn image_len(&self) -> usize {
        3 * self.size * self.size
    }

    /// The eval variant into `out` (`image_len()` floats).
    pub fn eval(&self, image: &RgbImage, out: &mut [f32]) {
        let (height, width) = match self.resize {
            Resize::Shortest => shorter_side_to(self.size, image.width, image.height),
            Resize::Squash => (self.size, self.size),
        };
        // torchvision's CenterCrop: int(round((resized - size) / 2.0)), Python rounding half to even.
        let offset = |resized: usize| ((resized - self.size) as f64 / 2.0).round_ties_even() as usize;
        let window = Window {
            crop: [0, 0, image.height, image.width],
            resized: [height, width],
            keep: [offset(height), offset(width), self.size, self.size],
        };
        self.resample(image, window, false, out);
    }

    /// The train variant into `out`: `crop` resized to `size` x `size`, mirrored when `flip`.
    pub fn train(&self, image: &RgbImage, crop: CropBox, flip: bool, out: &mut [f32]) {
        let window = Window {
            crop: [crop.top, crop.left, crop.height, crop.width],
            resized: [self.size, self.size],
            keep: [0, 0, self.size, self.size],
        };
        self.resample(image, window, flip, out);
    }

    fn resample(&self, image: &RgbImage, window: Window, flip: bool, out: &mut [f32]) {
        let (mean, std) = (self.mean, self.std);
        resample(image, window, flip, |c, v| (v - mean[c]) / std[c], out);
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn resize_keeps_the_aspect_ratio_like_torchvision() {
        assert_eq!(shorter_side_to(224, 320, 240), (224, 298));
        assert_eq!(shorter_side_to(224, 240, 320), (298, 224));
        assert_eq!(shorter_side_to(112, 112, 112), (112, 112));
        assert_eq!(shorter_side_to(56, 17, 1000), (3294, 56));
    }

    #[test]
    fn eval_normalises_a_flat_image() {
        let transform = ClipTransform::new(8);
        let image = RgbImage { width: 30, height: 20, pixels: vec![255; 30 * 20 * 3] };
        let mut out = vec![0f32; transform.image_len()];
        transform.eval(&image, &mut out);
        for c in 0..3 {
            let expected = (1.0 - CLIP_MEAN[c]) / CLIP_STD[c];
            assert!(out[c * 64..(c + 1) * 64].iter().all(|v| (v - expected).abs() < 1e-4));
        }
    }

    #[test]
    fn random_crops_follow_the_scale_and_ratio_ranges() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut fallbacks = 0;
        for (width, height) in [(320, 240), (100, 100), (1000, 90), (64, 480)] {
            for _ in 0..500 {
                let crop = CropBox::random(width, height, &mut rng);
                assert!(crop.left + crop.width <= width && crop.top + crop.height <= height, "{crop:?}");
                let area = (crop.width * crop.height) as f64 / (width * height) as f64;
                let ratio = crop.width as f64 / crop.height as f64;
                if area < TRAIN_CROP_SCALE.0 - 0.03 || !(0.75 - 0.03..=4.0 / 3.0 + 0.03).contains(&ratio) {
                    // Only the fallback (extreme aspect images) may leave the ranges; it keeps an allowed ratio.
                    fallbacks += 1;
                    assert!(width * 3 < height * 2 || height * 3 < width * 2, "{width}x{height}: {crop:?}");
                }
            }
        }
        assert!(fallbacks > 0, "the 1000x90 image needs the fallback");
    }

    #[test]
    fn a_box_rescales_inside_a_frame_of_another_size() {
        let crop = CropBox { top: 10, left: 20, height: 200, width: 300 };
        assert_eq!(crop.rescaled((320, 240), (320, 240)), crop);
        let half = crop.rescaled((320, 240), (160, 120));
        assert_eq!(half, CropBox { top: 5, left: 10, height: 100, width: 150 });
    }
}
