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

/// The SIMD layout of a row's taps in groups of `BYTES / 4` output pixels, each reading one `BYTES`-byte window
/// of the plane: a byte shuffle (or permute) puts each pixel's two source bytes side by side as 16-bit lanes for a
/// multiply-add with its two weights.
#[derive(Debug, Clone, Default)]
pub(crate) struct Windows<const BYTES: usize, const LANES: usize> {
    /// Per full group: the column its window starts at.
    pub bases: Vec<u32>,
    /// Per full group: the byte indices into the window that make the `(first, second)` 16-bit pairs.
    pub controls: Vec<[u8; BYTES]>,
    /// Per full group: the pixels' weights as 16-bit pairs `(w0, w1)`.
    pub weights: Vec<[i16; LANES]>,
    /// Every full group's source bytes fit its window, and the windows start at ascending columns.
    windowed: bool,
}

impl<const BYTES: usize, const LANES: usize> Windows<BYTES, LANES> {
    /// The layout of `taps`; `high` is the control byte of each lane's high byte (a shuffle's zeroing index, or
    /// anything a masked permute ignores).
    fn new(taps: &[Tap], high: u8) -> Self {
        let mut layout = Self { windowed: true, ..Self::default() };
        for group in taps.chunks_exact(BYTES / 4) {
            let base = group[0].first;
            let (mut control, mut weights) = ([high; BYTES], [0i16; LANES]);
            for (j, tap) in group.iter().enumerate() {
                let (a, b) = (tap.first.wrapping_sub(base), tap.second.wrapping_sub(base));
                if a >= BYTES || b >= BYTES {
                    layout.windowed = false;
                }
                (control[4 * j], control[4 * j + 2]) = ((a % BYTES) as u8, (b % BYTES) as u8);
                (weights[2 * j], weights[2 * j + 1]) = (tap.w0 as i16, tap.w1 as i16);
            }
            if layout.bases.last().is_some_and(|&last| last as usize > base) {
                layout.windowed = false;
            }
            layout.bases.push(base as u32);
            layout.controls.push(control);
            layout.weights.push(weights);
        }
        layout
    }
}

/// The taps of a row's output pixels, and their SIMD layouts.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanarTaps {
    /// Per output pixel: its two source columns (the same one when the second weight is 0) and their weights.
    taps: Vec<Tap>,
    /// Groups of [`GROUP`] pixels in 16-byte windows (`pshufb`; downscales up to about 5x).
    pub narrow: Windows<16, 8>,
    /// Groups of [`WIDE_GROUP`] pixels in 64-byte windows (`vpermb`, high bytes masked; up to about 3.9x).
    pub wide: Windows<64, 32>,
}

impl PlanarTaps {
    /// The layout of a row's taps (source columns ascending).
    pub fn new(taps: &[Tap]) -> Self {
        // A tap without a second weight reads its first column twice (times 0), inside its window.
        let taps: Vec<Tap> =
            taps.iter().map(|&t| Tap { second: if t.w1 == 0 { t.first } else { t.second }, ..t }).collect();
        Self { narrow: Windows::new(&taps, ZERO), wide: Windows::new(&taps, 0), taps }
    }

    /// Output pixels per row.
    pub fn len(&self) -> usize {
        self.taps.len()
    }

    /// Whether the 16-byte layout holds.
    pub fn windowed(&self) -> bool {
        self.narrow.windowed && !self.taps.is_empty()
    }

    /// Whether the 64-byte layout holds.
    pub fn wide_windowed(&self) -> bool {
        self.wide.windowed && !self.taps.is_empty()
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
        assert_eq!(taps.narrow.bases, vec![0]);
        assert_eq!(taps.narrow.controls[0], [0, ZERO, 1, ZERO, 2, ZERO, 2, ZERO, 5, ZERO, 6, ZERO, 7, ZERO, 8, ZERO]);
        assert_eq!(taps.narrow.weights[0], [1024, 1024, 2048, 0, 1, 2047, 3, 2045]);
        // A 6x downscale spreads 4 pixels over more than 16 bytes.
        let wide = PlanarTaps::new(&(0..8).map(|i| tap(6 * i, 1024, 1024)).collect::<Vec<_>>());
        assert!(!wide.windowed());
    }
}
