//! The horizontal resize pass on planar rows (a row converted in full to separate B, G and R bytes): the taps per
//! output pixel, laid out for the SIMD kernel as byte shuffles — each group of 4 output pixels reads a 16-byte
//! window of the plane, and a shuffle puts each pixel's two source bytes side by side as 16-bit lanes for a
//! multiply-add with its two weights — and the portable pass.

/// Bytes after each plane of a planar row: the SIMD kernels read windows of up to 64 bytes that may start at the
/// last pixel.
pub(crate) const PLANAR_PAD: usize = 64;

/// Output pixels per 16-byte window.
pub(crate) const GROUP: usize = 4;

/// Output pixels per 64-byte window (the AVX-512 VBMI kernel's byte permutes).
pub(crate) const WIDE_GROUP: usize = 16;

use crate::scene::resize::Tap;

/// A shuffle index that yields a zero byte.
const ZERO: u8 = 0x80;

/// The taps of a row's output pixels, and their SIMD layout per group of [`GROUP`] output pixels.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanarTaps {
    /// Per output pixel: its two source columns (the same one when the second weight is 0) and their weights.
    taps: Vec<Tap>,
    /// Per full group: the column its 16-byte window starts at.
    pub bases: Vec<u32>,
    /// Per full group: the shuffle that turns the window into `(first, second)` 16-bit pairs, one per pixel.
    pub controls: Vec<[u8; 16]>,
    /// Per full group: the pixels' weights as 16-bit pairs `(w0, w1)`.
    pub weights: Vec<[i16; 8]>,
    /// Every full group's source bytes fit its window (downscales up to about 5x; not wider ones), and the windows
    /// start at ascending columns.
    windowed: bool,
    /// The same per group of [`WIDE_GROUP`] output pixels and a 64-byte window: bases, byte permutes into
    /// `(first, 0, second, 0)` per pixel (the zero bytes are masked), and the weight pairs.
    pub wide_bases: Vec<u32>,
    pub wide_controls: Vec<[u8; 64]>,
    pub wide_weights: Vec<[i16; 32]>,
    /// Every full wide group fits its window (downscales up to about 3.9x), windows at ascending columns.
    wide_windowed: bool,
}

impl PlanarTaps {
    /// The layout of a row's taps (source columns ascending).
    pub fn new(taps: &[Tap]) -> Self {
        // A tap without a second weight reads its first column twice (times 0), inside its window.
        let taps: Vec<Tap> =
            taps.iter().map(|&t| Tap { second: if t.w1 == 0 { t.first } else { t.second }, ..t }).collect();
        let mut layout = Self { windowed: true, ..Self::default() };
        for group in taps.chunks_exact(GROUP) {
            let base = group[0].first;
            let (mut control, mut weights) = ([ZERO; 16], [0i16; 8]);
            for (j, tap) in group.iter().enumerate() {
                let (a, b) = (tap.first.wrapping_sub(base), tap.second.wrapping_sub(base));
                if a > 15 || b > 15 {
                    layout.windowed = false;
                }
                (control[4 * j], control[4 * j + 2]) = (a as u8 & 15, b as u8 & 15);
                (weights[2 * j], weights[2 * j + 1]) = (tap.w0 as i16, tap.w1 as i16);
            }
            if layout.bases.last().is_some_and(|&last| last as usize > base) {
                layout.windowed = false;
            }
            layout.bases.push(base as u32);
            layout.controls.push(control);
            layout.weights.push(weights);
        }
        layout.wide_windowed = true;
        for group in taps.chunks_exact(WIDE_GROUP) {
            let base = group[0].first;
            let (mut control, mut weights) = ([0u8; 64], [0i16; 32]);
            for (j, tap) in group.iter().enumerate() {
                let (a, b) = (tap.first.wrapping_sub(base), tap.second.wrapping_sub(base));
                if a > 63 || b > 63 {
                    layout.wide_windowed = false;
                }
                (control[4 * j], control[4 * j + 2]) = (a as u8 & 63, b as u8 & 63);
                (weights[2 * j], weights[2 * j + 1]) = (tap.w0 as i16, tap.w1 as i16);
            }
            if layout.wide_bases.last().is_some_and(|&last| last as usize > base) {
                layout.wide_windowed = false;
            }
            layout.wide_bases.push(base as u32);
            layout.wide_controls.push(control);
            layout.wide_weights.push(weights);
        }
        layout.taps = taps;
        layout
    }

    /// Whether the 64-byte layout holds (see [`Self::wide_windowed`]'s field).
    pub fn wide_windowed(&self) -> bool {
        self.wide_windowed && !self.taps.is_empty()
    }

    /// Output pixels per row.
    pub fn len(&self) -> usize {
        self.taps.len()
    }

    /// Whether the SIMD layout holds (see [`Self::windowed`]'s field).
    pub fn windowed(&self) -> bool {
        self.windowed && !self.taps.is_empty()
    }
}

/// The horizontal pass of output pixels `from..` of a planar row (planes `stride` bytes apart) into planar
/// 16-bit values (`out`: blue, then green, then red, `taps.len()` each): `(p * w0 + q * w1) >> 4`, as the packed
/// pass computes it.
pub(crate) fn horizontal_planar_portable(
    planes: &[u8],
    stride: usize,
    taps: &PlanarTaps,
    from: usize,
    out: &mut [i16],
) {
    let n = taps.len();
    for channel in 0..3 {
        let plane = &planes[channel * stride..];
        for (i, tap) in taps.taps.iter().enumerate().skip(from) {
            let sum = i32::from(plane[tap.first]) * tap.w0 + i32::from(plane[tap.second]) * tap.w1;
            out[channel * n + i] = (sum >> 4) as i16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_lay_out_windows_shuffles_and_weights() {
        let tap = |first, w0, w1| Tap { first, second: first + 1, w0, w1 };
        let taps = PlanarTaps::new(&[tap(0, 1024, 1024), tap(2, 2048, 0), tap(5, 1, 2047), tap(7, 3, 2045)]);
        assert!(taps.windowed());
        assert_eq!(taps.bases, vec![0]);
        assert_eq!(taps.controls[0], [0, ZERO, 1, ZERO, 2, ZERO, 2, ZERO, 5, ZERO, 6, ZERO, 7, ZERO, 8, ZERO]);
        assert_eq!(taps.weights[0], [1024, 1024, 2048, 0, 1, 2047, 3, 2045]);
        // A 6x downscale spreads 4 pixels over more than 16 bytes.
        let wide = PlanarTaps::new(&(0..8).map(|i| tap(6 * i, 1024, 1024)).collect::<Vec<_>>());
        assert!(!wide.windowed());
    }
}
