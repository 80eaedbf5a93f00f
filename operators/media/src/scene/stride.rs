//! Fixed-stride splitter: cuts a video into pieces of `stride_s` seconds, whatever its content.

/// Frames where a new piece starts (the first piece starts at 0 and is not listed): every `stride_s` seconds,
/// rounded to the nearest frame, strictly inside `0..frames`.
pub fn stride_cuts(frames: u64, fps: f64, stride_s: f64) -> Vec<u64> {
    if !(fps > 0.0 && stride_s > 0.0) {
        return Vec::new();
    }
    // Never less than a frame, so a tiny stride cannot spin through billions of rounded-away steps.
    let step = (stride_s * fps).max(1.0);
    (1u64..).map(|k| (k as f64 * step).round() as u64).take_while(|&cut| cut < frames).filter(|&cut| cut > 0).fold(
        Vec::new(),
        |mut cuts, cut| {
            if cuts.last() != Some(&cut) {
                cuts.push(cut);
            }
            cuts
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_stride_seconds() {
        assert_eq!(stride_cuts(250, 25.0, 4.0), vec![100, 200]);
        assert_eq!(stride_cuts(200, 25.0, 4.0), vec![100]);
        assert_eq!(stride_cuts(99, 25.0, 4.0), Vec::<u64>::new());
        // NTSC: 10 s at 29.97 fps is 299.7 frames -> 300, 599.4 -> 599.
        assert_eq!(stride_cuts(700, 30000.0 / 1001.0, 10.0), vec![300, 599]);
        assert!(stride_cuts(100, 25.0, 0.0).is_empty());
        // A stride below one frame yields each frame once.
        assert_eq!(stride_cuts(4, 25.0, 0.01), vec![1, 2, 3]);
    }
}
