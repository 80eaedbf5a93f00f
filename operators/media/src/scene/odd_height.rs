//! YUV 4:2:0 -> BGR24 of frames of odd height (and even width), bit-exact with swscale's same-size conversion on
//! x86-64. swscale's unscaled converter refuses odd heights, so such frames (720x405, say) go through its general
//! scaler: the horizontal filters are the identity (luma and chroma reach the output stage as `value << 7`), the
//! chroma is scaled vertically from `(height + 1) / 2` rows to `height` with a bicubic filter (`initFilter`, ported
//! in [`ChromaFilter`]), and the output stage is
//! - for all rows but the last two, the MMX `yuv2bgr24_X` (`use_mmx_vfilter`): 16-bit sums of `pmulhw(value << 7,
//!   coefficient)` from a rounder of 4, then the same 16-bit arithmetic and coefficients as the unscaled converter;
//! - for the last two rows, the C `yuv2rgb_X_c_template` (swscale switches to the C functions there): 32-bit sums
//!   shifted down by 19 and the lookup tables of `ff_yuv2rgb_c_init_tables`.
//!
//! Each output row depends on its own luma row and a few chroma rows only, so the resizer converts just the rows
//! it reads instead of swscale's whole frame.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::scene::chroma_filter::ChromaFilter;
use crate::scene::resize::BgrRows;
use crate::scene::simd;
use crate::scene::yuv::{Coefficients, Matrix, coefficients, mulhi, saturate};

/// The lookup tables of swscale's C output stage for 24-bit RGB (`ff_yuv2rgb_c_init_tables`): a clipped luma
/// ramp and, per chroma coefficient, the offset into it.
#[derive(Debug)]
struct CTables {
    ramp: Vec<u8>,
    /// `yoffs` of the C code: where luma 0 sits in the ramp with no chroma.
    zero: i64,
    /// V->R, U->G, V->G, U->B, scaled by the luma coefficient.
    crv: i64,
    cgu: i64,
    cgv: i64,
    cbu: i64,
}

impl CTables {
    fn new(full_range: bool) -> Self {
        const HEADROOM: i64 = 512;
        let Matrix { crv, cbu, cgu, cgv, cy, oy } = Matrix::new(full_range);
        let [crv, cbu, cgu, cgv] = [crv, cbu, cgu, cgv].map(|c| ((c << 16) + 0x8000) / cy.max(1));
        let mut yb = -(384 << 16) - HEADROOM * cy - oy;
        let ramp = (0..1024 + 2 * HEADROOM)
            .map(|_| {
                let value = ((yb + 0x8000) >> 16).clamp(0, 255) as u8;
                yb += cy;
                value
            })
            .collect();
        Self { ramp, zero: (if full_range { 384 } else { 326 }) + HEADROOM, crv, cgu, cgv, cbu }
    }

    /// B, G, R of luma `y` with chroma `u`, `v` (each already shifted down to 8 bits; clipped like the tables).
    fn bgr(&self, y: i32, u: i32, v: i32) -> [u8; 3] {
        let (u, v) = (i64::from(u.clamp(0, 255)), i64::from(v.clamp(0, 255)));
        let base = self.zero + i64::from(y);
        let r = base - (self.crv >> 9) + ((v * self.crv) >> 16);
        let g = base - (self.cgu >> 9) + ((u * self.cgu) >> 16) - (self.cgv >> 9) + ((v * self.cgv) >> 16);
        let b = base - (self.cbu >> 9) + ((u * self.cbu) >> 16);
        [b, g, r].map(|i| self.ramp[i as usize])
    }
}

fn c_tables(full_range: bool) -> &'static CTables {
    static LIMITED: std::sync::OnceLock<CTables> = std::sync::OnceLock::new();
    static FULL: std::sync::OnceLock<CTables> = std::sync::OnceLock::new();
    if full_range { FULL.get_or_init(|| CTables::new(true)) } else { LIMITED.get_or_init(|| CTables::new(false)) }
}

/// A 16-bit lane (`psubw`/`paddw` wrap).
#[inline(always)]
fn wrap16(x: i32) -> i32 {
    i32::from(x as i16)
}

/// One pixel of the MMX output stage from the filtered luma and chroma (`value * 8` scale, rounder included).
#[inline(always)]
fn mmx_bgr(k: &Coefficients, y: i32, u: i32, v: i32) -> [u8; 3] {
    let (u, v) = (wrap16(u - 0x400), wrap16(v - 0x400));
    let y = mulhi(wrap16(y - i32::from(k.y_offset)), i32::from(k.y_coeff));
    let (ub, ug, vg, vr) =
        (mulhi(u, i32::from(k.ub)), mulhi(u, i32::from(k.ug)), mulhi(v, i32::from(k.vg)), mulhi(v, i32::from(k.vr)));
    [saturate(wrap16(y + ub)), saturate(wrap16(y + wrap16(ug + vg))), saturate(wrap16(y + vr))]
}

/// The MMX vertical chroma filter of one chroma sample: `4 + sum(pmulhw(value << 7, weight))` in 16 bits.
#[inline(always)]
fn mmx_chroma(rows: &[&[u8]], weights: &[i16], c: usize) -> i32 {
    rows.iter().zip(weights).fold(4, |acc, (row, &w)| wrap16(acc + mulhi(i32::from(row[c]) << 7, i32::from(w))))
}

/// The C vertical chroma filter of one chroma sample: `(2^18 + sum((value << 7) * weight)) >> 19`.
#[inline(always)]
fn c_chroma(rows: &[&[u8]], weights: &[i16], c: usize) -> i32 {
    rows.iter().zip(weights).fold(1 << 18, |acc, (row, &w)| acc + (i32::from(row[c]) << 7) * i32::from(w)) >> 19
}

/// `dst[2i] = dst[2i + 1] = src[i]`, in blocks the compiler turns into vector shuffles.
#[inline(always)]
fn repeat_pairs(src: &[i16], dst: &mut [i16]) {
    const BLOCK: usize = 16;
    let (dst_blocks, src_blocks) = (dst.chunks_exact_mut(2 * BLOCK), src.chunks_exact(BLOCK));
    let done = src_blocks.len() * BLOCK;
    for (d, s) in dst_blocks.zip(src_blocks) {
        let s: &[i16; BLOCK] = s.try_into().expect("a whole block");
        let pairs: [i16; 2 * BLOCK] = std::array::from_fn(|i| s[i / 2]);
        d.copy_from_slice(&pairs);
    }
    for (d, &s) in dst[2 * done..].chunks_exact_mut(2).zip(&src[done..]) {
        d.fill(s);
    }
}

/// i16 values per pixel of a row that [`mmx_row_to_planar_portable`] needs as scratch.
pub(crate) const SCRATCH_PER_PIXEL: usize = 5;

/// Converts pixels `0..width` (even) of a row with the MMX output stage into planar B, G and R (`out[0..]`,
/// `out[stride..]`, `out[2 * stride..]`): the chroma of the row is filtered from `u_rows`/`v_rows` with `weights`.
/// In passes the compiler vectorises: the chroma filter, each chroma sample's contributions (repeated for its two
/// pixels), then the pixels. `scratch` holds at least `SCRATCH_PER_PIXEL * width` values.
#[allow(clippy::too_many_arguments)]
#[inline(always)] // compiled into each SIMD level's wrapper, with its target features
pub(crate) fn mmx_row_to_planar_portable(
    k: &Coefficients,
    luma: &[u8],
    [u_rows, v_rows]: [&[&[u8]]; 2],
    weights: &[i16],
    width: usize,
    out: &mut [u8],
    stride: usize,
    scratch: &mut [i16],
) {
    let half = width / 2;
    let (u, rest) = scratch.split_at_mut(half);
    let (v, rest) = rest.split_at_mut(half);
    let (uv, rest) = rest.split_at_mut(half);
    let (to_b, rest) = rest.split_at_mut(width);
    let (to_g, rest) = rest.split_at_mut(width);
    let to_r = &mut rest[..width];
    for (acc, rows) in [(&mut *u, u_rows), (&mut *v, v_rows)] {
        acc.fill(4);
        for (row, &w) in rows.iter().zip(weights) {
            for (a, &p) in acc.iter_mut().zip(&row[..half]) {
                *a = a.wrapping_add(mulhi(i32::from(p) << 7, i32::from(w)) as i16);
            }
        }
    }
    // Each chroma sample's contributions (in place: U's slot to blue, V's to red; `uv` to green), then repeated for
    // its two pixels.
    for ((u, v), g) in u.iter_mut().zip(v.iter_mut()).zip(uv.iter_mut()) {
        let (cu, cv) = (wrap16(i32::from(*u) - 0x400), wrap16(i32::from(*v) - 0x400));
        *g = wrap16(mulhi(cu, i32::from(k.ug)) + mulhi(cv, i32::from(k.vg))) as i16;
        *u = mulhi(cu, i32::from(k.ub)) as i16;
        *v = mulhi(cv, i32::from(k.vr)) as i16;
    }
    repeat_pairs(u, to_b);
    repeat_pairs(uv, to_g);
    repeat_pairs(v, to_r);
    let (b, rest) = out.split_at_mut(stride);
    let (g, r) = rest.split_at_mut(stride);
    let pixels = b[..width].iter_mut().zip(&mut g[..width]).zip(&mut r[..width]);
    let inputs = luma[..width].iter().zip(to_b.iter()).zip(to_g.iter()).zip(to_r.iter());
    for (((b, g), r), (((&l, &cb), &cg), &cr)) in pixels.zip(inputs) {
        let y = mulhi(wrap16(4 + (i32::from(l) << 3) - i32::from(k.y_offset)), i32::from(k.y_coeff));
        *b = saturate(wrap16(y + i32::from(cb)));
        *g = saturate(wrap16(y + i32::from(cg)));
        *r = saturate(wrap16(y + i32::from(cr)));
    }
}

/// The vertical chroma filter and the scratch of one video's odd-height 4:2:0 frames.
pub struct OddHeight {
    width: u32,
    height: u32,
    filter: ChromaFilter,
    scratch: Vec<i16>,
}

impl OddHeight {
    /// For `width`x`height` frames: `Some` when the height is odd and the width even (an odd width makes swscale
    /// interpolate full chroma), and the chroma filter has more than 2 taps (at least 9 rows: with fewer, swscale
    /// takes its 1- and 2-tap output stages instead of `yuv2bgr24_X`).
    pub fn new(width: u32, height: u32) -> Option<Self> {
        if height.is_multiple_of(2) || !width.is_multiple_of(2) || width == 0 || height < 3 {
            return None;
        }
        let filter = ChromaFilter::new(height as usize);
        let scratch = vec![0; SCRATCH_PER_PIXEL * width as usize];
        (filter.taps() > 2).then_some(Self { width, height, filter, scratch })
    }

    /// `frame` read as BGR pixels, when it is a `yuv420p`/`yuvj420p` frame of this size.
    pub fn planes<'a>(&'a mut self, frame: &'a VideoFrame) -> Option<OddHeightPlanes<'a>> {
        let full_range = match frame.format() {
            Pixel::YUV420P => false,
            Pixel::YUVJ420P => true,
            _ => return None,
        };
        if (frame.width(), frame.height()) != (self.width, self.height) {
            return None;
        }
        Some(OddHeightPlanes {
            planes: [frame.data(0), frame.data(1), frame.data(2)],
            strides: [frame.stride(0), frame.stride(1), frame.stride(2)],
            height: self.height as usize,
            filter: &self.filter,
            scratch: &mut self.scratch,
            coefficients: coefficients(full_range),
            tables: c_tables(full_range),
        })
    }
}

/// An odd-height 4:2:0 frame read as BGR pixels the way swscale converts it.
pub struct OddHeightPlanes<'a> {
    planes: [&'a [u8]; 3],
    strides: [usize; 3],
    height: usize,
    filter: &'a ChromaFilter,
    scratch: &'a mut [i16],
    coefficients: &'static Coefficients,
    tables: &'static CTables,
}

/// The most taps the vertical chroma filter has (bicubic upscale: 4, aligned to 2).
const MAX_TAPS: usize = 8;

/// The U and the V rows a chroma filter reads (the first `size` of each).
type ChromaRows<'a> = [[&'a [u8]; MAX_TAPS]; 2];

impl<'a> OddHeightPlanes<'a> {
    /// The luma row `y`, the chroma rows its filter reads (U, then V) and their weights.
    fn rows(&self, y: usize) -> (&'a [u8], ChromaRows<'a>, &'a [i16]) {
        let (first, weights) = self.filter.row(y);
        let mut chroma = [[&[][..]; MAX_TAPS]; 2];
        for (plane, rows) in chroma.iter_mut().enumerate() {
            let (data, stride) = (self.planes[plane + 1], self.strides[plane + 1]);
            for (j, row) in rows.iter_mut().take(weights.len()).enumerate() {
                *row = &data[(first + j) * stride..];
            }
        }
        (&self.planes[0][y * self.strides[0]..], chroma, weights)
    }

    /// Whether row `y` goes through swscale's C output stage (its last two rows) rather than the MMX one.
    fn c_row(&self, y: usize) -> bool {
        y + 2 >= self.height
    }

    fn c_pixel(&self, luma: u8, rows: [&[&[u8]]; 2], weights: &[i16], c: usize) -> [u8; 3] {
        let (u, v) = (c_chroma(rows[0], weights, c), c_chroma(rows[1], weights, c));
        // Luma's filter is the identity: `(2^18 + (value << 7) * 4096) >> 19` is the value itself.
        self.tables.bgr(i32::from(luma), u, v)
    }
}

impl BgrRows for OddHeightPlanes<'_> {
    fn planar_row(&mut self, y: usize, width: usize, out: &mut [u8], stride: usize) -> bool {
        if !simd::wide() || self.c_row(y) || !width.is_multiple_of(2) {
            return false;
        }
        let (luma, chroma, weights) = self.rows(y);
        let n = weights.len();
        simd::odd_height_row_to_planar(
            self.coefficients,
            luma,
            [&chroma[0][..n], &chroma[1][..n]],
            weights,
            width,
            out,
            stride,
            self.scratch,
        );
        true
    }

    fn gather(&mut self, y: usize, cols: &[usize], out: &mut [u8]) {
        let (luma, chroma, weights) = self.rows(y);
        let n = weights.len();
        let rows = [&chroma[0][..n], &chroma[1][..n]];
        let c_row = self.c_row(y);
        for (px, &x) in out.chunks_exact_mut(3).zip(cols) {
            let bgr = if c_row {
                self.c_pixel(luma[x], rows, weights, x >> 1)
            } else {
                let (u, v) = (mmx_chroma(rows[0], weights, x >> 1), mmx_chroma(rows[1], weights, x >> 1));
                mmx_bgr(self.coefficients, 4 + (i32::from(luma[x]) << 3), u, v)
            };
            px.copy_from_slice(&bgr);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::scene::conversion_check::{assert_row_converts, swscale_bgr};

    /// Random odd-height frames of several sizes (limited and full range), converted by swscale the way OpenCV
    /// does (same size, bicubic) and here: every pixel gathered, and planar rows at every kernel level.
    #[test]
    fn odd_height_frames_give_the_bytes_of_swscale() {
        let mut rng = ChaCha8Rng::seed_from_u64(405);
        let sizes = [(720, 405), (64, 9), (2, 9), (34, 11), (100, 17), (1920, 1081), (322, 241), (480, 353), (6, 13)];
        for format in [Pixel::YUV420P, Pixel::YUVJ420P] {
            for (width, height) in sizes {
                let mut frame = VideoFrame::new(format, width, height);
                for plane in 0..3 {
                    rng.fill(frame.data_mut(plane));
                }
                let converted = swscale_bgr(&frame);
                let mut odd = OddHeight::new(width, height).expect("odd height, even width");
                let mut planes = odd.planes(&frame).expect("4:2:0");
                let w = width as usize;
                for y in 0..height as usize {
                    let expected = &converted.data(0)[y * converted.stride(0)..][..3 * w];
                    assert_row_converts(&mut planes, y, expected, Some(w), &format!("{format:?} {width}x{height}"));
                }
            }
        }
    }

    #[test]
    fn other_shapes_are_left_to_swscale() {
        assert!(OddHeight::new(720, 404).is_none(), "even height: the unscaled converter");
        assert!(OddHeight::new(721, 405).is_none(), "odd width: full chroma interpolation");
        assert!(OddHeight::new(64, 5).is_none() && OddHeight::new(64, 7).is_none(), "1- and 2-tap chroma filters");
        assert!(OddHeight::new(64, 9).is_some());
    }
}
