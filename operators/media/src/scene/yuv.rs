//! YUV 4:2:0 -> BGR24 of single pixels, bit-exact with swscale's unscaled x86 converter (`yuv420_bgr24_ssse3`,
//! BT.601 coefficients of `ff_yuv2rgb_c_init_tables`) — what OpenCV's video capture runs before PySceneDetect
//! sees a frame. Lets the resizer convert only the pixels it samples (1 in 25 at 720p) instead of whole frames.
//!
//! swscale takes that unscaled path only for `yuv420p`/`yuvj420p` frames of even height; everything else goes
//! through its general scaler, which the caller must use instead (see [`YuvPlanes::new`]).

use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::scene::resize::BgrRows;
use crate::scene::simd;

/// swscale's default (`SWS_CS_DEFAULT` = BT.601) inverse table: V->R, U->B, U->G, V->G in 16.16 fixed point.
const INV_TABLE: [i64; 4] = [104_597, 132_201, 25_675, 53_279];

/// swscale's YUV->RGB matrix as `ff_yuv2rgb_c_init_tables` derives it from the default table for limited or full
/// range input (default brightness, contrast and saturation): chroma coefficients V->R, U->B, U->G, V->G, the
/// luma gain and the luma offset, 16.16 fixed point. Every output stage scales these its own way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Matrix {
    pub crv: i64,
    pub cbu: i64,
    pub cgu: i64,
    pub cgv: i64,
    pub cy: i64,
    pub oy: i64,
}

impl Matrix {
    pub(crate) const fn new(full_range: bool) -> Self {
        let [crv, cbu, cgu, cgv] = [INV_TABLE[0], INV_TABLE[1], -INV_TABLE[2], -INV_TABLE[3]];
        if full_range {
            // Chroma's 224 steps stretched to 255.
            const fn full(c: i64) -> i64 {
                c * 224 / 255
            }
            Self { crv: full(crv), cbu: full(cbu), cgu: full(cgu), cgv: full(cgv), cy: 1 << 16, oy: 0 }
        } else {
            Self { crv, cbu, cgu, cgv, cy: (1 << 16) * 255 / 219, oy: 16 << 16 }
        }
    }
}

/// swscale's `roundToInt16`.
pub(crate) const fn round_to_int16(f: i64) -> i32 {
    let r = (f + (1 << 15)) >> 16;
    if r < -0x7FFF {
        -0x8000
    } else if r > 0x7FFF {
        0x7FFF
    } else {
        r as i32
    }
}

/// `pmulhw`: the high 16 bits of a signed 16x16 product.
#[inline(always)]
pub(crate) const fn mulhi(a: i32, b: i32) -> i32 {
    (a * b) >> 16
}

/// swscale's 16-bit SIMD constants: luma offset and coefficient, and the chroma coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Coefficients {
    pub y_offset: i16,
    pub y_coeff: i16,
    pub ub: i16,
    pub ug: i16,
    pub vg: i16,
    pub vr: i16,
}

/// Per-value contributions of Y, U and V to B, G and R (the SIMD arithmetic, tabulated per 8-bit input).
#[derive(Debug, Clone)]
struct Tables {
    coefficients: Coefficients,
    y: [i16; 256],
    u_to_b: [i16; 256],
    u_to_g: [i16; 256],
    v_to_g: [i16; 256],
    v_to_r: [i16; 256],
}

impl Tables {
    fn new(full_range: bool) -> Self {
        let Matrix { crv, cbu, cgu, cgv, cy, oy } = Matrix::new(full_range);
        let y_coeff = round_to_int16(cy * (1 << 13));
        let y_offset = round_to_int16(oy * (1 << 3));
        let [vr, ub, vg, ug] = [crv, cbu, cgv, cgu].map(|c| round_to_int16(c * (1 << 13)));
        let coefficients = Coefficients {
            y_offset: y_offset as i16,
            y_coeff: y_coeff as i16,
            ub: ub as i16,
            ug: ug as i16,
            vg: vg as i16,
            vr: vr as i16,
        };
        let mut t =
            Self { coefficients, y: [0; 256], u_to_b: [0; 256], u_to_g: [0; 256], v_to_g: [0; 256], v_to_r: [0; 256] };
        for i in 0..256 {
            let value = i as i32;
            // psllw 3 then psubw/psubsw of the offsets (0x0400 for chroma), then pmulhw.
            t.y[i] = mulhi((value << 3) - y_offset, y_coeff) as i16;
            let chroma = (value << 3) - 0x400;
            t.u_to_b[i] = mulhi(chroma, ub) as i16;
            t.u_to_g[i] = mulhi(chroma, ug) as i16;
            t.v_to_g[i] = mulhi(chroma, vg) as i16;
            t.v_to_r[i] = mulhi(chroma, vr) as i16;
        }
        t
    }
}

/// `packuswb` of a 16-bit sum.
#[inline(always)]
pub(crate) fn saturate(value: i32) -> u8 {
    value.clamp(0, 255) as u8
}

/// A decoded 4:2:0 frame read as BGR pixels the way swscale's unscaled converter writes them.
pub struct YuvPlanes<'a> {
    planes: [&'a [u8]; 3],
    strides: [usize; 3],
    tables: &'static Tables,
}

/// swscale's 16-bit SIMD constants for limited or full range input.
pub(crate) fn coefficients(full_range: bool) -> &'static Coefficients {
    &tables(full_range).coefficients
}

fn tables(full_range: bool) -> &'static Tables {
    static LIMITED: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    static FULL: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    if full_range { FULL.get_or_init(|| Tables::new(true)) } else { LIMITED.get_or_init(|| Tables::new(false)) }
}

impl<'a> YuvPlanes<'a> {
    /// `Some` for `yuv420p`/`yuvj420p` frames of even height (swscale's unscaled converter); `None` otherwise.
    pub fn new(frame: &'a VideoFrame) -> Option<Self> {
        let full_range = match frame.format() {
            Pixel::YUV420P => false,
            Pixel::YUVJ420P => true,
            _ => return None,
        };
        if !frame.height().is_multiple_of(2) {
            return None;
        }
        Some(Self {
            planes: [frame.data(0), frame.data(1), frame.data(2)],
            strides: [frame.stride(0), frame.stride(1), frame.stride(2)],
            tables: tables(full_range),
        })
    }
}

impl<'a> YuvPlanes<'a> {
    /// Converts pixels `from..width` of row `y` into planar B, G and R (`out[0..]`, `out[stride..]`,
    /// `out[2 * stride..]`), one pixel at a time from the tables.
    pub(crate) fn planar_row_portable(&self, y: usize, width: usize, from: usize, out: &mut [u8], stride: usize) {
        let t = self.tables;
        let (luma, u_row, v_row) = self.rows(y);
        let (b, rest) = out.split_at_mut(stride);
        let (g, r) = rest.split_at_mut(stride);
        for x in from..width {
            let l = i32::from(t.y[usize::from(luma[x])]);
            let (u, v) = (usize::from(u_row[x >> 1]), usize::from(v_row[x >> 1]));
            b[x] = saturate(l + i32::from(t.u_to_b[u]));
            g[x] = saturate(l + i32::from(t.u_to_g[u]) + i32::from(t.v_to_g[v]));
            r[x] = saturate(l + i32::from(t.v_to_r[v]));
        }
    }

    /// The luma row `y` and the chroma rows it uses.
    fn rows(&self, y: usize) -> (&'a [u8], &'a [u8], &'a [u8]) {
        (
            &self.planes[0][y * self.strides[0]..],
            &self.planes[1][(y >> 1) * self.strides[1]..],
            &self.planes[2][(y >> 1) * self.strides[2]..],
        )
    }
}

impl BgrRows for YuvPlanes<'_> {
    fn planar_row(&mut self, y: usize, width: usize, out: &mut [u8], stride: usize) -> bool {
        if !simd::wide() {
            return false;
        }
        let (luma, u_row, v_row) = self.rows(y);
        let done = simd::yuv420_row_to_planar(&self.tables.coefficients, [luma, u_row, v_row], width, out, stride);
        self.planar_row_portable(y, width, done, out, stride);
        true
    }

    fn gather(&mut self, y: usize, cols: &[usize], out: &mut [u8]) {
        let t = self.tables;
        let (luma, u_row, v_row) = self.rows(y);
        let pixel = |px: &mut [u8], l: u8, u: u8, v: u8| {
            let l = i32::from(t.y[usize::from(l)]);
            let (u, v) = (usize::from(u), usize::from(v));
            px[0] = saturate(l + i32::from(t.u_to_b[u]));
            px[1] = saturate(l + i32::from(t.u_to_g[u]) + i32::from(t.v_to_g[v]));
            px[2] = saturate(l + i32::from(t.v_to_r[v]));
        };
        if let (Some(&first), Some(&last)) = (cols.first(), cols.last())
            && first % 2 == 0
            && last + 1 - first == cols.len()
        {
            // A contiguous run from an even column: pixel pairs share one chroma sample.
            let (luma, u_row, v_row) = (&luma[first..=last], &u_row[first / 2..], &v_row[first / 2..]);
            let pairs = out.chunks_mut(6).zip(luma.chunks(2)).zip(u_row.iter().zip(v_row));
            for ((px, l), (&u, &v)) in pairs {
                for (px, &l) in px.chunks_exact_mut(3).zip(l) {
                    pixel(px, l, u, v);
                }
            }
            return;
        }
        for (px, &x) in out.chunks_exact_mut(3).zip(cols) {
            let l = i32::from(t.y[usize::from(luma[x])]);
            let (u, v) = (usize::from(u_row[x >> 1]), usize::from(v_row[x >> 1]));
            px[0] = saturate(l + i32::from(t.u_to_b[u]));
            px[1] = saturate(l + i32::from(t.u_to_g[u]) + i32::from(t.v_to_g[v]));
            px[2] = saturate(l + i32::from(t.v_to_r[v]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_match_swscale() {
        // yCoeff, vrCoeff, ubCoeff, vgCoeff, ugCoeff of swscale for BT.601 limited range.
        assert_eq!(round_to_int16(76_309 * (1 << 13)), 9539);
        assert_eq!(round_to_int16(104_597 * (1 << 13)), 13075);
        assert_eq!(round_to_int16(132_201 * (1 << 13)), 16525);
        assert_eq!(round_to_int16(-53_279 * (1 << 13)), -6660);
        assert_eq!(round_to_int16(-25_675 * (1 << 13)), -3209);
        let t = Tables::new(false);
        let bgr = |y: usize, u: usize, v: usize| {
            let l = i32::from(t.y[y]);
            [
                saturate(l + i32::from(t.u_to_b[u])),
                saturate(l + i32::from(t.u_to_g[u]) + i32::from(t.v_to_g[v])),
                saturate(l + i32::from(t.v_to_r[v])),
            ]
        };
        assert_eq!(bgr(16, 128, 128), [0, 0, 0]);
        assert_eq!(bgr(235, 128, 128), [255, 255, 255]);
    }
}
