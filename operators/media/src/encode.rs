//! `Mp4Writer`: H.264 (libx264, yuv420p) in an mp4 container, fed packed RGB24 buffers (the synthetic video
//! writer) or decoded frames in any pixel format (precise clip cutting); frame `n` gets pts `n` in a 1/fps time base.

use std::path::{Path, PathBuf};

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video as VideoFrame;
use ffmpeg_next::{Dictionary, Packet, Rational, codec, encoder, format};

use crate::error::MediaError;
use crate::probe::init;
use crate::scaler::CachedScaler;

/// How an [`Mp4Writer`] encodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Mp4Settings {
    /// Output size; both are rounded down to even numbers (yuv420p needs them), at least 2.
    pub width: u32,
    pub height: u32,
    /// Frames per second as a rational (`Rational(30000, 1001)` for NTSC).
    pub fps: Rational,
    /// x264 constant rate factor (0 = lossless .. 51).
    pub crf: u32,
    /// x264 preset (`ultrafast` .. `veryslow`).
    pub preset: String,
    /// Largest distance between keyframes in frames; `None` keeps x264's default (250, plus scene-cut keyframes).
    pub gop: Option<u32>,
    /// Put the `moov` index before the media data (readable while truncated or streamed); costs a rewrite.
    pub faststart: bool,
}

impl Mp4Settings {
    /// `width`x`height` at a whole number of frames per second, crf 23, preset `veryfast`, x264's keyframe
    /// interval, no faststart.
    pub fn new(width: u32, height: u32, fps: i32) -> Self {
        Self { width, height, fps: Rational(fps, 1), crf: 23, preset: "veryfast".into(), gop: None, faststart: false }
    }
}

/// An open mp4 file receiving frames; call [`Mp4Writer::finish`] to flush the encoder and write the index.
pub struct Mp4Writer {
    path: PathBuf,
    output: format::context::Output,
    encoder: encoder::Video,
    stream_index: usize,
    encoder_time_base: Rational,
    stream_time_base: Rational,
    width: u32,
    height: u32,
    /// Converter from the last input format/size to yuv420p at the output size.
    scaler: CachedScaler,
    frames: u64,
}

fn even(value: u32) -> u32 {
    (value & !1).max(2)
}

impl Mp4Writer {
    /// Creates (or truncates) `path` and opens the H.264 encoder.
    pub fn create(path: &Path, settings: &Mp4Settings) -> Result<Self, MediaError> {
        init();
        let fail = |what: &str| {
            let what = format!("{what} for {}", path.display());
            move |source| MediaError::Encode { what, source }
        };
        if settings.fps.numerator() <= 0 || settings.fps.denominator() <= 0 {
            return Err(MediaError::Invalid(format!("frame rate {} is not positive", settings.fps)));
        }
        let (width, height) = (even(settings.width), even(settings.height));
        let mut output = format::output_as(path, "mp4").map_err(fail("creating the mp4 file"))?;
        let codec = encoder::find_by_name("libx264")
            .or_else(|| encoder::find(codec::Id::H264))
            .ok_or_else(|| fail("finding an H.264 encoder")(ffmpeg_next::Error::EncoderNotFound))?;
        let global_header = output.format().flags().contains(format::Flags::GLOBAL_HEADER);
        let stream_index = output.add_stream(codec).map_err(fail("adding the video stream"))?.index();

        let encoder_time_base = settings.fps.invert();
        let mut context = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(fail("configuring the H.264 encoder"))?;
        context.set_width(width);
        context.set_height(height);
        context.set_format(Pixel::YUV420P);
        context.set_time_base(encoder_time_base);
        context.set_frame_rate(Some(settings.fps));
        context.set_colorspace(ffmpeg_next::color::Space::SMPTE170M);
        context.set_color_range(ffmpeg_next::color::Range::MPEG);
        if let Some(gop) = settings.gop {
            context.set_gop(gop.max(1));
        }
        if global_header {
            context.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut options = Dictionary::new();
        options.set("crf", &settings.crf.to_string());
        options.set("preset", &settings.preset);
        let encoder = context.open_with(options).map_err(fail("opening the H.264 encoder"))?;
        {
            let mut stream = output
                .stream_mut(stream_index)
                .ok_or_else(|| fail("finding the video stream")(ffmpeg_next::Error::StreamNotFound))?;
            stream.set_parameters(&encoder);
            stream.set_time_base(encoder_time_base);
        }
        let mut muxer_options = Dictionary::new();
        if settings.faststart {
            muxer_options.set("movflags", "+faststart");
        }
        output.write_header_with(muxer_options).map_err(fail("writing the mp4 header"))?;
        let stream_time_base = output.stream(stream_index).map_or(encoder_time_base, |s| s.time_base());
        Ok(Self {
            path: path.to_path_buf(),
            output,
            encoder,
            stream_index,
            encoder_time_base,
            stream_time_base,
            width,
            height,
            scaler: CachedScaler::new(Pixel::YUV420P, width, height, scaling::Flags::BILINEAR),
            frames: 0,
        })
    }

    /// Output width (even).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Output height (even).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one frame given as packed RGB24 rows of `width` x `height` pixels (the input size may differ from
    /// the output size: it is scaled).
    pub fn write_rgb24(&mut self, rgb: &[u8], width: u32, height: u32) -> Result<(), MediaError> {
        let row = width as usize * 3;
        if rgb.len() != row * height as usize {
            return Err(MediaError::Invalid(format!("RGB24 buffer of {} bytes is not {width}x{height}x3", rgb.len())));
        }
        let mut staging = VideoFrame::new(Pixel::RGB24, width, height);
        let stride = staging.stride(0);
        let plane = staging.data_mut(0);
        for (y, src) in rgb.chunks_exact(row).enumerate() {
            plane[y * stride..y * stride + row].copy_from_slice(src);
        }
        self.write_frame(&staging)
    }

    /// Appends one decoded frame in any pixel format and size; it is converted to yuv420p at the output size.
    /// Its own timestamps are ignored: frames are numbered in the order they arrive.
    pub fn write_frame(&mut self, frame: &VideoFrame) -> Result<(), MediaError> {
        // A fresh frame every time: the encoder may still hold a reference to the previous one.
        let mut yuv = VideoFrame::new(Pixel::YUV420P, self.width, self.height);
        self.scaler.run(frame, &mut yuv)?;
        yuv.set_pts(Some(i64::try_from(self.frames).unwrap_or(i64::MAX)));
        yuv.set_kind(ffmpeg_next::picture::Type::None);
        self.encoder.send_frame(&yuv).map_err(|source| self.encode_error("sending a frame", source))?;
        self.frames += 1;
        self.drain()
    }

    fn encode_error(&self, what: &str, source: ffmpeg_next::Error) -> MediaError {
        MediaError::Encode { what: format!("{what} to {}", self.path.display()), source }
    }

    fn drain(&mut self) -> Result<(), MediaError> {
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            if packet.size() == 0 {
                continue;
            }
            packet.set_stream(self.stream_index);
            // x264 leaves durations unset; without them the mp4 edit list would hide the last frame.
            if packet.duration() <= 0 {
                packet.set_duration(1);
            }
            packet.rescale_ts(self.encoder_time_base, self.stream_time_base);
            packet
                .write_interleaved(&mut self.output)
                .map_err(|source| self.encode_error("muxing a packet", source))?;
        }
        Ok(())
    }

    /// Flushes the encoder, writes the mp4 index and closes the file; returns the number of frames written.
    pub fn finish(mut self) -> Result<u64, MediaError> {
        self.encoder.send_eof().map_err(|source| self.encode_error("flushing the encoder", source))?;
        self.drain()?;
        self.output.write_trailer().map_err(|source| self.encode_error("writing the mp4 index", source))?;
        Ok(self.frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::probe;
    use crate::{DecodedFrame, VideoDecoder};
    use std::ops::ControlFlow;

    fn gradient(width: u32, height: u32, t: u32) -> Vec<u8> {
        let mut rgb = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                rgb.extend_from_slice(&[(x * 2 + t) as u8, (y * 2) as u8, 128]);
            }
        }
        rgb
    }

    #[test]
    fn rgb_frames_round_trip_through_mp4() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.mp4");
        let settings = Mp4Settings { crf: 18, ..Mp4Settings::new(65, 48, 25) };
        let mut writer = Mp4Writer::create(&path, &settings).expect("create");
        assert_eq!((writer.width(), writer.height()), (64, 48));
        for t in 0..30 {
            writer.write_rgb24(&gradient(65, 48, t), 65, 48).expect("write");
        }
        assert_eq!(writer.finish().expect("finish"), 30);
        let info = probe(&path).expect("probe");
        assert_eq!((info.width, info.height, info.video_codec.as_str()), (64, 48, "h264"));
        assert!((info.fps - 25.0).abs() < 1e-6);
        assert!((info.duration_s - 1.2).abs() < 0.05, "{}", info.duration_s);
        let mut decoder = VideoDecoder::open(&path, 1).expect("open");
        let mut first = Vec::new();
        let stats = decoder
            .for_each_converted(Pixel::RGB24, 64, 48, scaling::Flags::POINT, |f: DecodedFrame<'_>| {
                if f.index == 0 {
                    first = crate::decode::packed_row(f.frame, 10, 3).to_vec();
                }
                ControlFlow::Continue(())
            })
            .expect("decode");
        assert_eq!(stats.frames, 30);
        let expected = &gradient(65, 48, 0)[10 * 65 * 3..10 * 65 * 3 + 64 * 3];
        // 65 -> 64 columns is a slight rescale: compare on average.
        let err: i32 = first.iter().zip(expected).map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs()).sum();
        assert!(err / (64 * 3) < 6, "{first:?} vs {expected:?}");
    }

    #[test]
    fn rejects_bad_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.mp4");
        assert!(Mp4Writer::create(&path, &Mp4Settings::new(64, 48, 0)).is_err());
        let mut writer = Mp4Writer::create(&path, &Mp4Settings::new(64, 48, 25)).expect("create");
        assert!(writer.write_rgb24(&[0; 10], 64, 48).is_err());
    }
}

/// Test videos whose frames carry their own index as a barcode, so tests can tell exactly which frames a clip or a
/// sample holds.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::decode::{VideoDecoder, packed_row};
    use std::ops::ControlFlow;

    pub const WIDTH: u32 = 160;
    pub const HEIGHT: u32 = 96;
    const BITS: u32 = 10;

    /// Frame `index` as RGB24: the top two thirds are 10 black/white blocks (the index in binary, most significant
    /// bit first), the bottom third a colour that changes with the index.
    pub fn barcode_frame(index: u64) -> Vec<u8> {
        let block = WIDTH / BITS;
        let mut rgb = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let pixel = if y < HEIGHT * 2 / 3 {
                    let bit = (index >> (BITS - 1 - (x / block).min(BITS - 1))) & 1;
                    if bit == 1 { [235, 235, 235] } else { [16, 16, 16] }
                } else {
                    [(index * 7 % 200) as u8 + 30, 90, (x % 64) as u8 + 100]
                };
                rgb.extend_from_slice(&pixel);
            }
        }
        rgb
    }

    /// Reads the index back from a packed RGB24 frame of any size.
    pub fn read_barcode(frame: &VideoFrame) -> u64 {
        let (width, height) = (frame.width() as usize, frame.height() as usize);
        let row = packed_row(frame, height / 3, 3);
        (0..BITS as usize).fold(0, |code, bit| {
            let x = (2 * bit + 1) * width / (2 * BITS as usize);
            (code << 1) | u64::from(row[x * 3 + 1] > 128)
        })
    }

    /// Writes `frames` barcode frames at 25 fps.
    pub fn barcode_video(path: &Path, frames: u64, gop: Option<u32>, faststart: bool) -> Result<(), MediaError> {
        let settings =
            Mp4Settings { crf: 18, preset: "ultrafast".into(), gop, faststart, ..Mp4Settings::new(WIDTH, HEIGHT, 25) };
        let mut writer = Mp4Writer::create(path, &settings)?;
        for index in 0..frames {
            writer.write_rgb24(&barcode_frame(index), WIDTH, HEIGHT)?;
        }
        writer.finish().map(|_| ())
    }

    /// Decodes a video or image and reads every frame's barcode.
    pub fn read_barcodes(path: &Path) -> Vec<u64> {
        let mut decoder = VideoDecoder::open(path, 1).expect("open");
        let (width, height) = (decoder.width(), decoder.height());
        let mut codes = Vec::new();
        decoder
            .for_each_converted(Pixel::RGB24, width, height, scaling::Flags::POINT, |f| {
                codes.push(read_barcode(f.frame));
                ControlFlow::Continue(())
            })
            .expect("decode");
        codes
    }
}
