//! swscale's vertical chroma filter for 4:2:0 frames of odd height converted to packed RGB at the same size: its
//! `initFilter` (libswscale 5.1, `utils.c`) ported for the bicubic case: taps and weights in 64-bit fixed point,
//! near-zero taps trimmed, the size aligned, taps moved inside the plane, weights normalised with error diffusion.
//! Used by [`crate::scene::odd_height`].

/// swscale's `SWS_MAX_REDUCE_CUTOFF`: filter taps whose weights sum below this share are dropped.
const MAX_REDUCE_CUTOFF: f64 = 0.002;

/// The vertical chroma filter: per output row, the first chroma row it reads and `size` 12-bit weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChromaFilter {
    size: usize,
    pos: Vec<usize>,
    weights: Vec<i16>,
}

/// swscale's `ROUNDED_DIV`.
fn rounded_div(a: i64, b: i64) -> i64 {
    if a >= 0 { (a + (b >> 1)) / b } else { (a - (b >> 1)) / b }
}

impl ChromaFilter {
    /// The filter swscale builds for the chroma of a 4:2:0 frame `height` rows high (odd) converted to packed RGB
    /// at the same size: `initFilter` with `SWS_BICUBIC`, x86's filter alignment of 2, 12-bit weights, and the
    /// default chroma positions (`get_local_pos`: 128 for the source's subsampled rows and for the output's).
    pub fn new(height: usize) -> Self {
        let (src, dst) = (height.div_ceil(2) as i64, height as i64);
        let x_inc = ((src << 16) + (dst >> 1)) / dst;
        init_filter(x_inc, src, dst, 2, 1 << 12, 128, 128)
    }

    /// Taps per output row.
    pub fn taps(&self) -> usize {
        self.size
    }

    /// The first chroma row and the weights of output row `y`.
    pub fn row(&self, y: usize) -> (usize, &[i16]) {
        (self.pos[y], &self.weights[y * self.size..(y + 1) * self.size])
    }
}

/// swscale's `initFilter` for `SWS_BICUBIC` with default parameters, without source or destination vectors, for a
/// scaled (not identity) filter: taps and weights from 64-bit fixed point, near-zero taps trimmed, the size
/// aligned, taps moved inside the source, weights normalised to `one` with error diffusion.
fn init_filter(x_inc: i64, src_w: i64, dst_w: i64, align: i64, one: i64, src_pos: i64, dst_pos: i64) -> ChromaFilter {
    let n = dst_w as usize;
    let log2 = |v: i64| if v <= 1 { 0 } else { 63 - i64::from(v.leading_zeros()) };
    let fone: i64 = 1 << (54 - log2(src_w / dst_w).min(8));
    // Bicubic: B = 0, C = 0.6 (as swscale truncates it to 24-bit fixed point).
    let (b, c): (i64, i64) = (0, (0.6f64 * f64::from(1 << 24)) as i64);
    let size_factor = 4;
    let mut size = if x_inc <= 1 << 16 { 1 + size_factor } else { 1 + (size_factor * src_w + dst_w - 1) / dst_w };
    size = size.min(src_w - 2).max(1);
    let fs = size as usize;
    let mut filter = vec![0i64; n * fs];
    let mut pos = vec![0i64; n];
    let mut x_dst_in_src = ((dst_pos * x_inc) >> 7) - ((src_pos * 0x10000) >> 7);
    for i in 0..n {
        pos[i] = (x_dst_in_src - (size - 2) * (1 << 16)) / (1 << 17);
        for (j, xx) in (pos[i]..).take(fs).enumerate() {
            let mut d = (xx * (1 << 17) - x_dst_in_src).abs() << 13;
            if x_inc > 1 << 16 {
                d = d * dst_w / src_w;
            }
            let coeff = if d >= 1 << 31 {
                0
            } else {
                let dd = (d * d) >> 30;
                let ddd = (dd * d) >> 30;
                if d < 1 << 30 {
                    (12 * (1 << 24) - 9 * b - 6 * c) * ddd
                        + (-18 * (1 << 24) + 12 * b + 6 * c) * dd
                        + (6 * (1 << 24) - 2 * b) * (1 << 30)
                } else {
                    (-b - 6 * c) * ddd + (6 * b + 30 * c) * dd + (-12 * b - 48 * c) * d + (8 * b + 24 * c) * (1 << 30)
                }
            };
            filter[i * fs + j] = coeff / ((1i64 << 54) / fone);
        }
        x_dst_in_src += 2 * x_inc;
    }

    // Trim near-zero taps: shift each filter left past them, then find the longest non-negligible length.
    let cutoff = MAX_REDUCE_CUTOFF * fone as f64;
    let mut min_size = 0;
    for i in (0..n).rev() {
        let row = &mut filter[i * fs..(i + 1) * fs];
        let mut sum = 0i64;
        for _ in 0..fs {
            sum += row[0].abs();
            if sum as f64 > cutoff || (i < n - 1 && pos[i] >= pos[i + 1]) {
                break;
            }
            row.copy_within(1.., 0);
            row[fs - 1] = 0;
            pos[i] += 1;
        }
        let (mut sum, mut len) = (0i64, fs);
        for j in (1..fs).rev() {
            sum += row[j].abs();
            if sum as f64 > cutoff {
                break;
            }
            len -= 1;
        }
        min_size = min_size.max(len);
    }
    // MMX's special case for an unscaled vertical filter.
    let align = if min_size == 1 && align == 2 { 1 } else { align as usize };
    let out_size = (min_size + align - 1) & !(align - 1);
    let mut sized = vec![0i64; n * out_size];
    for i in 0..n {
        for j in 0..out_size.min(fs) {
            sized[i * out_size + j] = filter[i * fs + j];
        }
    }

    // Move taps outside the source inside it.
    let src = src_w;
    for i in 0..n {
        let row = &mut sized[i * out_size..(i + 1) * out_size];
        if pos[i] < 0 {
            for j in 1..out_size {
                let left = (j as i64 + pos[i]).max(0) as usize;
                row[left] += row[j];
                row[j] = 0;
            }
            pos[i] = 0;
        }
        if pos[i] + out_size as i64 > src {
            let shift = pos[i] + (out_size as i64 - src).min(0);
            let mut acc = 0;
            for j in (0..out_size).rev() {
                if pos[i] + j as i64 >= src {
                    acc += row[j];
                    row[j] = 0;
                }
            }
            for j in (0..out_size).rev() {
                row[j] = if (j as i64) < shift { 0 } else { row[(j as i64 - shift) as usize] };
            }
            pos[i] -= shift;
            row[(src - 1 - pos[i]) as usize] += acc;
        }
    }

    // Normalise to `one`, carrying each tap's rounding error to the next.
    let mut weights = vec![0i16; n * out_size];
    for i in 0..n {
        let row = &sized[i * out_size..(i + 1) * out_size];
        let sum = ((row.iter().sum::<i64>() + one / 2) / one).max(1);
        let mut error = 0;
        for (j, &tap) in row.iter().enumerate() {
            let v = tap + error;
            let int_v = rounded_div(v, sum);
            weights[i * out_size + j] = int_v as i16;
            error = v - int_v * sum;
        }
    }
    ChromaFilter { size: out_size, pos: pos.into_iter().map(|p| p as usize).collect(), weights }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_reads_inside_the_chroma_plane_and_sums_to_one() {
        for height in [5, 7, 9, 405, 1081] {
            let filter = ChromaFilter::new(height);
            let rows = height.div_ceil(2);
            assert!(filter.size <= 8, "{height}: {} taps", filter.size);
            for y in 0..height {
                let (first, weights) = filter.row(y);
                assert!(first + weights.len() <= rows, "{height}: row {y} reads past the plane");
                assert_eq!(weights.iter().map(|&w| i32::from(w)).sum::<i32>(), 4096, "{height}: row {y}");
            }
        }
    }
}
