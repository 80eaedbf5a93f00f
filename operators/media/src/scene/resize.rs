//! Frame downscaling exactly like PySceneDetect 0.7: the auto factor of `compute_downscale_factor`, the target
//! size `round(w / factor)`, and `cv2.resize(..., interpolation=cv2.INTER_LINEAR)` with OpenCV's 8-bit fixed-point
//! arithmetic (11-bit coefficients, its SIMD vertical pass; an exact 2x reduction becomes OpenCV's fast INTER_AREA).
//!
//! The resizer pulls only the source pixels it samples through [`BgrRows`], so a YUV frame never has to be
//! converted to BGR in full.

/// `DEFAULT_MIN_WIDTH` of PySceneDetect's scene manager.
pub const MIN_EFFECTIVE_WIDTH: u32 = 256;

const COEF_BITS: u32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

/// PySceneDetect's `compute_downscale_factor(max(width, height))`: 1 below 256 pixels, else `size / 256`.
pub fn auto_downscale_factor(width: u32, height: u32) -> f64 {
    let size = width.max(height);
    if size < MIN_EFFECTIVE_WIDTH { 1.0 } else { f64::from(size) / f64::from(MIN_EFFECTIVE_WIDTH) }
}

/// The factor for a configured `downscale` (0 = automatic, like PySceneDetect's default).
pub fn downscale_factor(configured: u32, width: u32, height: u32) -> f64 {
    if configured == 0 { auto_downscale_factor(width, height) } else { f64::from(configured) }
}

/// The processing size: `max(1, round(size / factor))` per side (Python's round-half-even), or the source size
/// when `factor <= 1` (PySceneDetect does not resize then).
pub fn downscaled_size(width: usize, height: usize, factor: f64) -> (usize, usize) {
    if factor > 1.0 {
        let side = |n: usize| ((n as f64 / factor).round_ties_even() as usize).max(1);
        (side(width), side(height))
    } else {
        (width, height)
    }
}

/// A source of BGR pixels, read row by row.
pub trait BgrRows {
    /// Writes the BGR bytes of the pixels at columns `cols` of row `y` into `out` (`3 * cols.len()` bytes).
    fn gather(&mut self, y: usize, cols: &[usize], out: &mut [u8]);
}

/// A packed BGR24 image in memory (rows `stride` bytes apart).
#[derive(Debug, Clone, Copy)]
pub struct PackedBgr<'a> {
    pub data: &'a [u8],
    pub stride: usize,
}

impl BgrRows for PackedBgr<'_> {
    fn gather(&mut self, y: usize, cols: &[usize], out: &mut [u8]) {
        let row = &self.data[y * self.stride..];
        if let (Some(&first), Some(&last)) = (cols.first(), cols.last())
            && last + 1 - first == cols.len()
        {
            out.copy_from_slice(&row[3 * first..3 * last + 3]);
            return;
        }
        for (px, &x) in out.chunks_exact_mut(3).zip(cols) {
            px.copy_from_slice(&row[3 * x..3 * x + 3]);
        }
    }
}

/// One output coordinate of the linear filter: source index (into the gathered columns, or a row) and the two
/// fixed-point weights of it and its successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tap {
    first: usize,
    second: usize,
    w0: i32,
    w1: i32,
}

/// OpenCV's per-coordinate linear taps (`resize.cpp`, fixed-point branch) for `src` -> `dst` samples.
fn linear_taps(src: usize, dst: usize) -> Vec<Tap> {
    let inv_scale = dst as f64 / src as f64;
    let scale = 1.0 / inv_scale;
    (0..dst)
        .map(|d| {
            let mut f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut s = f.floor() as i64;
            f -= s as f32;
            if s < 0 {
                f = 0.0;
                s = 0;
            }
            if s + 1 >= src as i64 && s >= src as i64 - 1 {
                f = 0.0;
                s = src as i64 - 1;
            }
            let s = s as usize;
            let w0 = ((1.0 - f) * COEF_SCALE).round_ties_even() as i32;
            let w1 = (f * COEF_SCALE).round_ties_even() as i32;
            Tap { first: s, second: (s + 1).min(src - 1), w0, w1 }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Copy,
    Linear,
    /// `INTER_LINEAR` with both scales exactly 2 runs OpenCV's fast `INTER_AREA` (mean of 2x2, rounded).
    Area2x,
}

/// A reusable `cv2.resize(INTER_LINEAR)` for one source and destination size.
#[derive(Debug, Clone)]
pub struct Resizer {
    src: (usize, usize),
    dst: (usize, usize),
    mode: Mode,
    /// Source columns the filter reads, ascending, each once.
    cols: Vec<usize>,
    /// Horizontal taps per output byte (`dst_w * 3`): offsets into the gathered BGR bytes and weights.
    xbytes: Vec<(u32, u32, i32, i32)>,
    /// Vertical taps, source row numbers.
    ytaps: Vec<Tap>,
    gathered: Vec<u8>,
    /// Horizontally filtered rows (`dst_w * 3` values each) with the source row they came from.
    cache: [(usize, Vec<i32>); 2],
}

impl Resizer {
    /// Resizes `src_w`x`src_h` images to `dst_w`x`dst_h` (all > 0).
    pub fn new(src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> Self {
        let mode = if (src_w, src_h) == (dst_w, dst_h) {
            Mode::Copy
        } else if is_exact_2x(src_w, dst_w) && is_exact_2x(src_h, dst_h) {
            Mode::Area2x
        } else {
            Mode::Linear
        };
        let (cols, xbytes, ytaps) = match mode {
            Mode::Copy => ((0..src_w).collect(), Vec::new(), Vec::new()),
            Mode::Area2x => ((0..2 * dst_w).collect(), Vec::new(), Vec::new()),
            Mode::Linear => {
                let taps = linear_taps(src_w, dst_w);
                let mut cols: Vec<usize> =
                    taps.iter().flat_map(|t| [Some(t.first), (t.w1 != 0).then_some(t.second)]).flatten().collect();
                cols.sort_unstable();
                cols.dedup();
                let index = |c: usize| cols.binary_search(&c).unwrap_or(0);
                let xbytes = taps
                    .iter()
                    .flat_map(|t| {
                        let first = 3 * index(t.first) as u32;
                        let second = if t.w1 != 0 { 3 * index(t.second) as u32 } else { first };
                        (0..3).map(move |c| (first + c, second + c, t.w0, t.w1))
                    })
                    .collect();
                (cols, xbytes, linear_taps(src_h, dst_h))
            }
        };
        Self {
            src: (src_w, src_h),
            dst: (dst_w, dst_h),
            mode,
            gathered: vec![0; cols.len() * 3],
            cols,
            xbytes,
            ytaps,
            cache: [(usize::MAX, vec![0; dst_w * 3]), (usize::MAX, vec![0; dst_w * 3])],
        }
    }

    pub fn src_size(&self) -> (usize, usize) {
        self.src
    }

    pub fn dst_size(&self) -> (usize, usize) {
        self.dst
    }

    /// How many source pixels one frame reads (the cost driver of the YUV -> BGR step).
    pub fn sampled_pixels(&self) -> usize {
        let rows = match self.mode {
            Mode::Copy => self.src.1,
            Mode::Area2x => 2 * self.dst.1,
            Mode::Linear => {
                let mut rows: Vec<usize> = self
                    .ytaps
                    .iter()
                    .flat_map(|t| [Some(t.first), (t.w1 != 0).then_some(t.second)])
                    .flatten()
                    .collect();
                rows.sort_unstable();
                rows.dedup();
                rows.len()
            }
        };
        rows * self.cols.len()
    }

    /// Resizes one frame from `src` into `out` (packed BGR24, `dst_w * dst_h * 3` bytes).
    pub fn run(&mut self, src: &mut impl BgrRows, out: &mut Vec<u8>) {
        let (dst_w, dst_h) = self.dst;
        out.resize(dst_w * dst_h * 3, 0);
        match self.mode {
            Mode::Copy => {
                for (y, row) in out.chunks_exact_mut(dst_w * 3).enumerate() {
                    src.gather(y, &self.cols, row);
                }
            }
            Mode::Area2x => self.run_area2x(src, out),
            Mode::Linear => self.run_linear(src, out),
        }
    }

    fn run_area2x(&mut self, src: &mut impl BgrRows, out: &mut [u8]) {
        let width = self.dst.0 * 3;
        let mut upper = vec![0u8; self.cols.len() * 3];
        for (y, row) in out.chunks_exact_mut(width).enumerate() {
            src.gather(2 * y, &self.cols, &mut upper);
            src.gather(2 * y + 1, &self.cols, &mut self.gathered);
            for (x, px) in row.chunks_exact_mut(3).enumerate() {
                for (c, value) in px.iter_mut().enumerate() {
                    let (l, r) = (6 * x + c, 6 * x + 3 + c);
                    let sum = u32::from(upper[l]) + u32::from(upper[r]);
                    let sum = sum + u32::from(self.gathered[l]) + u32::from(self.gathered[r]);
                    *value = ((sum + 2) >> 2) as u8;
                }
            }
        }
    }

    /// The horizontal pass of source row `y` into cache slot `slot` (skipped when already there).
    fn horizontal(&mut self, src: &mut impl BgrRows, y: usize, slot: usize) {
        if self.cache[slot].0 == y {
            return;
        }
        if self.cache[1 - slot].0 == y {
            self.cache.swap(0, 1);
            return;
        }
        src.gather(y, &self.cols, &mut self.gathered);
        let (row_y, row) = &mut self.cache[slot];
        *row_y = y;
        let g = &self.gathered;
        for (value, &(first, second, w0, w1)) in row.iter_mut().zip(&self.xbytes) {
            *value = i32::from(g[first as usize]) * w0 + i32::from(g[second as usize]) * w1;
        }
    }

    fn run_linear(&mut self, src: &mut impl BgrRows, out: &mut [u8]) {
        let width = self.dst.0 * 3;
        // OpenCV's vertical pass (VResizeLinearVec_32s8u): v_mul_hi of the values >> 4 by the 16-bit weights, then
        // a rounding shift by 2. opencv-python 5.0 applies it to whole rows, tails included (checked against
        // cv2.resize on widths that are not a multiple of the vector width).
        for dy in 0..self.dst.1 {
            let tap = self.ytaps[dy];
            self.horizontal(src, tap.first, 0);
            if tap.w1 != 0 {
                self.horizontal(src, tap.second, 1);
            }
            let row = &mut out[dy * width..(dy + 1) * width];
            let s0 = &self.cache[0].1;
            let (b0, b1) = (tap.w0, tap.w1);
            if b1 == 0 {
                for (o, &a) in row.iter_mut().zip(s0) {
                    *o = ((mulhi(a, b0) + 2) >> 2).clamp(0, 255) as u8;
                }
            } else {
                let s1 = &self.cache[1].1;
                for ((o, &a), &b) in row.iter_mut().zip(s0).zip(s1) {
                    *o = ((mulhi(a, b0) + mulhi(b, b1) + 2) >> 2).clamp(0, 255) as u8;
                }
            }
        }
    }
}

/// OpenCV's SIMD step on a horizontally filtered value: `v_mul_hi(v_pack(v >> 4), weight)` in 16-bit lanes.
#[inline(always)]
fn mulhi(value: i32, weight: i32) -> i32 {
    (i32::from((value >> 4) as i16) * i32::from(weight as i16)) >> 16
}

fn is_exact_2x(src: usize, dst: usize) -> bool {
    let scale = 1.0 / (dst as f64 / src as f64);
    (scale - 2.0).abs() < f64::EPSILON
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_factor_and_sizes_match_pyscenedetect() {
        // (width, height) -> processing size PySceneDetect logs for the real test videos.
        for ((w, h), size) in [
            ((176, 144), (176, 144)),
            ((640, 272), (256, 109)),
            ((480, 352), (256, 188)),
            ((1280, 720), (256, 144)),
            ((720, 405), (256, 144)),
            ((768, 576), (256, 192)),
            ((200, 1000), (51, 256)),
        ] {
            let factor = auto_downscale_factor(w, h);
            assert_eq!(downscaled_size(w as usize, h as usize, factor), size, "{w}x{h}");
        }
        assert_eq!(downscale_factor(3, 1280, 720), 3.0);
        // Python rounds halves to even: 2.5 -> 2.
        assert_eq!(downscaled_size(10, 5, 2.0), (5, 2));
    }

    #[test]
    fn taps_of_a_5x_reduction_pick_one_pixel() {
        let taps = linear_taps(1280, 256);
        assert_eq!(taps[0], Tap { first: 2, second: 3, w0: 2048, w1: 0 });
        assert_eq!(taps[255].first, 1277);
        let mut resizer = Resizer::new(1280, 720, 256, 144);
        assert_eq!(resizer.sampled_pixels(), 256 * 144);
        let data: Vec<u8> = (0..1280 * 720 * 3).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        resizer.run(&mut PackedBgr { data: &data, stride: 1280 * 3 }, &mut out);
        // A weight of exactly 2048 reproduces the source pixel: (((v << 11) >> 4) * 2048 >> 16 + 2) >> 2 == v.
        let at = |x: usize, y: usize, c: usize| data[(y * 1280 + x) * 3 + c];
        assert_eq!(&out[..3], &[at(2, 2, 0), at(2, 2, 1), at(2, 2, 2)]);
    }

    #[test]
    fn exact_half_averages_two_by_two() {
        let mut resizer = Resizer::new(4, 2, 2, 1);
        let data = [
            0, 0, 0, 10, 10, 10, 100, 100, 100, 0, 0, 0, //
            1, 1, 1, 2, 2, 2, 3, 3, 3, 255, 255, 255,
        ];
        let mut out = Vec::new();
        resizer.run(&mut PackedBgr { data: &data, stride: 12 }, &mut out);
        assert_eq!(out, vec![3, 3, 3, 90, 90, 90]);
    }
}
