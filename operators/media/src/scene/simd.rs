//! The scene detector's per-pixel kernels with run-time CPU-feature dispatch: on x86-64 CPUs with AVX-512 (F and
//! BW) or AVX2, 4:2:0 rows convert to planar B/G/R with swscale's arithmetic, the horizontal resize pass reads
//! them with byte shuffles and `madd` (packed rows with gathers), the vertical pass runs OpenCV's 16-bit lanes, and
//! HSV and the frame deltas are their portable bodies compiled for the wider vectors. Elsewhere the portable code
//! runs. Every kernel is integer arithmetic or correctly rounded `f32` division, so each level gives the same
//! bytes: tests run every level the CPU has against the portable code (`tests::with_each_level`).
//!
//! The only module of the crate with `unsafe`: calling `#[target_feature]` functions (sound once the feature is
//! detected) and the pointer-based loads, gathers and stores of the kernels (bounds asserted before each).
#![allow(unsafe_code)]

use crate::scene::content::abs_diff_sum_portable;
use crate::scene::hsv::planar_bgr_to_hsv_portable;
use crate::scene::odd_height::mmx_row_to_planar_portable;
use crate::scene::planar::{GROUP, PlanarTaps, WIDE_GROUP, Windows, horizontal_planar_portable};
use crate::scene::resize::{RowTaps, horizontal_row_portable, vertical_portable};
use crate::scene::yuv::Coefficients;
use crate::scene::yuv444::{FullCoefficients, yuv444_row_to_planar_portable};

/// Bytes the SIMD horizontal pass may read past a pixel's first byte: it loads 4 bytes from each channel.
pub(crate) const LOAD_PAD: usize = 4;

/// The kernels a CPU can run, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Portable,
    Avx2,
    /// AVX-512 F and BW.
    Avx512,
    /// AVX-512 F, BW and VBMI (byte permutes across a whole vector).
    Avx512Vbmi,
}

/// The widest kernels this CPU runs (in tests, at most the level `tests::with_each_level` holds the calling
/// thread to).
pub fn level() -> Level {
    let detected = detected_level();
    #[cfg(test)]
    let detected = detected.min(tests::cap());
    detected
}

/// The widest kernels this CPU runs, detected once.
fn detected_level() -> Level {
    static LEVEL: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(detect)
}

fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected;
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") {
            if is_x86_feature_detected!("avx512vbmi") {
                return Level::Avx512Vbmi;
            }
            return Level::Avx512;
        }
        if is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
    }
    Level::Portable
}

/// Whether whole rows convert and resize on vectors at least 256 bits wide.
pub fn wide() -> bool {
    level() >= Level::Avx2
}

/// Defines a kernel that is a portable body (`#[inline(always)]`) compiled three times: for AVX-512 (F and BW),
/// for AVX2 and as it is; the widest the CPU runs is called.
macro_rules! widened {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? = $portable:path;) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw")]
                #[allow(clippy::too_many_arguments)]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $portable($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $portable($($arg),*)
                }
                if level() >= Level::Avx512 {
                    // SAFETY: the CPU has AVX-512 F and BW (checked just above), the only precondition of `avx512`.
                    return unsafe { avx512($($arg),*) };
                }
                if level() >= Level::Avx2 {
                    // SAFETY: the CPU has AVX2 (checked just above), the only precondition of `avx2`.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $portable($($arg),*)
        }
    };
}

widened! {
    /// HSV of planar BGR bytes (see [`crate::scene::hsv::planar_bgr_to_hsv`]).
    pub(crate) fn planar_bgr_to_hsv(bgr: [&[u8]; 3], hue: &mut [u8], sat: &mut [u8], val: &mut [u8])
        = planar_bgr_to_hsv_portable;
}

widened! {
    /// Sum of `|a - b|` over two equally long byte planes.
    pub(crate) fn abs_diff_sum(a: &[u8], b: &[u8]) -> u64 = abs_diff_sum_portable;
}

widened! {
    /// Converts pixels `0..width` of a 4:4:4 row (its Y, U and V rows) to planar B, G and R bytes (`out[0..]`,
    /// `out[stride..]`, `out[2 * stride..]`) with swscale's full-chroma arithmetic.
    pub(crate) fn yuv444_row_to_planar(
        coefficients: &FullCoefficients,
        rows: [&[u8]; 3],
        width: usize,
        out: &mut [u8],
        stride: usize,
    ) = yuv444_row_to_planar_portable;
}

widened! {
    /// Converts pixels `0..width` (even) of an odd-height 4:2:0 frame's row with swscale's MMX output stage (see
    /// [`mmx_row_to_planar_portable`]).
    pub(crate) fn odd_height_row_to_planar(
        coefficients: &Coefficients,
        luma: &[u8],
        chroma: [&[&[u8]]; 2],
        weights: &[i16],
        width: usize,
        out: &mut [u8],
        stride: usize,
        scratch: &mut [i16],
    ) = mmx_row_to_planar_portable;
}

/// OpenCV's vertical resize pass of one output row (see [`vertical_portable`]).
pub(crate) fn vertical(out: &mut [u8], s0: &[i16], s1: &[i16], b0: i16, b1: i16) {
    #[cfg(target_arch = "x86_64")]
    if level() >= Level::Avx2 {
        // SAFETY: the CPU has AVX2 (checked just above), the only precondition of this target-feature function.
        return unsafe { x86::vertical(out, s0, s1, b0, b1) };
    }
    vertical_portable(out, s0, s1, b0, b1);
}

/// OpenCV's horizontal resize pass of one packed BGR row into planar 16-bit values (see
/// [`horizontal_row_portable`]).
pub(crate) fn horizontal_row(src: &[u8], taps: &RowTaps, out: &mut [i16]) {
    #[cfg(target_arch = "x86_64")]
    if level() >= Level::Avx2 && taps.adjacent {
        // SAFETY: the CPU has AVX2 (checked just above), the only precondition of this target-feature function.
        let done = unsafe { x86::horizontal_row(src, taps, out) };
        return horizontal_row_portable(src, &taps.taps, done, out);
    }
    horizontal_row_portable(src, &taps.taps, 0, out);
}

/// The horizontal resize pass of a planar row (see [`horizontal_planar_portable`]).
pub(crate) fn horizontal_planar(planes: &[u8], stride: usize, taps: &PlanarTaps, out: &mut [i16]) {
    #[cfg(target_arch = "x86_64")]
    if level() >= Level::Avx512Vbmi && taps.wide_windowed() {
        // SAFETY: the CPU has AVX-512 F, BW and VBMI (checked just above), the only precondition of this function.
        let done = unsafe { x86::horizontal_planar_vbmi(planes, stride, taps, out) };
        return horizontal_planar_portable(planes, stride, taps, done, out);
    }
    #[cfg(target_arch = "x86_64")]
    if level() >= Level::Avx512 && taps.windowed() {
        // SAFETY: the CPU has AVX-512 F and BW (checked just above), the only precondition of this function.
        let done = unsafe { x86::horizontal_planar_512(planes, stride, taps, out) };
        return horizontal_planar_portable(planes, stride, taps, done, out);
    }
    #[cfg(target_arch = "x86_64")]
    if level() >= Level::Avx2 && taps.windowed() {
        // SAFETY: the CPU has AVX2 (checked just above), the only precondition of this target-feature function.
        let done = unsafe { x86::horizontal_planar(planes, stride, taps, out) };
        return horizontal_planar_portable(planes, stride, taps, done, out);
    }
    horizontal_planar_portable(planes, stride, taps, 0, out);
}

/// Converts the leading pixels of a 4:2:0 row (luma row, and the chroma rows it uses) to planar B, G and R bytes
/// (`out[0..]`, `out[stride..]`, `out[2 * stride..]`) with swscale's arithmetic; returns how many it converted
/// (the caller converts the rest). 0 without AVX2.
pub(crate) fn yuv420_row_to_planar(
    coefficients: &Coefficients,
    rows: [&[u8]; 3],
    width: usize,
    out: &mut [u8],
    stride: usize,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if level() >= Level::Avx512 {
        // SAFETY: the CPU has AVX-512 F and BW (checked just above), the only precondition of this function.
        return unsafe { x86::yuv420_row_to_planar_512(coefficients, rows, width, out, stride) };
    }
    #[cfg(target_arch = "x86_64")]
    if level() >= Level::Avx2 {
        // SAFETY: the CPU has AVX2 (checked just above), the only precondition of this target-feature function.
        return unsafe { x86::yuv420_row_to_planar(coefficients, rows, width, out, stride) };
    }
    let _ = (coefficients, rows, width, out, stride);
    0
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::*;

    /// The vertical pass 16 values at a time as OpenCV's SIMD does it (`pmulhw`, add, rounding shift, unsigned
    /// saturation), the tail in portable code. Compiling the portable body for AVX2 loses its `pmulhw` (the
    /// compiler widens to 32 bits), hence explicit instructions.
    #[target_feature(enable = "avx2")]
    pub fn vertical(out: &mut [u8], s0: &[i16], s1: &[i16], b0: i16, b1: i16) {
        let n = out.len();
        assert!(s0.len() >= n && s1.len() >= n);
        let body = n - n % 16;
        let (w0, w1, two) = (_mm256_set1_epi16(b0), _mm256_set1_epi16(b1), _mm256_set1_epi16(2));
        for i in (0..body).step_by(16) {
            // SAFETY: `i + 16 <= body <= n <= s0.len(), s1.len()`: both 32-byte loads are inside the slices.
            let (a, b) = unsafe {
                (
                    _mm256_loadu_si256(s0.as_ptr().add(i).cast::<__m256i>()),
                    _mm256_loadu_si256(s1.as_ptr().add(i).cast::<__m256i>()),
                )
            };
            let sum = _mm256_add_epi16(_mm256_add_epi16(_mm256_mulhi_epi16(a, w0), _mm256_mulhi_epi16(b, w1)), two);
            let shifted = _mm256_srai_epi16::<2>(sum);
            let bytes = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(shifted, shifted));
            // SAFETY: 16 bytes at `i`, `i + 16 <= n = out.len()`; unaligned store.
            unsafe { _mm_storeu_si128(out.as_mut_ptr().add(i).cast(), _mm256_castsi256_si128(bytes)) };
        }
        vertical_portable(&mut out[body..], &s0[body..n], &s1[body..n], b0, b1);
    }

    /// Output pixels per step.
    const LANES: usize = 8;

    /// The output pixels of a planar pass over `windows` (one of `taps`' layouts) and how many of them whole blocks
    /// of `block` cover, after checking what the kernels' unchecked loads and stores rely on.
    fn planar_blocks<const BYTES: usize, const LANES: usize>(
        planes: &[u8],
        stride: usize,
        taps: &PlanarTaps,
        windows: &Windows<BYTES, LANES>,
        out: &[i16],
        block: usize,
    ) -> (usize, usize) {
        let n = taps.len();
        let body = n - n % block;
        let groups = body / (BYTES / 4);
        assert!(out.len() >= 3 * n && planes.len() >= 3 * stride);
        assert!(windows.bases.len() >= groups && windows.controls.len() >= groups && windows.weights.len() >= groups);
        // Every window ends inside its plane's padded row (bases ascend: `PlanarTaps::windowed`/`wide_windowed`).
        assert!(groups == 0 || windows.bases[groups - 1] as usize + BYTES <= stride);
        (n, body)
    }

    /// Output pixels per step of the planar pass: 4 groups, two per 256-bit shuffle.
    const BLOCK: usize = 4 * GROUP;

    /// The planar horizontal pass in blocks of 16 output pixels; returns how many it did (the rest are left to
    /// the portable pass). Per group of 4: one 16-byte load at the group's base column, one shuffle into 16-bit
    /// `(first, second)` pairs, one `madd` with the weight pairs.
    #[target_feature(enable = "avx2")]
    pub fn horizontal_planar(planes: &[u8], stride: usize, taps: &PlanarTaps, out: &mut [i16]) -> usize {
        let (n, body) = planar_blocks(planes, stride, taps, &taps.narrow, out, BLOCK);
        // The same taps for the three planes: each pair of groups' shuffle and weights is loaded once.
        let layout = |g: usize| {
            // SAFETY: `g + 1 < groups` indexes `controls` and `weights`, whose entries are 16 contiguous bytes each,
            // so each 32-byte load covers entries `g` and `g + 1`. Unaligned loads are allowed.
            unsafe {
                (
                    _mm256_loadu_si256(taps.narrow.controls.as_ptr().add(g).cast::<__m256i>()),
                    _mm256_loadu_si256(taps.narrow.weights.as_ptr().add(g).cast::<__m256i>()),
                )
            }
        };
        let half = |plane: &[u8], g: usize, (control, weights): (__m256i, __m256i)| {
            // SAFETY: `base + 16 <= stride = plane.len()` (asserted above) for both windows. Unaligned loads.
            let window = unsafe {
                _mm256_loadu2_m128i(
                    plane.as_ptr().add(taps.narrow.bases[g + 1] as usize).cast::<__m128i>(),
                    plane.as_ptr().add(taps.narrow.bases[g] as usize).cast::<__m128i>(),
                )
            };
            _mm256_srai_epi32::<4>(_mm256_madd_epi16(_mm256_shuffle_epi8(window, control), weights))
        };
        for block in (0..body).step_by(BLOCK) {
            let g = block / GROUP;
            let (low_taps, high_taps) = (layout(g), layout(g + 2));
            for channel in 0..3 {
                let plane = &planes[channel * stride..(channel + 1) * stride];
                let (low, high) = (half(plane, g, low_taps), half(plane, g + 2, high_taps));
                // packs interleaves 128-bit lanes: [low 0-3, high 0-3 | low 4-7, high 4-7]; reorder to pixel order.
                let values = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(low, high));
                let at = channel * n + block;
                assert!(at + BLOCK <= out.len());
                // SAFETY: 16 i16 (32 bytes) at `at`, checked just above to be inside `out`; unaligned store.
                unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(at).cast(), values) };
            }
        }
        body
    }

    /// Output pixels per step of the AVX-512 planar pass: 8 groups, four per 512-bit shuffle.
    const BLOCK_512: usize = 8 * GROUP;

    /// [`horizontal_planar`] on 512-bit vectors: 32 output pixels per step.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub fn horizontal_planar_512(planes: &[u8], stride: usize, taps: &PlanarTaps, out: &mut [i16]) -> usize {
        let (n, body) = planar_blocks(planes, stride, taps, &taps.narrow, out, BLOCK_512);
        // packs leaves [low 0-3, high 0-3] per 128-bit lane; these 64-bit lanes put the pixels back in order.
        let order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
        // The same taps for the three planes: each four groups' shuffle and weights are loaded once.
        let layout = |g: usize| {
            // SAFETY: `g + 3 < groups` indexes `controls` and `weights`, whose entries are 16 contiguous bytes each,
            // so each 64-byte load covers entries `g..g + 4`. Unaligned loads are allowed.
            unsafe {
                (
                    _mm512_loadu_si512(taps.narrow.controls.as_ptr().add(g).cast()),
                    _mm512_loadu_si512(taps.narrow.weights.as_ptr().add(g).cast()),
                )
            }
        };
        let quarter = |plane: &[u8], g: usize, (control, weights): (__m512i, __m512i)| {
            // SAFETY: `base + 16 <= stride = plane.len()` (asserted above) for the four windows. Unaligned loads.
            let windows = unsafe {
                let window = |i: usize| plane.as_ptr().add(taps.narrow.bases[g + i] as usize).cast::<__m128i>();
                _mm512_inserti64x4::<1>(
                    _mm512_castsi256_si512(_mm256_loadu2_m128i(window(1), window(0))),
                    _mm256_loadu2_m128i(window(3), window(2)),
                )
            };
            _mm512_srai_epi32::<4>(_mm512_madd_epi16(_mm512_shuffle_epi8(windows, control), weights))
        };
        for block in (0..body).step_by(BLOCK_512) {
            let g = block / GROUP;
            let (low_taps, high_taps) = (layout(g), layout(g + 4));
            for channel in 0..3 {
                let plane = &planes[channel * stride..(channel + 1) * stride];
                let values = _mm512_permutexvar_epi64(
                    order,
                    _mm512_packs_epi32(quarter(plane, g, low_taps), quarter(plane, g + 4, high_taps)),
                );
                let at = channel * n + block;
                assert!(at + BLOCK_512 <= out.len());
                // SAFETY: 32 i16 (64 bytes) at `at`, checked just above to be inside `out`; unaligned store.
                unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(at).cast(), values) };
            }
        }
        body
    }

    /// Output pixels per step of the VBMI planar pass: two 64-byte windows.
    const BLOCK_VBMI: usize = 2 * WIDE_GROUP;

    /// The planar horizontal pass with whole-vector byte permutes: per 16 output pixels one 64-byte load at the
    /// group's base column, one `vpermb` into `(first, second)` 16-bit pairs (high bytes zeroed by the mask), one
    /// `madd` with the weight pairs; 32 output pixels per step. Returns how many it did.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub fn horizontal_planar_vbmi(planes: &[u8], stride: usize, taps: &PlanarTaps, out: &mut [i16]) -> usize {
        let (n, body) = planar_blocks(planes, stride, taps, &taps.wide, out, BLOCK_VBMI);
        let order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
        // The same taps for the three planes: each group's permute and weights are loaded once.
        let layout = |g: usize| {
            // SAFETY: `g < groups` indexes `wide.controls` (64 bytes each) and `wide.weights` (32 i16 each), so each
            // 64-byte load is inside its entry. Unaligned loads are allowed.
            unsafe {
                (
                    _mm512_loadu_si512(taps.wide.controls.as_ptr().add(g).cast()),
                    _mm512_loadu_si512(taps.wide.weights.as_ptr().add(g).cast()),
                )
            }
        };
        let group = |plane: &[u8], g: usize, (control, weights): (__m512i, __m512i)| {
            // SAFETY: `base + 64 <= stride = plane.len()` (asserted above, bases ascending). Unaligned load.
            let window = unsafe { _mm512_loadu_si512(plane.as_ptr().add(taps.wide.bases[g] as usize).cast()) };
            let pairs = _mm512_maskz_permutexvar_epi8(0x5555_5555_5555_5555, control, window);
            _mm512_srai_epi32::<4>(_mm512_madd_epi16(pairs, weights))
        };
        for block in (0..body).step_by(BLOCK_VBMI) {
            let g = block / WIDE_GROUP;
            let (first, second) = (layout(g), layout(g + 1));
            for channel in 0..3 {
                let plane = &planes[channel * stride..(channel + 1) * stride];
                let values = _mm512_permutexvar_epi64(
                    order,
                    _mm512_packs_epi32(group(plane, g, first), group(plane, g + 1, second)),
                );
                let at = channel * n + block;
                assert!(at + BLOCK_VBMI <= out.len());
                // SAFETY: 32 i16 (64 bytes) at `at`, checked just above to be inside `out`; unaligned store.
                unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(at).cast(), values) };
            }
        }
        body
    }

    /// [`yuv420_row_to_planar`] on 512-bit vectors: 32 pixels per step.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub fn yuv420_row_to_planar_512(
        c: &Coefficients,
        rows: [&[u8]; 3],
        width: usize,
        out: &mut [u8],
        stride: usize,
    ) -> usize {
        const STEP: usize = 32;
        let body = yuv_blocks(rows, width, out, stride, STEP);
        let [luma, u, v] = rows;
        let (y_offset, y_coeff) = (_mm512_set1_epi16(c.y_offset), _mm512_set1_epi16(c.y_coeff));
        let (ub, ug, vg, vr) =
            (_mm512_set1_epi16(c.ub), _mm512_set1_epi16(c.ug), _mm512_set1_epi16(c.vg), _mm512_set1_epi16(c.vr));
        let (chroma_offset, zero) = (_mm512_set1_epi16(0x400), _mm512_setzero_si512());
        // Each chroma sample serves two neighbouring pixels: lane i takes sample i / 2.
        let pairs: [i16; 32] = std::array::from_fn(|i| (i / 2) as i16);
        // SAFETY: 64 bytes from a 32-element i16 array; unaligned load.
        let duplicate = unsafe { _mm512_loadu_si512(pairs.as_ptr().cast()) };
        for x in (0..body).step_by(STEP) {
            // SAFETY: `x + 32 <= body <= luma.len()` and `x / 2 + 16 <= body / 2 <= u.len(), v.len()`: the 32- and
            // 16-byte loads are inside the rows. Unaligned loads are allowed.
            let (y16, u16s, v16s) = unsafe {
                let chroma = |row: &[u8]| {
                    let bytes = _mm256_zextsi128_si256(_mm_loadu_si128(row.as_ptr().add(x / 2).cast::<__m128i>()));
                    _mm512_permutexvar_epi16(duplicate, _mm512_cvtepu8_epi16(bytes))
                };
                (_mm512_cvtepu8_epi16(_mm256_loadu_si256(luma.as_ptr().add(x).cast::<__m256i>())), chroma(u), chroma(v))
            };
            let l = _mm512_mulhi_epi16(_mm512_sub_epi16(_mm512_slli_epi16::<3>(y16), y_offset), y_coeff);
            let uc = _mm512_sub_epi16(_mm512_slli_epi16::<3>(u16s), chroma_offset);
            let vc = _mm512_sub_epi16(_mm512_slli_epi16::<3>(v16s), chroma_offset);
            let b = _mm512_add_epi16(l, _mm512_mulhi_epi16(uc, ub));
            let g = _mm512_add_epi16(_mm512_add_epi16(l, _mm512_mulhi_epi16(uc, ug)), _mm512_mulhi_epi16(vc, vg));
            let r = _mm512_add_epi16(l, _mm512_mulhi_epi16(vc, vr));
            for (plane, value) in [b, g, r].into_iter().enumerate() {
                // Clamped at 0, then narrowed with unsigned saturation at 255: `packuswb`'s bytes, in order.
                let bytes = _mm512_cvtusepi16_epi8(_mm512_max_epi16(value, zero));
                let at = plane * stride + x;
                // SAFETY: 32 bytes at `plane * stride + x` with `x + 32 <= body <= stride` and `out.len() >=
                // 2 * stride + body` (asserted above): inside `out`. Unaligned store.
                unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(at).cast(), bytes) };
            }
        }
        body
    }

    /// The leading pixels of a 4:2:0 row that whole steps of `step` pixels convert: within `width`, the luma row
    /// and twice the chroma rows (each sample serves two pixels), and `out`'s planes `stride` bytes apart.
    fn yuv_blocks(rows: [&[u8]; 3], width: usize, out: &[u8], stride: usize, step: usize) -> usize {
        let [luma, u, v] = rows;
        let pixels = width.min(luma.len()).min(2 * u.len().min(v.len()));
        let body = pixels - pixels % step;
        assert!(out.len() >= 2 * stride + body && stride >= body);
        body
    }

    /// Pixels per step of the 4:2:0 conversion.
    const PIXELS: usize = 16;

    /// swscale's 4:2:0 -> BGR arithmetic on 16 pixels at a time: `(Y << 3) - offset` times the luma coefficient
    /// and `(C << 3) - 0x400` times each chroma coefficient, high 16 bits of each product (`pmulhw`), summed and
    /// saturated to bytes — the same values [`super::super::yuv`]'s tables hold.
    #[target_feature(enable = "avx2")]
    pub fn yuv420_row_to_planar(
        c: &Coefficients,
        rows: [&[u8]; 3],
        width: usize,
        out: &mut [u8],
        stride: usize,
    ) -> usize {
        let body = yuv_blocks(rows, width, out, stride, PIXELS);
        let [luma, u, v] = rows;
        let (y_offset, y_coeff) = (_mm256_set1_epi16(c.y_offset), _mm256_set1_epi16(c.y_coeff));
        let (ub, ug, vg, vr) =
            (_mm256_set1_epi16(c.ub), _mm256_set1_epi16(c.ug), _mm256_set1_epi16(c.vg), _mm256_set1_epi16(c.vr));
        let chroma_offset = _mm256_set1_epi16(0x400);
        for x in (0..body).step_by(PIXELS) {
            // SAFETY: `x + 16 <= body <= luma.len()` and `x / 2 + 8 <= body / 2 <= u.len(), v.len()`: the 16- and
            // 8-byte loads are inside the rows. Unaligned loads are allowed.
            let (y16, u8s, v8s) = unsafe {
                (
                    _mm256_cvtepu8_epi16(_mm_loadu_si128(luma.as_ptr().add(x).cast::<__m128i>())),
                    _mm_loadl_epi64(u.as_ptr().add(x / 2).cast::<__m128i>()),
                    _mm_loadl_epi64(v.as_ptr().add(x / 2).cast::<__m128i>()),
                )
            };
            // Each chroma sample serves two neighbouring pixels.
            let widen = |c8: __m128i| {
                let c16 = _mm_unpacklo_epi8(c8, _mm_setzero_si128());
                _mm256_set_m128i(_mm_unpackhi_epi16(c16, c16), _mm_unpacklo_epi16(c16, c16))
            };
            let l = _mm256_mulhi_epi16(_mm256_sub_epi16(_mm256_slli_epi16::<3>(y16), y_offset), y_coeff);
            let uc = _mm256_sub_epi16(_mm256_slli_epi16::<3>(widen(u8s)), chroma_offset);
            let vc = _mm256_sub_epi16(_mm256_slli_epi16::<3>(widen(v8s)), chroma_offset);
            let b = _mm256_add_epi16(l, _mm256_mulhi_epi16(uc, ub));
            let g = _mm256_add_epi16(_mm256_add_epi16(l, _mm256_mulhi_epi16(uc, ug)), _mm256_mulhi_epi16(vc, vg));
            let r = _mm256_add_epi16(l, _mm256_mulhi_epi16(vc, vr));
            for (plane, value) in [b, g, r].into_iter().enumerate() {
                let bytes = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(value, value));
                let at = plane * stride + x;
                // SAFETY: 16 bytes at `plane * stride + x` with `x + 16 <= body <= stride` and `out.len() >=
                // 2 * stride + body` (asserted above): inside `out`. Unaligned store.
                unsafe { _mm_storeu_si128(out.as_mut_ptr().add(at).cast(), _mm256_castsi256_si128(bytes)) };
            }
        }
        body
    }

    /// The horizontal pass for the leading output pixels whose 4-byte loads stay inside `src`, 8 at a time;
    /// returns how many it did. Per channel: one gather loads the 4 bytes at each pixel's first offset (its value,
    /// then the next pixel's same channel 3 bytes on), the two bytes become a 16-bit pair, and `madd` with the
    /// pair of weights gives `p * w0 + q * w1`, exactly the portable sum (a tap without a second weight reads a
    /// neighbour times 0).
    #[target_feature(enable = "avx2")]
    pub fn horizontal_row(src: &[u8], taps: &RowTaps, out: &mut [i16]) -> usize {
        let n = taps.taps.len();
        assert!(out.len() >= 3 * n && taps.firsts.len() == n && taps.pairs.len() == n);
        // Offsets ascend with the output pixel, so the safe ones are a prefix.
        let safe = taps.firsts.partition_point(|&first| first as usize + 2 + LOAD_PAD <= src.len());
        let body = safe - safe % LANES;
        let (low_byte, third_byte) = (_mm256_set1_epi32(0xFF), _mm256_set1_epi32(0xFF_0000));
        for i in (0..body).step_by(LANES) {
            // SAFETY: `i + 8 <= body <= n` and `firsts`/`pairs` hold `n` i32 each, so both 32-byte loads are in
            // bounds (unaligned loads are allowed).
            let (firsts, weights) = unsafe {
                (
                    _mm256_loadu_si256(taps.firsts.as_ptr().add(i).cast::<__m256i>()),
                    _mm256_loadu_si256(taps.pairs.as_ptr().add(i).cast::<__m256i>()),
                )
            };
            for channel in 0..3 {
                // SAFETY: every gathered lane reads bytes `first + channel .. first + channel + 4` with
                // `first + 2 + 4 <= src.len()` for the first `safe >= i + 8` pixels, so all reads are inside `src`;
                // gathers with scale 1 need no alignment.
                let loaded = unsafe { _mm256_i32gather_epi32::<1>(src.as_ptr().add(channel).cast::<i32>(), firsts) };
                let pairs = _mm256_or_si256(
                    _mm256_and_si256(loaded, low_byte),
                    _mm256_and_si256(_mm256_srli_epi32::<8>(loaded), third_byte),
                );
                let sums = _mm256_srai_epi32::<4>(_mm256_madd_epi16(pairs, weights));
                // Lanes 0-3 and 4-7 packed to 16 bits sit in the low halves of the two 128-bit lanes; gather them.
                let packed = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(sums, sums));
                let at = channel * n + i;
                assert!(at + LANES <= out.len());
                // SAFETY: 8 i16 (16 bytes) at `at`, checked just above to be inside `out`; unaligned store.
                unsafe { _mm_storeu_si128(out.as_mut_ptr().add(at).cast(), _mm256_castsi256_si128(packed)) };
            }
        }
        body
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use ffmpeg_next::format::Pixel;
    use ffmpeg_next::util::frame::Video as VideoFrame;

    use super::*;
    use crate::scene::planar::PLANAR_PAD;
    use crate::scene::resize::{BgrRows, Resizer};
    use crate::scene::yuv::YuvPlanes;

    thread_local! {
        static CAP: Cell<Level> = const { Cell::new(Level::Avx512Vbmi) };
    }

    /// The widest kernels the calling thread may run.
    pub(crate) fn cap() -> Level {
        CAP.with(Cell::get)
    }

    /// Runs `check` once for each kernel level this CPU has (portable included), with the dispatch held to it
    /// on this thread; `check` gets the level for its messages.
    pub(crate) fn with_each_level(mut check: impl FnMut(Level)) {
        let levels = [Level::Portable, Level::Avx2, Level::Avx512, Level::Avx512Vbmi];
        for level in levels.into_iter().filter(|&l| l <= detected_level()) {
            CAP.with(|cap| cap.set(level));
            check(level);
        }
        CAP.with(|cap| cap.set(Level::Avx512Vbmi));
    }

    #[test]
    fn hsv_equals_the_portable_code_for_every_colour() {
        let n = 1usize << 24;
        let planes: [Vec<u8>; 3] = [0, 8, 16].map(|shift| (0..n as u32).map(|c| (c >> shift) as u8).collect());
        let bgr = [&planes[0][..], &planes[1][..], &planes[2][..]];
        // An odd length covers the tail too.
        let len = n - 7;
        let mut portable = [vec![0u8; len], vec![0u8; len], vec![0u8; len]];
        let [h, s, v] = &mut portable;
        planar_bgr_to_hsv_portable(bgr, h, s, v);
        with_each_level(|level| {
            let mut fast = [vec![0u8; len], vec![0u8; len], vec![0u8; len]];
            let [h, s, v] = &mut fast;
            planar_bgr_to_hsv(bgr, h, s, v);
            assert!(fast == portable, "{level:?}");
        });
    }

    #[test]
    fn abs_diff_and_vertical_equal_the_portable_code() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for len in [0, 1, 15, 16, 17, 255, 1000, 70_001] {
            let a: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let b: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            // Horizontally filtered values are at most 32640; weights at most 2048.
            let s0: Vec<i16> = (0..len).map(|_| rng.random_range(0..=32640)).collect();
            let s1: Vec<i16> = (0..len).map(|_| rng.random_range(0..=32640)).collect();
            let weights = [(2048, 0), (1024, 1024), (1, 2047), (rng.random_range(0..=2048), 0)];
            with_each_level(|level| {
                assert_eq!(abs_diff_sum(&a, &b), abs_diff_sum_portable(&a, &b), "len {len} {level:?}");
                for (b0, b1) in weights {
                    let (mut fast, mut portable) = (vec![0u8; len], vec![0u8; len]);
                    vertical(&mut fast, &s0, &s1, b0, b1);
                    vertical_portable(&mut portable, &s0, &s1, b0, b1);
                    assert_eq!(fast, portable, "len {len} weights {b0} {b1} {level:?}");
                }
            });
        }
    }

    #[test]
    fn planar_horizontal_pass_equals_the_portable_and_packed_passes() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for (src_w, dst_w) in [(480, 256), (1280, 256), (720, 256), (257, 256), (300, 100), (640, 256), (67, 16)] {
            let resizer = Resizer::new(src_w, 4, dst_w, 2);
            let taps = resizer.planar_taps();
            assert!(taps.windowed(), "{src_w} -> {dst_w}");
            // 64-byte windows hold 16 output pixels up to a downscale of about 3.9x.
            assert_eq!(taps.wide_windowed(), src_w < 4 * dst_w, "{src_w} -> {dst_w}");
            let stride = src_w + PLANAR_PAD;
            let planes: Vec<u8> = (0..3 * stride).map(|_| rng.random()).collect();
            let mut portable = vec![0i16; 3 * dst_w];
            horizontal_planar_portable(&planes, stride, taps, 0, &mut portable);
            // The packed pass over the same pixels gives the same values.
            let packed: Vec<u8> = (0..src_w).flat_map(|x| [0, 1, 2].map(|c| planes[c * stride + x])).collect();
            let mut from_packed = vec![0i16; 3 * dst_w];
            horizontal_row_portable(&packed, &resizer.row_taps().taps, 0, &mut from_packed);
            assert_eq!(portable, from_packed, "{src_w} -> {dst_w}");
            with_each_level(|level| {
                let mut fast = vec![0i16; 3 * dst_w];
                horizontal_planar(&planes, stride, taps, &mut fast);
                assert_eq!(fast, portable, "{src_w} -> {dst_w}, {level:?}");
            });
        }
    }

    #[test]
    fn yuv_conversion_equals_the_tables_for_every_value() {
        // Every (U, V) pair under a luma row of every value; 261 pixels leave a tail at every width of step.
        let width = 261;
        let luma: Vec<u8> = (0..width).map(|x| x as u8).collect();
        let stride = width + PLANAR_PAD;
        for full_range in [false, true] {
            let format = if full_range { Pixel::YUVJ420P } else { Pixel::YUV420P };
            let mut frame = VideoFrame::new(format, width as u32, 2);
            let luma_stride = frame.stride(0);
            frame.data_mut(0)[..width].copy_from_slice(&luma);
            frame.data_mut(0)[luma_stride..luma_stride + width].copy_from_slice(&luma);
            for u in 0..=255u8 {
                for v in 0..=255u8 {
                    frame.data_mut(1).fill(u);
                    frame.data_mut(2).fill(v);
                    let mut planes = YuvPlanes::new(&frame).expect("4:2:0");
                    let mut portable = vec![0u8; 3 * stride];
                    planes.planar_row_portable(1, width, 0, &mut portable, stride);
                    with_each_level(|level| {
                        let mut fast = vec![0u8; 3 * stride];
                        if planes.planar_row(1, width, &mut fast, stride) {
                            assert!(fast == portable, "u {u} v {v} full range {full_range} {level:?}");
                        } else {
                            assert_eq!(level, Level::Portable, "only the portable level converts pixel by pixel");
                        }
                    });
                }
            }
        }
    }

    #[test]
    fn horizontal_pass_equals_the_portable_code() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // Downscales by 1.02 to 7.5 (taps with and without a second weight), widths that leave tails, and rows
        // with no padding past the last pixel (the kernel must stop short of the end).
        for (src_w, dst_w) in [(480, 256), (1280, 256), (720, 256), (257, 256), (300, 100), (1920, 256), (61, 8)] {
            let resizer = Resizer::new(src_w, 4, dst_w, 2);
            let taps = resizer.row_taps();
            assert!(taps.adjacent);
            for padding in [0, 1, 7] {
                let row: Vec<u8> = (0..3 * src_w + padding).map(|_| rng.random()).collect();
                let mut portable = vec![0i16; 3 * dst_w];
                horizontal_row_portable(&row, &taps.taps, 0, &mut portable);
                with_each_level(|level| {
                    let mut fast = vec![0i16; 3 * dst_w];
                    horizontal_row(&row, taps, &mut fast);
                    assert_eq!(fast, portable, "{src_w} -> {dst_w}, padding {padding}, {level:?}");
                });
            }
        }
    }
}
