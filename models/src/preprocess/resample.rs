//! Antialiased bicubic resampling as PyTorch computes it (`interpolate(..., mode="bicubic", antialias=True,
//! align_corners=False)`, which torchvision's `Resize`/`RandomResizedCrop` call on tensors): a separable pass per
//! axis, Keys' cubic with a = -0.5, widened by the scale when shrinking; the width first, then the height; an axis
//! whose size does not change is copied.

use super::image::RgbImage;

/// The source pixels and normalised weights of one output pixel along one axis.
#[derive(Debug, Clone, PartialEq)]
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// Keys' cubic convolution kernel with a = -0.5 (PyTorch's antialiasing bicubic filter).
fn cubic(x: f32) -> f32 {
    const A: f32 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A
    } else {
        0.0
    }
}

/// Taps of the `output` pixels of an axis of `input` pixels, PyTorch's `_compute_weights_aa`.
fn taps(input: usize, output: usize) -> Vec<Taps> {
    let scale = input as f32 / output as f32;
    let (support, invscale) = if scale >= 1.0 { (2.0 * scale, 1.0 / scale) } else { (2.0, 1.0) };
    (0..output)
        .map(|i| {
            let center = scale * (i as f32 + 0.5);
            // PyTorch truncates towards zero here (`static_cast<int64_t>`), then clamps.
            let first = ((center - support + 0.5) as i64).max(0) as usize;
            let end = ((center + support + 0.5) as i64).clamp(0, input as i64) as usize;
            let mut weights: Vec<f32> =
                (first..end.max(first)).map(|j| cubic((j as f32 - center + 0.5) * invscale)).collect();
            let total: f32 = weights.iter().sum();
            if total != 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            }
            Taps { first, weights }
        })
        .collect()
}

/// A `size` x `size` (or any) window of the resampled image: rows `top..top + height` and columns `left..left +
/// width` of `image` cropped to `crop` and resized to `resized_height` x `resized_width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The source rectangle (pixels): top, left, height, width.
    pub crop: [usize; 4],
    /// The size the rectangle is resized to (height, width).
    pub resized: [usize; 2],
    /// The part of the resized rectangle that is kept: top, left, height, width.
    pub keep: [usize; 4],
}

/// Resamples `window` of `image` and writes it planar `[3, keep height, keep width]` into `out` as 0..1 floats
/// mapped through `map(channel, value)`; mirrored left-right when `flip`.
pub fn resample(image: &RgbImage, window: Window, flip: bool, map: impl Fn(usize, f32) -> f32, out: &mut [f32]) {
    let [crop_top, crop_left, crop_h, crop_w] = window.crop;
    let [resized_h, resized_w] = window.resized;
    let [keep_top, keep_left, keep_h, keep_w] = window.keep;
    debug_assert!(crop_top + crop_h <= image.height && crop_left + crop_w <= image.width);
    debug_assert!(keep_top + keep_h <= resized_h && keep_left + keep_w <= resized_w);
    debug_assert_eq!(out.len(), 3 * keep_h * keep_w);
    let axis = |input: usize, output: usize, keep: usize, skip: usize| -> Vec<Taps> {
        if input == output {
            (skip..skip + keep).map(|i| Taps { first: i, weights: vec![1.0] }).collect()
        } else {
            taps(input, output).into_iter().skip(skip).take(keep).collect()
        }
    };
    let mut columns = axis(crop_w, resized_w, keep_w, keep_left);
    if flip {
        columns.reverse();
    }
    let rows = axis(crop_h, resized_h, keep_h, keep_top);
    let row_lo = rows.iter().map(|t| t.first).min().unwrap_or(0);
    let row_hi = rows.iter().map(|t| t.first + t.weights.len()).max().unwrap_or(0);

    // The width pass over the source rows that the height pass reads: [row, x, channel], in 0..255 (the weights
    // are linear, so the scale to 0..1 is applied once, at the end).
    let span = keep_w * 3;
    let mut horizontal = vec![0f32; (row_hi - row_lo) * span];
    let mut source = vec![0f32; crop_w * 3];
    for (r, y) in (row_lo..row_hi).enumerate() {
        let start = ((crop_top + y) * image.width + crop_left) * 3;
        for (to, &from) in source.iter_mut().zip(&image.pixels[start..start + crop_w * 3]) {
            *to = f32::from(from);
        }
        let target = &mut horizontal[r * span..(r + 1) * span];
        for (pixel, tap) in target.chunks_exact_mut(3).zip(&columns) {
            let read = &source[tap.first * 3..(tap.first + tap.weights.len()) * 3];
            let mut acc = [0f32; 3];
            for (w, p) in tap.weights.iter().zip(read.chunks_exact(3)) {
                acc[0] += w * p[0];
                acc[1] += w * p[1];
                acc[2] += w * p[2];
            }
            pixel.copy_from_slice(&acc);
        }
    }

    // The height pass, one output row at a time over contiguous rows of the width pass, then `map`,
    // channel-planar.
    let plane = keep_h * keep_w;
    let mut row = vec![0f32; span];
    for (y, tap) in rows.iter().enumerate() {
        row.fill(0.0);
        for (k, w) in tap.weights.iter().enumerate() {
            let from = (tap.first + k - row_lo) * span;
            for (acc, v) in row.iter_mut().zip(&horizontal[from..from + span]) {
                *acc += w * v;
            }
        }
        for (x, pixel) in row.chunks_exact(3).enumerate() {
            for (c, &value) in pixel.iter().enumerate() {
                out[c * plane + y * keep_w + x] = map(c, value / 255.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(width: usize, height: usize, pixel: impl Fn(usize, usize) -> [u8; 3]) -> RgbImage {
        let pixel = &pixel;
        let pixels = (0..height).flat_map(|y| (0..width).flat_map(move |x| pixel(x, y))).collect();
        RgbImage { width, height, pixels }
    }

    fn whole(image: &RgbImage, size: [usize; 2]) -> Window {
        Window { crop: [0, 0, image.height, image.width], resized: size, keep: [0, 0, size[0], size[1]] }
    }

    fn run(image: &RgbImage, window: Window, flip: bool) -> Vec<f32> {
        let mut out = vec![0f32; 3 * window.keep[2] * window.keep[3]];
        resample(image, window, flip, |_, v| v * 255.0, &mut out);
        out
    }

    #[test]
    fn same_size_is_the_identity_and_flip_mirrors() {
        let ramp = image(4, 3, |x, y| [(10 * x + y) as u8, 100, (200 - x) as u8]);
        let out = run(&ramp, whole(&ramp, [3, 4]), false);
        let flipped = run(&ramp, whole(&ramp, [3, 4]), true);
        for y in 0..3 {
            for x in 0..4 {
                assert!((out[y * 4 + x] - (10 * x + y) as f32).abs() < 1e-3);
                assert!((out[12 + y * 4 + x] - 100.0).abs() < 1e-3);
                assert!((flipped[y * 4 + x] - out[y * 4 + 3 - x]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn constants_stay_constant_and_weights_sum_to_one() {
        let flat = image(37, 23, |_, _| [77, 0, 255]);
        for size in [[5, 9], [23, 37], [50, 80]] {
            let out = run(&flat, whole(&flat, size), false);
            let plane = size[0] * size[1];
            assert!(out[..plane].iter().all(|v| (v - 77.0).abs() < 1e-3), "{size:?}");
            assert!(out[2 * plane..].iter().all(|v| (v - 255.0).abs() < 1e-2), "{size:?}");
        }
        for (input, output) in [(300, 224), (224, 300), (7, 1), (1, 5), (1000, 3)] {
            for tap in taps(input, output) {
                assert!(tap.first + tap.weights.len() <= input);
                assert!((tap.weights.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{input}->{output}");
            }
        }
    }

    #[test]
    fn a_window_reads_only_its_crop_and_keeps_its_part() {
        // Left half black, right half white: the right half's crop is all white.
        let halves = image(8, 8, |x, _| [if x < 4 { 0 } else { 255 }; 3]);
        let out = run(&halves, Window { crop: [0, 4, 8, 4], resized: [4, 4], keep: [0, 0, 4, 4] }, false);
        assert!(out.iter().all(|v| (v - 255.0).abs() < 1e-3), "{out:?}");
        // Keeping columns 2..4 of the whole image resized to 4x4 is the right half of that resize.
        let full = run(&halves, whole(&halves, [4, 4]), false);
        let part = run(&halves, Window { crop: [0, 0, 8, 8], resized: [4, 4], keep: [1, 2, 3, 2] }, false);
        for c in 0..3 {
            for y in 0..3 {
                for x in 0..2 {
                    assert_eq!(part[c * 6 + y * 2 + x], full[c * 16 + (y + 1) * 4 + x + 2]);
                }
            }
        }
    }
}
