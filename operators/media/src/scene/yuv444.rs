//! YUV 4:4:4 -> BGR24 of single pixels, bit-exact with swscale's same-size conversion of `yuv444p`/`yuvj444p`
//! frames. swscale has no unscaled converter for them; its general scaler turns on full chroma interpolation
//! (the source chroma is not subsampled), its horizontal filters are then the identity (values reach the output
//! stage as `value << 7`) and the vertical ones too, so every output pixel is `yuv2rgb_write_full` of its own Y, U
//! and V: 32-bit fixed point with the `yuv2rgb_*` coefficients of `ff_yuv2rgb_c_init_tables`, clipped to 30 bits
//! and shifted down by 22. The resizer therefore converts only the rows (or pixels) it reads, where swscale would
//! run the whole frame through its general path.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::scene::resize::BgrRows;
use crate::scene::simd;
use crate::scene::yuv::{Matrix, round_to_int16};

/// The coefficients of swscale's full-chroma output stage (`c->yuv2rgb_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FullCoefficients {
    pub y_offset: i32,
    pub y_coeff: i32,
    pub v2r: i32,
    pub v2g: i32,
    pub u2g: i32,
    pub u2b: i32,
}

impl FullCoefficients {
    /// BT.601 (swscale's default table), limited or full range, default brightness, contrast and saturation.
    const fn new(full_range: bool) -> Self {
        let Matrix { crv, cbu, cgu, cgv, cy, oy } = Matrix::new(full_range);
        Self {
            y_offset: round_to_int16(oy * (1 << 9)),
            y_coeff: round_to_int16(cy * (1 << 13)),
            v2r: round_to_int16(crv * (1 << 13)),
            v2g: round_to_int16(cgv * (1 << 13)),
            u2g: round_to_int16(cgu * (1 << 13)),
            u2b: round_to_int16(cbu * (1 << 13)),
        }
    }
}

const LIMITED: FullCoefficients = FullCoefficients::new(false);
const FULL: FullCoefficients = FullCoefficients::new(true);

/// One pixel as swscale writes it: B, G, R.
#[inline(always)]
fn bgr(c: &FullCoefficients, y: u8, u: u8, v: u8) -> [u8; 3] {
    // The filtered 15-bit values (`value << 7`), times 4, chroma centred; 32-bit arithmetic that wraps like
    // swscale's unsigned casts: the brightest blues (Y and U near 255, limited range) pass 2^31, turn negative
    // and are written as B = 0 by swscale too (the exhaustive test below holds both to it).
    let y = ((i32::from(y) << 9) - c.y_offset).wrapping_mul(c.y_coeff).wrapping_add(1 << 21);
    let u = (i32::from(u) - 128) << 9;
    let v = (i32::from(v) - 128) << 9;
    let r = y.wrapping_add(v.wrapping_mul(c.v2r));
    let g = y.wrapping_add(v.wrapping_mul(c.v2g)).wrapping_add(u.wrapping_mul(c.u2g));
    let b = y.wrapping_add(u.wrapping_mul(c.u2b));
    // `av_clip_uintp2(x, 30)` (negative -> 0, above -> 2^30 - 1): swscale clips all three when any is out of
    // range, and clipping one in range changes nothing, so clipping always is the same.
    [b, g, r].map(|x| (x.clamp(0, (1 << 30) - 1) >> 22) as u8)
}

/// Converts pixels `0..width` of a row (its Y, U and V rows) into planar B, G and R (`out[0..]`, `out[stride..]`,
/// `out[2 * stride..]`).
#[inline(always)] // compiled into each SIMD level's wrapper, with its target features
pub(crate) fn yuv444_row_to_planar_portable(
    c: &FullCoefficients,
    [luma, u_row, v_row]: [&[u8]; 3],
    width: usize,
    out: &mut [u8],
    stride: usize,
) {
    let (b, rest) = out.split_at_mut(stride);
    let (g, r) = rest.split_at_mut(stride);
    let pixels = b[..width].iter_mut().zip(&mut g[..width]).zip(&mut r[..width]);
    let yuv = luma[..width].iter().zip(&u_row[..width]).zip(&v_row[..width]);
    for (((b, g), r), ((&y, &u), &v)) in pixels.zip(yuv) {
        [*b, *g, *r] = bgr(c, y, u, v);
    }
}

/// A decoded 4:4:4 frame read as BGR pixels the way swscale converts it.
pub struct Yuv444Planes<'a> {
    planes: [&'a [u8]; 3],
    strides: [usize; 3],
    coefficients: &'static FullCoefficients,
}

impl<'a> Yuv444Planes<'a> {
    /// `Some` for `yuv444p`/`yuvj444p` frames; `None` otherwise.
    pub fn new(frame: &'a VideoFrame) -> Option<Self> {
        let coefficients = match frame.format() {
            Pixel::YUV444P => &LIMITED,
            Pixel::YUVJ444P => &FULL,
            _ => return None,
        };
        Some(Self {
            planes: [frame.data(0), frame.data(1), frame.data(2)],
            strides: [frame.stride(0), frame.stride(1), frame.stride(2)],
            coefficients,
        })
    }

    fn rows(&self, y: usize) -> [&'a [u8]; 3] {
        [0, 1, 2].map(|p| &self.planes[p][y * self.strides[p]..])
    }
}

impl BgrRows for Yuv444Planes<'_> {
    fn planar_row(&mut self, y: usize, width: usize, out: &mut [u8], stride: usize) -> bool {
        if !simd::wide() {
            return false;
        }
        simd::yuv444_row_to_planar(self.coefficients, self.rows(y), width, out, stride);
        true
    }

    fn gather(&mut self, y: usize, cols: &[usize], out: &mut [u8]) {
        let [luma, u_row, v_row] = self.rows(y);
        for (px, &x) in out.chunks_exact_mut(3).zip(cols) {
            px.copy_from_slice(&bgr(self.coefficients, luma[x], u_row[x], v_row[x]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::conversion_check::{assert_row_converts, swscale_bgr};

    #[test]
    fn coefficients_match_swscale() {
        // c->yuv2rgb_y_offset, _y_coeff, _v2r, _v2g, _u2g, _u2b for BT.601 limited range.
        let expected =
            FullCoefficients { y_offset: 8192, y_coeff: 9539, v2r: 13075, v2g: -6660, u2g: -3209, u2b: 16525 };
        assert_eq!(LIMITED, expected);
        assert_eq!((FULL.y_offset, FULL.y_coeff), (0, 8192));
    }

    /// Every (Y, U, V) in one 4096x4096 frame, converted by swscale the way OpenCV does (same size, bicubic) and
    /// pixel by pixel here: planar rows at every kernel level, and gathered pixels.
    #[test]
    fn every_yuv_triple_gives_the_bytes_of_swscale() {
        const SIDE: u32 = 4096;
        for format in [Pixel::YUV444P, Pixel::YUVJ444P] {
            let mut frame = VideoFrame::new(format, SIDE, SIDE);
            for plane in 0..3 {
                let stride = frame.stride(plane);
                let shift = 8 * plane;
                let data = frame.data_mut(plane);
                for i in 0..(SIDE * SIDE) as usize {
                    let (row, col) = (i / SIDE as usize, i % SIDE as usize);
                    data[row * stride + col] = (i >> shift) as u8;
                }
            }
            let converted = swscale_bgr(&frame);
            let width = SIDE as usize;
            let mut planes = Yuv444Planes::new(&frame).expect("4:4:4");
            for y in 0..SIDE as usize {
                let expected = &converted.data(0)[y * converted.stride(0)..][..3 * width];
                // Planar rows on every 256th row, with a tail shorter than a vector: width - 5.
                let planar_width = (y % 256 == 0).then_some(width - 5);
                assert_row_converts(&mut planes, y, expected, planar_width, &format!("{format:?}"));
            }
        }
    }
}
