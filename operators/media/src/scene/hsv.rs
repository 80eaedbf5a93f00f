//! BGR24 -> HSV exactly like OpenCV's 8-bit `cv2.cvtColor(img, cv2.COLOR_BGR2HSV)` (H in 0..180, S and V in
//! 0..256), with OpenCV's fixed-point division tables, so every value is bit-exact. Rows are converted in blocks
//! of lanes that the compiler vectorises: there the table entries are recomputed per lane with an `f32` division
//! that reproduces every entry exactly (tested), since a table lookup would keep the loop scalar.

use crate::scene::simd;

/// Fixed-point shift of OpenCV's `RGB2HSV_b`.
const HSV_SHIFT: u32 = 12;
const HALF: i32 = 1 << (HSV_SHIFT - 1);

/// `round_half_even(num / den)` for positive integers: what OpenCV's `saturate_cast<int>(double)` gives for these
/// table entries (the quotients are far from the double precision limit, so the exact rational rounds the same).
const fn div_round_even(num: i64, den: i64) -> i32 {
    let q = num / den;
    let r = num % den;
    let up = 2 * r > den || (2 * r == den && q % 2 == 1);
    (if up { q + 1 } else { q }) as i32
}

/// `sdiv_table[i] = round((255 << 12) / i)`.
const SDIV: [i32; 256] = {
    let mut table = [0i32; 256];
    let mut i = 1;
    while i < 256 {
        table[i] = div_round_even(255 << HSV_SHIFT, i as i64);
        i += 1;
    }
    table
};

/// `hdiv_table180[i] = round((180 << 12) / (6 i))`.
const HDIV180: [i32; 256] = {
    let mut table = [0i32; 256];
    let mut i = 1;
    while i < 256 {
        table[i] = div_round_even(180 << HSV_SHIFT, 6 * i as i64);
        i += 1;
    }
    table
};

/// HSV of one BGR pixel, as OpenCV computes it.
#[inline(always)]
pub fn bgr_pixel_to_hsv(b: u8, g: u8, r: u8) -> (u8, u8, u8) {
    let (b, g, r) = (i32::from(b), i32::from(g), i32::from(r));
    let v = b.max(g).max(r);
    let diff = v - b.min(g).min(r);
    let s = (diff * SDIV[v as usize] + HALF) >> HSV_SHIFT;
    let h = if v == r {
        g - b
    } else if v == g {
        b - r + 2 * diff
    } else {
        r - g + 4 * diff
    };
    let mut h = (h * HDIV180[diff as usize] + HALF) >> HSV_SHIFT;
    if h < 0 {
        h += 180;
    }
    (h as u8, s as u8, v as u8)
}

/// Numerators of the division tables: `255 << 12` and `(180 << 12) / 6`.
const SDIV_NUM: f32 = (255 << HSV_SHIFT) as f32;
const HDIV_NUM: f32 = (30 << HSV_SHIFT) as f32;

/// `round_half_even(num / den)` for `1 <= den <= 255` and `num < 2^22`: the correctly rounded `f32` quotient,
/// rounded to an integer by adding `1.5 * 2^23` (where the `f32` spacing is 1, ties to even). Equals
/// `SDIV[den]` / `HDIV180[den]` for every `den` (tested); `den = 0` gives garbage that the callers multiply by 0.
#[inline(always)]
fn div_round_lane(num: f32, den: i32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    (num / den as f32 + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

/// [`bgr_pixel_to_hsv`] with the table lookups replaced by [`div_round_lane`], branch-free after if-conversion.
#[inline(always)]
fn hsv_lane(b: i32, g: i32, r: i32) -> (u8, u8, u8) {
    let v = b.max(g).max(r);
    let diff = v - b.min(g).min(r);
    let s = (diff * div_round_lane(SDIV_NUM, v) + HALF) >> HSV_SHIFT;
    let h = if v == r {
        g - b
    } else if v == g {
        b - r + 2 * diff
    } else {
        r - g + 4 * diff
    };
    let h = (h * div_round_lane(HDIV_NUM, diff) + HALF) >> HSV_SHIFT;
    let h = if h < 0 { h + 180 } else { h };
    (h as u8, s as u8, v as u8)
}

/// Pixels per vectorised block of [`planar_bgr_to_hsv`].
const LANES: usize = 16;

/// Converts planar B, G and R bytes into the three HSV planes (all as long as `hue`), with the widest SIMD the CPU
/// has.
pub fn planar_bgr_to_hsv(bgr: [&[u8]; 3], hue: &mut [u8], sat: &mut [u8], val: &mut [u8]) {
    simd::planar_bgr_to_hsv(bgr, hue, sat, val);
}

/// [`planar_bgr_to_hsv`] in portable code (SSE2 on x86-64); the SIMD dispatch compiles this same body for wider
/// vectors.
#[inline(always)]
pub(crate) fn planar_bgr_to_hsv_portable(bgr: [&[u8]; 3], hue: &mut [u8], sat: &mut [u8], val: &mut [u8]) {
    let n = hue.len();
    let body = n - n % LANES;
    let [b, g, r] = bgr.map(|plane| &plane[..n]);
    let inputs = b[..body].chunks_exact(LANES).zip(g.chunks_exact(LANES)).zip(r.chunks_exact(LANES));
    let outputs = hue.chunks_exact_mut(LANES).zip(sat.chunks_exact_mut(LANES)).zip(val.chunks_exact_mut(LANES));
    for (((b, g), r), ((h, s), v)) in inputs.zip(outputs) {
        for i in 0..LANES {
            (h[i], s[i], v[i]) = hsv_lane(i32::from(b[i]), i32::from(g[i]), i32::from(r[i]));
        }
    }
    let tail = hue[body..].iter_mut().zip(sat[body..].iter_mut()).zip(val[body..].iter_mut());
    for (i, ((h, s), v)) in (body..n).zip(tail) {
        (*h, *s, *v) = bgr_pixel_to_hsv(b[i], g[i], r[i]);
    }
}

/// Converts packed BGR24 pixels (`3 * hue.len()` bytes) into the three planes (all as long as `hue`).
pub fn bgr_row_to_hsv(bgr: &[u8], hue: &mut [u8], sat: &mut [u8], val: &mut [u8]) {
    const BLOCK: usize = 4 * LANES;
    let mut planes = [[0u8; BLOCK]; 3];
    let outputs = hue.chunks_mut(BLOCK).zip(sat.chunks_mut(BLOCK)).zip(val.chunks_mut(BLOCK));
    for (px, ((h, s), v)) in bgr.chunks(3 * BLOCK).zip(outputs) {
        for (i, p) in px.chunks_exact(3).enumerate() {
            for c in 0..3 {
                planes[c][i] = p[c];
            }
        }
        let [b, g, r] = &planes;
        planar_bgr_to_hsv([b, g, r], h, s, v);
    }
}

/// A planar 8-bit HSV image (the three planes `cv2.split` gives).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HsvFrame {
    pub width: usize,
    pub height: usize,
    pub hue: Vec<u8>,
    pub sat: Vec<u8>,
    pub val: Vec<u8>,
}

impl HsvFrame {
    /// Converts a packed BGR24 image (`width * height * 3` bytes, no row padding).
    pub fn from_bgr(bgr: &[u8], width: usize, height: usize) -> Self {
        let mut frame = Self::default();
        frame.set_from_bgr(bgr, width, height);
        frame
    }

    /// Like [`Self::from_bgr`], reusing this frame's buffers.
    pub fn set_from_bgr(&mut self, bgr: &[u8], width: usize, height: usize) {
        debug_assert_eq!(bgr.len(), width * height * 3);
        self.resize(width, height);
        bgr_row_to_hsv(bgr, &mut self.hue, &mut self.sat, &mut self.val);
    }

    /// Sizes the planes for a `width`x`height` image (contents unspecified until every row is set).
    pub fn resize(&mut self, width: usize, height: usize) {
        let n = width * height;
        self.width = width;
        self.height = height;
        self.hue.resize(n, 0);
        self.sat.resize(n, 0);
        self.val.resize(n, 0);
    }

    /// Converts row `y` from planar BGR: `width` blue bytes, then `width` green, then `width` red.
    pub fn set_row_from_planar(&mut self, y: usize, bgr: &[u8]) {
        let w = self.width;
        let row = y * w..(y + 1) * w;
        let planes = [&bgr[..w], &bgr[w..2 * w], &bgr[2 * w..3 * w]];
        planar_bgr_to_hsv(planes, &mut self.hue[row.clone()], &mut self.sat[row.clone()], &mut self.val[row]);
    }

    pub fn pixels(&self) -> usize {
        self.width * self.height
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_opencv_doubles() {
        for i in 1..256usize {
            let s = ((255i64 << 12) as f64 / i as f64).round_ties_even() as i32;
            let h = ((180i64 << 12) as f64 / (6.0 * i as f64)).round_ties_even() as i32;
            assert_eq!((SDIV[i], HDIV180[i]), (s, h), "entry {i}");
        }
    }

    #[test]
    fn lane_divisions_reproduce_the_tables() {
        for den in 1..256 {
            assert_eq!(div_round_lane(SDIV_NUM, den), SDIV[den as usize], "sdiv {den}");
            assert_eq!(div_round_lane(HDIV_NUM, den), HDIV180[den as usize], "hdiv {den}");
        }
    }

    #[test]
    fn row_conversion_equals_the_table_version_for_every_colour() {
        // Every BGR colour in rows of 4099 pixels (a multiple of no block size, so tails are covered too).
        let bgr: Vec<u8> = (0u32..1 << 24).flat_map(|c| [c as u8, (c >> 8) as u8, (c >> 16) as u8]).collect();
        let (mut h, mut s, mut v) = ([0u8; 4099], [0u8; 4099], [0u8; 4099]);
        for row in bgr.chunks(3 * 4099) {
            let n = row.len() / 3;
            bgr_row_to_hsv(row, &mut h[..n], &mut s[..n], &mut v[..n]);
            for (i, p) in row.chunks_exact(3).enumerate() {
                assert_eq!((h[i], s[i], v[i]), bgr_pixel_to_hsv(p[0], p[1], p[2]), "{p:?}");
            }
        }
    }

    #[test]
    fn known_colours() {
        // Values from cv2.cvtColor(np.uint8([[[b, g, r]]]), cv2.COLOR_BGR2HSV) (OpenCV 5.0).
        assert_eq!(bgr_pixel_to_hsv(0, 0, 255), (0, 255, 255));
        assert_eq!(bgr_pixel_to_hsv(0, 255, 0), (60, 255, 255));
        assert_eq!(bgr_pixel_to_hsv(255, 0, 0), (120, 255, 255));
        assert_eq!(bgr_pixel_to_hsv(0, 0, 0), (0, 0, 0));
        assert_eq!(bgr_pixel_to_hsv(128, 128, 128), (0, 0, 128));
        assert_eq!(bgr_pixel_to_hsv(255, 0, 255), (150, 255, 255));
        assert_eq!(bgr_pixel_to_hsv(10, 20, 30), (15, 170, 30));
    }
}
