//! Resampling a rectangle of an RGB image to a `size` x `size` square of normalised floats, in one separable
//! bilinear pass (a triangle filter widened to the scale when shrinking, as PIL's antialiased bilinear does, so a
//! large frame shrunk to 224 does not alias), with an optional horizontal flip.

/// A decoded image: row-major RGB, 3 bytes a pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Per-channel normalisation of 0..1 pixel values: `(v - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalise {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// A rectangle of source pixels, in pixel units (fractional edges allowed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

/// The source pixels and weights that make one output pixel along one axis.
#[derive(Debug, Clone, PartialEq)]
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// Taps of `out` output pixels covering `[start, start + len)` of an axis of `limit` source pixels.
fn taps(start: f32, len: f32, limit: usize, out: usize) -> Vec<Taps> {
    let scale = len / out as f32;
    let support = scale.max(1.0);
    let last = limit.saturating_sub(1);
    (0..out)
        .map(|i| {
            let center = start + (i as f32 + 0.5) * scale;
            let lo = ((center - support).floor().max(0.0) as usize).min(last);
            let hi = ((center + support).ceil().max(0.0) as usize).clamp(lo + 1, limit.max(lo + 1));
            let mut weights: Vec<f32> =
                (lo..hi).map(|j| (1.0 - ((j as f32 + 0.5 - center) / support).abs()).max(0.0)).collect();
            let sum: f32 = weights.iter().sum();
            if sum > 0.0 {
                weights.iter_mut().for_each(|w| *w /= sum);
                Taps { first: lo, weights }
            } else {
                // The centre lies outside the image (a region past an edge): repeat the nearest pixel.
                let nearest = (center.max(0.0) as usize).min(last);
                Taps { first: nearest, weights: vec![1.0] }
            }
        })
        .collect()
}

/// Resamples `region` of `image` to `size` x `size`, flipped left-right when `flip`, and writes `(v / 255 -
/// mean[c]) / std[c]` planar into `out` (`[3, size, size]`, which must hold `3 * size * size` floats).
pub fn resize_normalise(
    image: &RgbImage,
    region: Region,
    size: usize,
    flip: bool,
    normalise: Normalise,
    out: &mut [f32],
) {
    let RgbImage { width, height, ref pixels } = *image;
    let Normalise { mean, std } = normalise;
    debug_assert_eq!(pixels.len(), width * height * 3);
    debug_assert_eq!(out.len(), 3 * size * size);
    let mut columns = taps(region.left, region.width, width, size);
    if flip {
        columns.reverse();
    }
    let rows = taps(region.top, region.height, height, size);
    let row_lo = rows.iter().map(|t| t.first).min().unwrap_or(0);
    let row_hi = rows.iter().map(|t| t.first + t.weights.len()).max().unwrap_or(0);

    // Horizontal pass over the source rows that the vertical pass needs: [row, x, channel].
    let mut horizontal = vec![0f32; (row_hi - row_lo) * size * 3];
    for (r, y) in (row_lo..row_hi).enumerate() {
        let source = &pixels[y * width * 3..(y + 1) * width * 3];
        let target = &mut horizontal[r * size * 3..(r + 1) * size * 3];
        for (x, tap) in columns.iter().enumerate() {
            let mut acc = [0f32; 3];
            for (k, w) in tap.weights.iter().enumerate() {
                let p = &source[(tap.first + k) * 3..(tap.first + k) * 3 + 3];
                acc[0] += w * f32::from(p[0]);
                acc[1] += w * f32::from(p[1]);
                acc[2] += w * f32::from(p[2]);
            }
            target[x * 3..x * 3 + 3].copy_from_slice(&acc);
        }
    }

    // Vertical pass, then normalisation, channel-planar.
    let plane = size * size;
    let scale: [f32; 3] = std::array::from_fn(|c| 1.0 / (255.0 * std[c]));
    let offset: [f32; 3] = std::array::from_fn(|c| mean[c] / std[c]);
    for (y, tap) in rows.iter().enumerate() {
        for x in 0..size {
            let mut acc = [0f32; 3];
            for (k, w) in tap.weights.iter().enumerate() {
                let at = ((tap.first + k - row_lo) * size + x) * 3;
                acc[0] += w * horizontal[at];
                acc[1] += w * horizontal[at + 1];
                acc[2] += w * horizontal[at + 2];
            }
            for c in 0..3 {
                out[c * plane + y * size + x] = acc[c] * scale[c] - offset[c];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean 0 and std 1/255: the output is in pixel units.
    const PIXEL_UNITS: Normalise = Normalise { mean: [0.0; 3], std: [1.0 / 255.0; 3] };

    fn resize(pixels: &[u8], width: usize, height: usize, region: Region, size: usize, flip: bool) -> Vec<f32> {
        let mut out = vec![0f32; 3 * size * size];
        let image = RgbImage { width, height, pixels: pixels.to_vec() };
        resize_normalise(&image, region, size, flip, PIXEL_UNITS, &mut out);
        out
    }

    fn whole(width: usize, height: usize) -> Region {
        Region { left: 0.0, top: 0.0, width: width as f32, height: height as f32 }
    }

    /// A 4x4 image whose red is 10 * x + y, green 100, blue 200 - x.
    fn ramp() -> Vec<u8> {
        (0..4).flat_map(|y| (0..4).flat_map(move |x| [10 * x + y, 100, 200 - x])).collect()
    }

    #[test]
    fn same_size_is_the_identity_and_flip_mirrors() {
        let out = resize(&ramp(), 4, 4, whole(4, 4), 4, false);
        for y in 0..4 {
            for x in 0..4 {
                assert!((out[y * 4 + x] - (10 * x + y) as f32).abs() < 1e-4);
                assert!((out[16 + y * 4 + x] - 100.0).abs() < 1e-4);
                assert!((out[32 + y * 4 + x] - (200 - x) as f32).abs() < 1e-4);
            }
        }
        let flipped = resize(&ramp(), 4, 4, whole(4, 4), 4, true);
        for y in 0..4 {
            for x in 0..4 {
                assert!((flipped[y * 4 + x] - out[y * 4 + 3 - x]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn shrinking_averages_and_keeps_constants() {
        let out = resize(&ramp(), 4, 4, whole(4, 4), 1, false);
        let mean_red = (0..4).flat_map(|y| (0..4).map(move |x| 10 * x + y)).sum::<usize>() as f32 / 16.0;
        assert!((out[0] - mean_red).abs() < 1e-3, "{} vs {mean_red}", out[0]);
        assert!((out[1] - 100.0).abs() < 1e-4);

        let flat = vec![77u8; 64 * 48 * 3];
        let out = resize(&flat, 64, 48, Region { left: 5.5, top: 3.0, width: 40.0, height: 33.3 }, 7, true);
        assert!(out.iter().all(|v| (v - 77.0).abs() < 1e-3));
    }

    #[test]
    fn a_sub_region_reads_only_its_pixels() {
        // Left half 0, right half 255: the right half's region is all 255.
        let pixels: Vec<u8> = (0..8).flat_map(|_| (0..8).flat_map(|x| [if x < 4 { 0 } else { 255 }; 3])).collect();
        let out = resize(&pixels, 8, 8, Region { left: 4.0, top: 0.0, width: 4.0, height: 8.0 }, 4, false);
        assert!(out.iter().all(|v| (v - 255.0).abs() < 1e-3), "{out:?}");
    }

    #[test]
    fn normalises_with_mean_and_std() {
        let image = RgbImage { width: 2, height: 2, pixels: vec![255u8; 2 * 2 * 3] };
        let mut out = vec![0f32; 3 * 4];
        let normalise = Normalise { mean: [0.5, 0.25, 0.0], std: [0.5, 0.25, 2.0] };
        resize_normalise(&image, whole(2, 2), 2, false, normalise, &mut out);
        assert!(out[..4].iter().all(|v| (v - 1.0).abs() < 1e-6));
        assert!(out[4..8].iter().all(|v| (v - 3.0).abs() < 1e-6));
        assert!(out[8..].iter().all(|v| (v - 0.5).abs() < 1e-6));
    }

    #[test]
    fn taps_stay_inside_the_image() {
        for (start, len, limit, out) in [(0.0, 3.0, 3, 224), (0.0, 1000.0, 1000, 7), (999.0, 1.0, 1000, 3)] {
            for tap in taps(start, len, limit, out) {
                assert!(tap.first + tap.weights.len() <= limit);
                assert!((tap.weights.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
        }
    }
}
