//! BGR24 -> HSV exactly like OpenCV's 8-bit `cv2.cvtColor(img, cv2.COLOR_BGR2HSV)` (H in 0..180, S and V in
//! 0..256), with OpenCV's fixed-point division tables, so every value is bit-exact.

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
        let n = width * height;
        debug_assert_eq!(bgr.len(), n * 3);
        self.width = width;
        self.height = height;
        self.hue.resize(n, 0);
        self.sat.resize(n, 0);
        self.val.resize(n, 0);
        let planes = self.hue.iter_mut().zip(self.sat.iter_mut()).zip(self.val.iter_mut());
        for (((h, s), v), px) in planes.zip(bgr.chunks_exact(3)) {
            (*h, *s, *v) = bgr_pixel_to_hsv(px[0], px[1], px[2]);
        }
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
