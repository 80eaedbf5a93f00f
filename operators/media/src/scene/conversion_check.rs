//! Test support for the YUV -> BGR sources: the bytes swscale gives OpenCV for a frame, and the check that a
//! [`BgrRows`] source yields them, gathered and as planar rows at every kernel level.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::scene::resize::BgrRows;
use crate::scene::simd::tests::with_each_level;

/// `frame` converted by swscale the way OpenCV's capture does: BGR24 at the same size, bicubic.
pub(crate) fn swscale_bgr(frame: &VideoFrame) -> VideoFrame {
    let (format, width, height) = (frame.format(), frame.width(), frame.height());
    let mut converted = VideoFrame::empty();
    scaling::Context::get(format, width, height, Pixel::BGR24, width, height, scaling::Flags::BICUBIC)
        .expect("scaler")
        .run(frame, &mut converted)
        .expect("converts");
    converted
}

/// Row `y` of `source` gives `expected` (the row's packed BGR bytes): gathered at every column, and, with
/// `planar_width`, as a planar row of that many leading pixels at every kernel level where the source converts
/// whole rows.
pub(crate) fn assert_row_converts(
    source: &mut impl BgrRows,
    y: usize,
    expected: &[u8],
    planar_width: Option<usize>,
    label: &str,
) {
    let width = expected.len() / 3;
    let cols: Vec<usize> = (0..width).collect();
    let mut gathered = vec![0u8; 3 * width];
    source.gather(y, &cols, &mut gathered);
    assert!(gathered == expected, "{label} row {y}: gathered pixels differ from swscale");
    let Some(width) = planar_width else { return };
    with_each_level(|level| {
        let mut planar = vec![0u8; 3 * width];
        if source.planar_row(y, width, &mut planar, width) {
            let packed: Vec<u8> = (0..width).flat_map(|x| [0, 1, 2].map(|c| planar[c * width + x])).collect();
            assert!(packed == expected[..3 * width], "{label} row {y} {level:?}: planar row differs from swscale");
        }
    });
}
