//! Frame downscaling exactly like PySceneDetect 0.7: the auto factor of `compute_downscale_factor`, the target
//! size `round(w / factor)`, and `cv2.resize(..., interpolation=cv2.INTER_LINEAR)` with OpenCV's 8-bit fixed-point
//! arithmetic (11-bit coefficients, its SIMD vertical pass; an exact 2x reduction becomes OpenCV's fast INTER_AREA).
//!
//! The resizer pulls only the source pixels it samples through [`BgrRows`], so a YUV frame never has to be
//! converted to BGR in full.

use crate::scene::planar::{PLANAR_PAD, PlanarTaps};
use crate::scene::simd;

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

    /// Row `y` as packed BGR bytes from its first pixel on, when the source holds it in memory: the resizer then
    /// reads it in place instead of gathering a copy.
    fn row(&self, _y: usize) -> Option<&[u8]> {
        None
    }

    /// Converts pixels `0..width` of row `y` into planar B, G and R bytes (`out[0..]`, `out[stride..]`,
    /// `out[2 * stride..]`) when the source has a fast way to convert whole rows; `false` (and nothing written)
    /// otherwise.
    fn planar_row(&mut self, _y: usize, _width: usize, _out: &mut [u8], _stride: usize) -> bool {
        false
    }
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

    fn row(&self, y: usize) -> Option<&[u8]> {
        self.data.get(y * self.stride..)
    }
}

/// One output coordinate of the linear filter: source index (into the gathered columns, or a row) and the two
/// fixed-point weights of it and its successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tap {
    pub first: usize,
    pub second: usize,
    pub w0: i32,
    pub w1: i32,
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

/// The horizontal taps of one output pixel: byte offsets of its two source pixels (the same one when the second
/// weight is 0) and their fixed-point weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixelTap {
    pub first: u32,
    pub second: u32,
    pub w0: i32,
    pub w1: i32,
}

/// The horizontal taps of a row, also laid out for the SIMD kernel: the first byte offsets and the two weights
/// packed as 16-bit pairs (`w0 | w1 << 16`).
#[derive(Debug, Clone, Default)]
pub(crate) struct RowTaps {
    pub taps: Vec<PixelTap>,
    pub firsts: Vec<i32>,
    pub pairs: Vec<i32>,
    /// Every tap with a second weight reads the pixel right after its first (`second == first + 3`), as the
    /// SIMD kernel assumes.
    pub adjacent: bool,
}

impl RowTaps {
    fn new(taps: Vec<PixelTap>) -> Self {
        let firsts = taps.iter().map(|t| t.first as i32).collect();
        let pairs = taps.iter().map(|t| t.w0 | (t.w1 << 16)).collect();
        let adjacent = taps.iter().all(|t| t.w1 == 0 || t.second == t.first + 3);
        Self { taps, firsts, pairs, adjacent }
    }
}

/// A reusable `cv2.resize(INTER_LINEAR)` for one source and destination size.
#[derive(Debug, Clone)]
pub struct Resizer {
    src: (usize, usize),
    dst: (usize, usize),
    mode: Mode,
    /// Source columns the filter reads, ascending, each once.
    cols: Vec<usize>,
    /// How many source rows the filter reads.
    rows_read: usize,
    /// Horizontal taps per output pixel into the gathered BGR bytes of `cols`.
    gathered_taps: RowTaps,
    /// The same taps into a whole source row (for sources that lend their rows, [`BgrRows::row`]).
    row_taps: RowTaps,
    /// The same taps into planar rows (for sources that convert whole rows, [`BgrRows::planar_row`]).
    planar_taps: PlanarTaps,
    /// A planar source row: blue, green and red, `src_w + PLANAR_PAD` bytes apart.
    planar: Vec<u8>,
    /// Vertical taps, source row numbers.
    ytaps: Vec<Tap>,
    gathered: Vec<u8>,
    /// Horizontally filtered rows (`dst_w * 3` values each, planar like `line`, already `>> 4` as OpenCV's vertical
    /// pass packs them to 16 bits) with the source row they came from.
    cache: [(usize, Vec<i16>); 2],
    /// The output row being produced, planar: `dst_w` blue bytes, then green, then red.
    line: Vec<u8>,
    /// A packed BGR output row (copy and 2x modes).
    packed: Vec<u8>,
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
        let mut planar_taps = PlanarTaps::default();
        let (cols, gathered_taps, row_taps, ytaps) = match mode {
            Mode::Copy => ((0..src_w).collect(), RowTaps::default(), RowTaps::default(), Vec::new()),
            Mode::Area2x => ((0..2 * dst_w).collect(), RowTaps::default(), RowTaps::default(), Vec::new()),
            Mode::Linear => {
                let taps = linear_taps(src_w, dst_w);
                planar_taps = PlanarTaps::new(&taps);
                let mut cols: Vec<usize> =
                    taps.iter().flat_map(|t| [Some(t.first), (t.w1 != 0).then_some(t.second)]).flatten().collect();
                cols.sort_unstable();
                cols.dedup();
                let pixel_taps = |offset: &dyn Fn(usize) -> usize| {
                    RowTaps::new(
                        taps.iter()
                            .map(|t| {
                                let first = 3 * offset(t.first) as u32;
                                let second = if t.w1 != 0 { 3 * offset(t.second) as u32 } else { first };
                                PixelTap { first, second, w0: t.w0, w1: t.w1 }
                            })
                            .collect(),
                    )
                };
                let gathered_taps = pixel_taps(&|c| cols.binary_search(&c).unwrap_or(0));
                let row_taps = pixel_taps(&|c| c);
                (cols, gathered_taps, row_taps, linear_taps(src_h, dst_h))
            }
        };
        let rows_read = match mode {
            Mode::Copy => src_h,
            Mode::Area2x => 2 * dst_h,
            Mode::Linear => {
                let mut rows: Vec<usize> =
                    ytaps.iter().flat_map(|t| [Some(t.first), (t.w1 != 0).then_some(t.second)]).flatten().collect();
                rows.sort_unstable();
                rows.dedup();
                rows.len()
            }
        };
        Self {
            src: (src_w, src_h),
            dst: (dst_w, dst_h),
            mode,
            rows_read,
            // Padded: the SIMD horizontal pass loads 4 bytes from each pixel's channel.
            gathered: vec![0; cols.len() * 3 + simd::LOAD_PAD],
            cols,
            gathered_taps,
            row_taps,
            planar_taps,
            planar: vec![0; 3 * (src_w + PLANAR_PAD)],
            ytaps,
            cache: [(usize::MAX, vec![0; dst_w * 3]), (usize::MAX, vec![0; dst_w * 3])],
            line: vec![0; dst_w * 3],
            packed: vec![0; dst_w * 3],
        }
    }

    pub fn src_size(&self) -> (usize, usize) {
        self.src
    }

    pub fn dst_size(&self) -> (usize, usize) {
        self.dst
    }

    /// The horizontal taps into planar rows.
    #[cfg(test)]
    pub(crate) fn planar_taps(&self) -> &PlanarTaps {
        &self.planar_taps
    }

    /// The horizontal taps into a whole source row.
    #[cfg(test)]
    pub(crate) fn row_taps(&self) -> &RowTaps {
        &self.row_taps
    }

    /// Whether the resizer takes whole planar rows from sources that convert them ([`BgrRows::planar_row`]):
    /// without a resize, and for linear downscales narrow enough for the planar kernels' windows.
    pub fn reads_planar_rows(&self) -> bool {
        match self.mode {
            Mode::Copy => true,
            Mode::Area2x => false,
            Mode::Linear => self.planar_taps.windowed(),
        }
    }

    /// How many source pixels one frame reads (the cost driver of the YUV -> BGR step).
    pub fn sampled_pixels(&self) -> usize {
        self.rows_read * self.cols.len()
    }

    /// Resizes one frame from `src` into `out` (packed BGR24, `dst_w * dst_h * 3` bytes).
    pub fn run(&mut self, src: &mut impl BgrRows, out: &mut Vec<u8>) {
        let width = self.dst.0;
        out.resize(3 * width * self.dst.1, 0);
        self.run_rows(src, |y, row| {
            let (b, rest) = row.split_at(width);
            let (g, r) = rest.split_at(width);
            for (((px, &b), &g), &r) in out[3 * y * width..3 * (y + 1) * width].chunks_exact_mut(3).zip(b).zip(g).zip(r)
            {
                px.copy_from_slice(&[b, g, r]);
            }
        });
    }

    /// Resizes one frame from `src`, handing each output row to `emit` with its row number, top to bottom, so the
    /// caller can consume it while it is still in cache. Rows are planar: `dst_w` blue bytes, then green, then red
    /// (what the per-channel vertical pass produces, and what vectorised consumers want).
    pub fn run_rows(&mut self, src: &mut impl BgrRows, mut emit: impl FnMut(usize, &[u8])) {
        match self.mode {
            Mode::Copy => {
                let width = self.dst.0;
                for y in 0..self.dst.1 {
                    if !src.planar_row(y, width, &mut self.line, width) {
                        src.gather(y, &self.cols, &mut self.packed);
                        deinterleave(&self.packed, &mut self.line);
                    }
                    emit(y, &self.line);
                }
            }
            Mode::Area2x => self.run_area2x(src, emit),
            Mode::Linear => self.run_linear(src, emit),
        }
    }

    fn run_area2x(&mut self, src: &mut impl BgrRows, mut emit: impl FnMut(usize, &[u8])) {
        let mut upper = vec![0u8; self.cols.len() * 3];
        for y in 0..self.dst.1 {
            src.gather(2 * y, &self.cols, &mut upper);
            let lower = &mut self.gathered[..upper.len()];
            src.gather(2 * y + 1, &self.cols, lower);
            let (upper, lower) = (upper.chunks_exact(6), lower.chunks_exact(6));
            for ((px, u), l) in self.packed.chunks_exact_mut(3).zip(upper).zip(lower) {
                for (c, value) in px.iter_mut().enumerate() {
                    let sum = u32::from(u[c]) + u32::from(u[c + 3]) + u32::from(l[c]) + u32::from(l[c + 3]);
                    *value = ((sum + 2) >> 2) as u8;
                }
            }
            deinterleave(&self.packed, &mut self.line);
            emit(y, &self.line);
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
        let (row_y, values) = &mut self.cache[slot];
        *row_y = y;
        let (width, stride) = (self.src.0, self.src.0 + PLANAR_PAD);
        if let Some(row) = src.row(y) {
            simd::horizontal_row(row, &self.row_taps, values);
        } else if self.planar_taps.windowed() && src.planar_row(y, width, &mut self.planar, stride) {
            simd::horizontal_planar(&self.planar, stride, &self.planar_taps, values);
        } else {
            let len = self.cols.len() * 3;
            src.gather(y, &self.cols, &mut self.gathered[..len]);
            simd::horizontal_row(&self.gathered, &self.gathered_taps, values);
        }
    }

    fn run_linear(&mut self, src: &mut impl BgrRows, mut emit: impl FnMut(usize, &[u8])) {
        // OpenCV's vertical pass (VResizeLinearVec_32s8u): v_mul_hi of the values >> 4 by the 16-bit weights, then
        // a rounding shift by 2. opencv-python 5.0 applies it to whole rows, tails included (checked against
        // cv2.resize on widths that are not a multiple of the vector width).
        for dy in 0..self.dst.1 {
            let tap = self.ytaps[dy];
            self.horizontal(src, tap.first, 0);
            // The weights are at most 2048: they fit OpenCV's 16-bit lanes.
            let (b0, b1) = (tap.w0 as i16, tap.w1 as i16);
            if b1 == 0 {
                simd::vertical(&mut self.line, &self.cache[0].1, &self.cache[0].1, b0, 0);
            } else {
                self.horizontal(src, tap.second, 1);
                simd::vertical(&mut self.line, &self.cache[0].1, &self.cache[1].1, b0, b1);
            }
            emit(dy, &self.line);
        }
    }
}

/// Splits a packed BGR row into planar `dst` (blue, then green, then red).
fn deinterleave(packed: &[u8], planar: &mut [u8]) {
    let width = packed.len() / 3;
    let (b, rest) = planar.split_at_mut(width);
    let (g, r) = rest.split_at_mut(width);
    for (((px, b), g), r) in packed.chunks_exact(3).zip(b).zip(g).zip(r) {
        (*b, *g, *r) = (px[0], px[1], px[2]);
    }
}

/// OpenCV's horizontal pass of one packed BGR row in 32 bits, stored planar and `>> 4` in 16 bits (`v_pack(v >>
/// 4)` of its vertical pass; at most 255 * 2048 >> 4 = 32640, so the narrowing is exact), for the output pixels
/// from `from` on (`out` holds all of them: blue, then green, then red).
pub(crate) fn horizontal_row_portable(src: &[u8], taps: &[PixelTap], from: usize, out: &mut [i16]) {
    let (b, rest) = out.split_at_mut(taps.len());
    let (g, r) = rest.split_at_mut(taps.len());
    for (((t, b), g), r) in taps.iter().zip(b).zip(g).zip(r).skip(from) {
        let (p, q) = (&src[t.first as usize..][..3], &src[t.second as usize..][..3]);
        let filter = |c: usize| ((i32::from(p[c]) * t.w0 + i32::from(q[c]) * t.w1) >> 4) as i16;
        (*b, *g, *r) = (filter(0), filter(1), filter(2));
    }
}

/// Lanes of the vectorised vertical pass.
const VLANES: usize = 16;

/// The vertical pass of one output row from two horizontally filtered rows: `(mulhi(a, b0) + mulhi(b, b1) + 2) >> 2`,
/// saturated to 8 bits.
#[inline(always)]
pub(crate) fn vertical_portable(out: &mut [u8], s0: &[i16], s1: &[i16], b0: i16, b1: i16) {
    let pixel = |a: i16, b: i16, w0: i16, w1: i16| ((mulhi(a, w0) + mulhi(b, w1) + 2) >> 2).clamp(0, 255) as u8;
    // Weights from memory rather than splatted constants: LLVM only turns the 16-bit high multiply into `pmulhw`
    // when neither operand is a known splat.
    let (w0, w1) = (std::hint::black_box([b0; VLANES]), std::hint::black_box([b1; VLANES]));
    let body = out.len() - out.len() % VLANES;
    let blocks = out[..body].chunks_exact_mut(VLANES).zip(s0.chunks_exact(VLANES).zip(s1.chunks_exact(VLANES)));
    for (o, (a, b)) in blocks {
        for i in 0..VLANES {
            o[i] = pixel(a[i], b[i], w0[i], w1[i]);
        }
    }
    for ((o, &a), &b) in out[body..].iter_mut().zip(&s0[body..]).zip(&s1[body..]) {
        *o = pixel(a, b, b0, b1);
    }
}

/// OpenCV's SIMD step on a packed horizontally filtered value: `v_mul_hi(value, weight)` in 16-bit lanes.
#[inline(always)]
fn mulhi(value: i16, weight: i16) -> i16 {
    ((i32::from(value) * i32::from(weight)) >> 16) as i16
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
