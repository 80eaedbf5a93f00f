//! `VideoDecoder`: sequential decoding of a video's best video stream, frame by frame in presentation order, with
//! optional conversion to a packed pixel format and size. Every stage that looks at pixels (scene_cut, frames,
//! precise clip cutting) decodes through this one loop.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clipstream_schemas::config::ProbePolicy;

use ffmpeg_next::codec::threading;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::media::Type;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::error::MediaError;
use crate::probe::init;
use crate::scaler::CachedScaler;

/// A decoded frame: its 0-based index in presentation order, its time in seconds from the stream start, and the
/// frame itself (native pixel format, or the converted one when scaled). A visitor may take the frame (replacing
/// it with an empty one): its buffers are reference-counted, so it stays valid while decoding goes on.
pub struct DecodedFrame<'a> {
    pub index: u64,
    pub time_s: f64,
    pub frame: &'a mut VideoFrame,
}

/// What a decode pass saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    pub frames: u64,
    /// Packets the decoder refused (corrupt data it skipped past).
    pub bad_packets: u64,
}

/// How a decoder's thread count is chosen: given, or from the frame size.
enum DecoderThreads<'a> {
    Fixed(usize),
    BySize(&'a dyn Fn(u32, u32) -> usize),
}

/// Bounds on one decode pass, for files that cannot be trusted to be what their header says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeLimits {
    /// Frames past this time from the stream start fail the pass (`probe.too_long`).
    pub max_duration_s: f64,
    /// More corrupt packets than this fail the pass (`probe.bad_packets`).
    pub max_bad_packets: u64,
    /// A pass running longer than this (wall time) fails (`decode.timeout`).
    pub max_wall: Duration,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self::NONE
    }
}

impl DecodeLimits {
    /// No bounds (the project's own files: synthetic videos, tests).
    pub const NONE: Self = Self { max_duration_s: f64::INFINITY, max_bad_packets: u64::MAX, max_wall: Duration::MAX };

    /// The bounds of a probe policy.
    pub fn of_policy(policy: &ProbePolicy) -> Self {
        Self {
            // One frame of slack: the last frame starts before the end.
            max_duration_s: policy.max_duration_s + 1.0,
            max_bad_packets: policy.max_bad_packets,
            max_wall: Duration::try_from_secs_f64(policy.max_decode_s).unwrap_or(Duration::MAX),
        }
    }

    fn check(&self, path: &Path, stats: &DecodeStats, time_s: f64, started: Instant) -> Result<(), MediaError> {
        if time_s > self.max_duration_s {
            return Err(MediaError::DecodedTooLong { path: path.into(), time_s, max_s: self.max_duration_s - 1.0 });
        }
        if stats.bad_packets > self.max_bad_packets {
            return Err(MediaError::BadPackets { path: path.into(), limit: self.max_bad_packets });
        }
        if started.elapsed() > self.max_wall {
            return Err(MediaError::DecodeTimeout { path: path.into(), limit_s: self.max_wall.as_secs_f64() });
        }
        Ok(())
    }
}

/// An opened video stream, ready to decode.
pub struct VideoDecoder {
    path: PathBuf,
    input: ffmpeg_next::format::context::Input,
    stream_index: usize,
    decoder: ffmpeg_next::decoder::Video,
    time_base: f64,
    start_pts: i64,
    limits: DecodeLimits,
}

impl VideoDecoder {
    /// Opens `path`; `threads` = 0 lets ffmpeg choose, 1 decodes on the calling thread only.
    pub fn open(path: &Path, threads: usize) -> Result<Self, MediaError> {
        Self::open_inner(path, DecoderThreads::Fixed(threads))
    }

    /// [`Self::open`] with the decoder threads chosen from the frame size (`threads(width, height)`), which is
    /// known only once the stream's decoder is open: it is opened a first time with one thread to ask.
    pub fn open_with(path: &Path, threads: impl Fn(u32, u32) -> usize) -> Result<Self, MediaError> {
        Self::open_inner(path, DecoderThreads::BySize(&threads))
    }

    fn open_inner(path: &Path, threads: DecoderThreads<'_>) -> Result<Self, MediaError> {
        init();
        let input = crate::open::open_input(path)?;
        let stream =
            input.streams().best(Type::Video).ok_or_else(|| MediaError::NoVideoStream { path: path.into() })?;
        let stream_index = stream.index();
        let tb = stream.time_base();
        let time_base =
            if tb.denominator() == 0 { 0.0 } else { f64::from(tb.numerator()) / f64::from(tb.denominator()) };
        let start_pts = if stream.start_time() == ffmpeg_next::ffi::AV_NOPTS_VALUE { 0 } else { stream.start_time() };
        let codec_error = |source| MediaError::Codec {
            path: path.into(),
            codec: format!("{:?}", stream.parameters().id()).to_lowercase(),
            source,
        };
        let context = || ffmpeg_next::codec::context::Context::from_parameters(stream.parameters());
        let threads = match threads {
            DecoderThreads::Fixed(threads) => threads,
            DecoderThreads::BySize(threads) => {
                let sized = context().and_then(|c| c.decoder().video()).map_err(codec_error)?;
                threads(sized.width(), sized.height())
            }
        };
        let mut context = context().map_err(codec_error)?;
        context.set_threading(threading::Config { kind: threading::Type::Frame, count: threads, ..Default::default() });
        let decoder = context.decoder().video().map_err(codec_error)?;
        let limits = DecodeLimits::NONE;
        Ok(Self { path: path.to_path_buf(), input, stream_index, decoder, time_base, start_pts, limits })
    }

    /// The stream's frame rate, as [`crate::probe()`] reports it.
    pub fn fps(&self) -> Result<f64, MediaError> {
        let stream = self
            .input
            .stream(self.stream_index)
            .ok_or_else(|| MediaError::NoVideoStream { path: self.path.clone() })?;
        crate::probe::stream_fps(&self.path, &stream)
    }

    /// Bounds every later decode pass by `limits`.
    pub fn with_limits(mut self, limits: DecodeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The stream's start time in its time base (0 when unknown): where frame times count from.
    pub fn start_pts(&self) -> i64 {
        self.start_pts
    }

    /// Seconds per unit of the stream's timestamps (0 when the stream has none).
    pub fn time_base(&self) -> f64 {
        self.time_base
    }

    pub fn width(&self) -> u32 {
        self.decoder.width()
    }

    pub fn height(&self) -> u32 {
        self.decoder.height()
    }

    pub fn format(&self) -> Pixel {
        self.decoder.format()
    }

    /// Decodes every frame in presentation order and hands it to `visit` in the decoder's native format; `visit`
    /// may stop early with `ControlFlow::Break`. A stream that yields no frame at all is an error.
    pub fn for_each_frame(
        &mut self,
        mut visit: impl FnMut(DecodedFrame<'_>) -> ControlFlow<()>,
    ) -> Result<DecodeStats, MediaError> {
        let mut stats = DecodeStats::default();
        let mut frame = VideoFrame::empty();
        let mut stopped = false;
        let (limits, started, path) = (self.limits, Instant::now(), self.path.clone());
        let over_limit = std::cell::RefCell::new(None);
        let mut visit = |decoded: DecodedFrame<'_>, stats: &DecodeStats| {
            if let Err(error) = limits.check(&path, stats, decoded.time_s, started) {
                *over_limit.borrow_mut() = Some(error);
                return ControlFlow::Break(());
            }
            visit(decoded)
        };
        loop {
            // Also between frames: a stream of corrupt packets yields none.
            if let Err(error) = limits.check(&path, &stats, 0.0, started) {
                *over_limit.borrow_mut() = Some(error);
                stopped = true;
                break;
            }
            // A fresh packet each time: `av_read_frame` overwrites a packet without releasing the buffer it holds,
            // so reusing one leaked every compressed byte of the video (memory grew with its length).
            let mut packet = ffmpeg_next::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {}
                Err(ffmpeg_next::Error::Eof) => break,
                Err(ffmpeg_next::Error::InvalidData) => {
                    stats.bad_packets += 1;
                    continue;
                }
                Err(source) if stats.frames == 0 => {
                    return Err(MediaError::Decode { path: self.path.clone(), frames: 0, source });
                }
                Err(_) => break,
            }
            if packet.stream() != self.stream_index {
                continue;
            }
            if self.decoder.send_packet(&packet).is_err() {
                stats.bad_packets += 1;
                continue;
            }
            if self.drain(&mut frame, &mut stats, &mut visit).is_break() {
                stopped = true;
                break;
            }
        }
        if !stopped {
            // EOF flush; the decoder refuses a second EOF, which is fine.
            let _ = self.decoder.send_eof();
            let _ = self.drain(&mut frame, &mut stats, &mut visit);
        }
        if let Some(error) = over_limit.take().or_else(|| limits.check(&path, &stats, 0.0, started).err()) {
            return Err(error);
        }
        if stats.frames == 0 {
            return Err(MediaError::NoFrames { path: self.path.clone() });
        }
        Ok(stats)
    }

    fn drain(
        &mut self,
        frame: &mut VideoFrame,
        stats: &mut DecodeStats,
        visit: &mut impl FnMut(DecodedFrame<'_>, &DecodeStats) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        while self.decoder.receive_frame(frame).is_ok() {
            let pts = frame.timestamp().or(frame.pts()).unwrap_or(self.start_pts);
            let time_s = (pts - self.start_pts) as f64 * self.time_base;
            let index = stats.frames;
            stats.frames += 1;
            visit(DecodedFrame { index, time_s, frame }, stats)?;
        }
        ControlFlow::Continue(())
    }

    /// Like [`Self::for_each_frame`] but converts each frame to `format` at `width`x`height` first.
    pub fn for_each_converted(
        &mut self,
        format: Pixel,
        width: u32,
        height: u32,
        flags: scaling::Flags,
        mut visit: impl FnMut(DecodedFrame<'_>) -> ControlFlow<()>,
    ) -> Result<DecodeStats, MediaError> {
        let mut scaler = CachedScaler::new(format, width, height, flags);
        let mut converted = VideoFrame::empty();
        let mut failure = None;
        let stats = self.for_each_frame(|decoded| {
            let src = decoded.frame;
            if let Err(e) = scaler.run(src, &mut converted) {
                failure = Some(e);
                return ControlFlow::Break(());
            }
            converted.set_pts(src.pts());
            visit(DecodedFrame { index: decoded.index, time_s: decoded.time_s, frame: &mut converted })
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }
}

/// The packed bytes of row `y` of plane 0 of a packed-pixel frame (`bytes_per_pixel` * width bytes).
pub fn packed_row(frame: &VideoFrame, y: usize, bytes_per_pixel: usize) -> &[u8] {
    let stride = frame.stride(0);
    let width = frame.width() as usize * bytes_per_pixel;
    &frame.data(0)[y * stride..y * stride + width]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_bound_the_decoded_frames_whatever_the_header_says() {
        use clipstream_schemas::error::StageError;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v.mp4");
        crate::encode::fixtures::barcode_video(&path, 100, None, false).expect("video"); // 4 s at 25 fps
        let decode = |limits: DecodeLimits| {
            let mut decoder = VideoDecoder::open(&path, 1).expect("open").with_limits(limits);
            decoder.for_each_frame(|_| ControlFlow::Continue(())).map(|s| s.frames).map_err(|e| e.code())
        };
        assert_eq!(decode(DecodeLimits::NONE), Ok(100));
        let policy = |max_duration_s| ProbePolicy { max_duration_s, min_duration_s: 0.0, ..ProbePolicy::default() };
        assert_eq!(decode(DecodeLimits::of_policy(&policy(10.0))), Ok(100));
        assert_eq!(decode(DecodeLimits::of_policy(&policy(2.0))), Err("probe.too_long"));
        let no_time = DecodeLimits { max_wall: Duration::ZERO, ..DecodeLimits::NONE };
        assert_eq!(decode(no_time), Err("decode.timeout"));
    }

    #[test]
    fn limit_checks_name_each_bound() {
        use clipstream_schemas::error::StageError;
        let limits = DecodeLimits { max_duration_s: 10.0, max_bad_packets: 2, max_wall: Duration::from_secs(60) };
        let path = Path::new("v.mp4");
        let stats = |bad_packets| DecodeStats { frames: 1, bad_packets };
        let code =
            |stats: DecodeStats, time_s| limits.check(path, &stats, time_s, Instant::now()).map_err(|e| e.code());
        assert_eq!(code(stats(2), 9.9), Ok(()));
        assert_eq!(code(stats(3), 1.0), Err("probe.bad_packets"));
        assert_eq!(code(stats(0), 10.5), Err("probe.too_long"));
    }

    #[test]
    fn corrupt_and_truncated_inputs_fail_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let junk = dir.path().join("junk.mp4");
        std::fs::write(&junk, vec![0x42u8; 10_000]).expect("write");
        assert!(VideoDecoder::open(&junk, 1).is_err());
    }
}
