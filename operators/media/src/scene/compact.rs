//! Row-compacted BGR conversion: for pixel formats whose chroma is not subsampled (4:4:4),
//! swscale's same-size conversion to BGR24 is row-local — each output row depends on its own source row only (the
//! vertical filters are the identity) — so the rows the resizer reads can be copied into a shorter frame and
//! converted alone, with the same bytes as the full conversion (tested against it). At 720p that is 1 row in 5.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::error::MediaError;
use crate::scene::resize::{BgrRows, PackedBgr};

/// Marks a source row the resizer does not read.
const UNREAD: u32 = u32::MAX;

/// Converts only the listed rows of frames of one format and size.
pub struct CompactRows {
    /// Source rows read, ascending.
    rows: Vec<usize>,
    /// Source row -> row of the compact frame (`UNREAD` for the others).
    index: Vec<u32>,
    compact: VideoFrame,
    converted: VideoFrame,
    scaler: scaling::Context,
}

impl CompactRows {
    /// Whether frames of `format` convert row by row (checked for each of these formats by the tests). Not 4:2:2:
    /// swscale's unscaled 4:2:2 converter works on row pairs, so a compacted frame of other parity differs.
    pub fn supports(format: Pixel) -> bool {
        matches!(format, Pixel::YUV444P | Pixel::YUVJ444P)
    }

    /// A converter for `width`x`height` frames of `format` (one that [`Self::supports`]) reading `rows`
    /// (ascending, each `< height`); `None` when every row is read (the full conversion is then as cheap).
    pub fn new(format: Pixel, width: u32, height: u32, rows: Vec<usize>) -> Result<Option<Self>, MediaError> {
        if !Self::supports(format) || rows.is_empty() || rows.len() >= height as usize {
            return Ok(None);
        }
        let mut index = vec![UNREAD; height as usize];
        for (compact, &row) in rows.iter().enumerate() {
            index[row] = compact as u32;
        }
        let compact_height = rows.len() as u32;
        let scaler = scaling::Context::get(
            format,
            width,
            compact_height,
            Pixel::BGR24,
            width,
            compact_height,
            scaling::Flags::BICUBIC,
        )
        .map_err(MediaError::Scale)?;
        Ok(Some(Self {
            rows,
            index,
            compact: VideoFrame::new(format, width, compact_height),
            converted: VideoFrame::empty(),
            scaler,
        }))
    }

    /// The pixel format this converter reads.
    pub fn format(&self) -> Pixel {
        self.compact.format()
    }

    /// Converts the read rows of `frame` (of the format and size given to [`Self::new`]).
    pub fn convert(&mut self, frame: &VideoFrame) -> Result<PackedRows<'_>, MediaError> {
        for plane in 0..frame.planes().min(self.compact.planes()) {
            let (src_stride, dst_stride) = (frame.stride(plane), self.compact.stride(plane));
            let len = src_stride.min(dst_stride);
            let src = frame.data(plane);
            let dst = self.compact.data_mut(plane);
            for (compact, &row) in self.rows.iter().enumerate() {
                dst[compact * dst_stride..][..len].copy_from_slice(&src[row * src_stride..][..len]);
            }
        }
        self.scaler.run(&self.compact, &mut self.converted).map_err(MediaError::Scale)?;
        Ok(PackedRows {
            bgr: PackedBgr { data: self.converted.data(0), stride: self.converted.stride(0) },
            index: &self.index,
        })
    }
}

/// The converted rows, addressed by their source row numbers.
pub struct PackedRows<'a> {
    bgr: PackedBgr<'a>,
    index: &'a [u32],
}

impl PackedRows<'_> {
    fn compact_row(&self, y: usize) -> usize {
        let row = self.index[y];
        assert_ne!(row, UNREAD, "row {y} was not converted");
        row as usize
    }
}

impl BgrRows for PackedRows<'_> {
    fn gather(&mut self, y: usize, cols: &[usize], out: &mut [u8]) {
        let row = self.compact_row(y);
        self.bgr.gather(row, cols, out);
    }

    fn row(&self, y: usize) -> Option<&[u8]> {
        self.bgr.row(self.compact_row(y))
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn random_frame(format: Pixel, width: u32, height: u32, rng: &mut ChaCha8Rng) -> VideoFrame {
        let mut frame = VideoFrame::new(format, width, height);
        for plane in 0..frame.planes() {
            rng.fill(frame.data_mut(plane));
        }
        frame
    }

    #[test]
    fn compacted_rows_equal_the_full_conversion() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for format in [Pixel::YUV444P, Pixel::YUVJ444P] {
            for (width, height) in [(64, 48), (67, 31), (1280, 72), (33, 5), (1919, 9), (2, 3)] {
                let frame = random_frame(format, width, height, &mut rng);
                let mut full = VideoFrame::empty();
                scaling::Context::get(format, width, height, Pixel::BGR24, width, height, scaling::Flags::BICUBIC)
                    .expect("scaler")
                    .run(&frame, &mut full)
                    .expect("full conversion");
                // Every other row, every fifth row, and a single row.
                for step in [2, 5, height as usize] {
                    let rows: Vec<usize> = (1..height as usize).step_by(step).collect();
                    let mut compact =
                        CompactRows::new(format, width, height, rows.clone()).expect("scaler").expect("compacts");
                    let converted = compact.convert(&frame).expect("converts");
                    let row_bytes = 3 * width as usize;
                    for &y in &rows {
                        let expected = &full.data(0)[y * full.stride(0)..][..row_bytes];
                        let got = &converted.row(y).expect("in memory")[..row_bytes];
                        assert!(got == expected, "{format:?} {width}x{height} row {y} of {rows:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_row_local_formats_with_unread_rows_compact() {
        assert!(CompactRows::new(Pixel::YUV420P, 64, 48, vec![1, 3]).expect("no scaler").is_none());
        assert!(CompactRows::new(Pixel::YUV422P, 64, 48, vec![1, 3]).expect("no scaler").is_none());
        assert!(CompactRows::new(Pixel::YUV444P, 4, 2, vec![0, 1]).expect("no scaler").is_none());
        assert!(CompactRows::new(Pixel::YUV444P, 4, 4, vec![0, 1]).expect("scaler").is_some());
    }
}
