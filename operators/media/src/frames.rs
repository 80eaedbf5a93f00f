//! `sample_frames`: the frames stage. One decode pass over a video collects, for every clip span, its uniformly
//! spaced sample frames, its middle frame and, when the fine caption asks for them, frames at a fixed rate, resized
//! (shorter side = `short_side`, never upscaled) and JPEG-encoded with ffmpeg's mjpeg encoder. Only the JPEGs are
//! kept, never a clip's raw frames, and they go to the video's spill file as they are encoded (read back by the
//! stages that use them), so memory does not grow with the video's length.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;

use clipstream_core::SpillFile;
use clipstream_schemas::Jpeg;
use clipstream_schemas::config::{CaptionBackend, CaptionConfig, FramesConfig};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video as VideoFrame;
use ffmpeg_next::{Packet, Rational, codec, encoder};

use crate::decode::VideoDecoder;
use crate::error::MediaError;
use crate::scaler::CachedScaler;
use crate::span::ClipSpan;

/// The JPEG frames of one clip.
#[derive(Debug, Clone, Default)]
pub struct ClipFrames {
    /// The clip's middle frame (for the coarse caption).
    pub middle_jpeg: Jpeg,
    /// `count` uniformly spaced frames in time order (see [`ClipSpan::sample_indices`]).
    pub frames_jpeg: Vec<Jpeg>,
    /// Frames at the [`FineSampling`] rate in time order (see [`ClipSpan::rate_indices`]); empty without one.
    pub fine_jpeg: Vec<Jpeg>,
}

/// Frames at a fixed rate for the fine caption: `fps` per second from the clip's start, at most `max_frames`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FineSampling {
    pub fps: f64,
    pub max_frames: u32,
}

impl FineSampling {
    /// What the caption config asks for: frames at `fine_fps` when the fine caption is `vlm-http` (the other
    /// backends read the stored frames), none when the rate or the count is not positive.
    pub fn for_caption(config: &CaptionConfig) -> Option<Self> {
        let wanted = config.fine == CaptionBackend::VlmHttp && config.fine_fps > 0.0 && config.max_fine_frames > 0;
        wanted.then_some(Self { fps: config.fine_fps, max_frames: config.max_fine_frames })
    }
}

/// Output size for a `width`x`height` source: the shorter side becomes `short_side` unless that would upscale;
/// aspect kept, both sides even and at least 2.
pub fn target_size(width: u32, height: u32, short_side: u32) -> (u32, u32) {
    let short = width.min(height).max(1);
    let scale = if short_side > 0 && short > short_side { f64::from(short_side) / f64::from(short) } else { 1.0 };
    let even = |v: u32| ((f64::from(v) * scale).round() as u32 & !1).max(2);
    (even(width), even(height))
}

/// ffmpeg mjpeg quantiser scale (2 best .. 31 worst) for a libjpeg-style quality 1..100: libjpeg scales its tables
/// by `5000/q` % below 50 and `200 - 2q` % above; the mjpeg tables at qscale `s` are roughly libjpeg's at `10 s` %.
/// So quality 90 -> 2, 75 -> 5, 50 -> 10, 25 -> 20, <= 16 -> 31.
pub fn qscale_for_quality(quality: u8) -> i32 {
    let q = f64::from(quality.clamp(1, 100));
    let percent = if q < 50.0 { 5000.0 / q } else { 200.0 - 2.0 * q };
    ((percent / 10.0).round() as i32).clamp(2, 31)
}

/// Scales decoded frames to the output size and encodes them as baseline JPEGs (yuvj420p).
struct JpegEncoder {
    width: u32,
    height: u32,
    qscale: i32,
    encoder: Option<encoder::Video>,
    scaler: CachedScaler,
    pts: i64,
}

impl JpegEncoder {
    fn new(width: u32, height: u32, quality: u8) -> Self {
        Self {
            width,
            height,
            qscale: qscale_for_quality(quality),
            encoder: None,
            scaler: CachedScaler::new(Pixel::YUVJ420P, width, height, scaling::Flags::BICUBIC),
            pts: 0,
        }
    }

    fn fail(what: &str) -> impl FnOnce(ffmpeg_next::Error) -> MediaError + '_ {
        move |source| MediaError::Encode { what: format!("jpeg: {what}"), source }
    }

    fn open_encoder(&self) -> Result<encoder::Video, MediaError> {
        let codec = encoder::find(codec::Id::MJPEG)
            .ok_or_else(|| Self::fail("finding the mjpeg encoder")(ffmpeg_next::Error::EncoderNotFound))?;
        let mut context =
            codec::context::Context::new_with_codec(codec).encoder().video().map_err(Self::fail("configuring"))?;
        context.set_width(self.width);
        context.set_height(self.height);
        context.set_format(Pixel::YUVJ420P);
        context.set_time_base(Rational(1, 25));
        context.set_color_range(ffmpeg_next::color::Range::JPEG);
        // A fixed quantiser: qmin = qmax with the QSCALE flag pins every frame to it.
        context.set_flags(codec::Flags::QSCALE);
        context.set_qmin(self.qscale);
        context.set_qmax(self.qscale);
        context.set_global_quality(self.qscale * ffmpeg_next::ffi::FF_QP2LAMBDA);
        context.open_as(codec).map_err(Self::fail("opening the mjpeg encoder"))
    }

    fn encode(&mut self, frame: &VideoFrame) -> Result<Vec<u8>, MediaError> {
        let mut scaled = VideoFrame::new(Pixel::YUVJ420P, self.width, self.height);
        self.scaler.run(frame, &mut scaled)?;
        scaled.set_pts(Some(self.pts));
        self.pts += 1;
        if self.encoder.is_none() {
            self.encoder = Some(self.open_encoder()?);
        }
        let Some(encoder) = self.encoder.as_mut() else { return Err(MediaError::Invalid("no jpeg encoder".into())) };
        encoder.send_frame(&scaled).map_err(Self::fail("sending a frame"))?;
        let mut packet = Packet::empty();
        encoder.receive_packet(&mut packet).map_err(Self::fail("receiving the image"))?;
        Ok(packet.data().map(<[u8]>::to_vec).unwrap_or_default())
    }
}

/// Where a decoded frame goes: sample `slot` of clip `clip`, its middle frame, or fine-caption frame `slot`.
#[derive(Clone, Copy)]
enum Use {
    Sample { clip: usize, slot: usize },
    Middle { clip: usize },
    Fine { clip: usize, slot: usize },
}

/// Collects the JPEG frames of every clip span from frames handed to it in decode order: by the frames stage's own
/// decode pass ([`sample_frames`]) or by another pass over the same video (the precise cut's,
/// [`crate::clip::cut_clips`]), so a video is not decoded twice for the two. JPEGs go to a new anonymous
/// spill file in the system's temporary folder (a frame several clips share is stored once).
pub struct FrameSampler {
    wanted: BTreeMap<u64, Vec<Use>>,
    out: Vec<ClipFrames>,
    short_side: u32,
    quality: u8,
    /// Built at the first wanted frame, at its size.
    jpeg: Option<JpegEncoder>,
    spill: std::sync::Arc<SpillFile>,
    /// Frames seen so far (the next index expected).
    seen: u64,
}

impl FrameSampler {
    /// A sampler for `spans`: `config.count` sample frames, the middle frame and, with `fine`, the fine-caption
    /// frames of each.
    pub fn new(spans: &[ClipSpan], config: &FramesConfig, fine: Option<FineSampling>) -> Result<Self, MediaError> {
        let mut wanted: BTreeMap<u64, Vec<Use>> = BTreeMap::new();
        let mut out: Vec<ClipFrames> = Vec::with_capacity(spans.len());
        for (clip, span) in spans.iter().enumerate() {
            let (samples, middle) = span.sample_indices(config.count);
            let fine_indices = fine.map(|f| span.rate_indices(f.fps, f.max_frames)).unwrap_or_default();
            out.push(ClipFrames {
                middle_jpeg: Jpeg::default(),
                frames_jpeg: vec![Jpeg::default(); samples.len()],
                fine_jpeg: vec![Jpeg::default(); fine_indices.len()],
            });
            for (slot, index) in samples.into_iter().enumerate() {
                wanted.entry(index).or_default().push(Use::Sample { clip, slot });
            }
            wanted.entry(middle).or_default().push(Use::Middle { clip });
            for (slot, index) in fine_indices.into_iter().enumerate() {
                wanted.entry(index).or_default().push(Use::Fine { clip, slot });
            }
        }
        let temp = std::env::temp_dir();
        let spill = SpillFile::new_in(&temp).map_err(|source| MediaError::Io { path: temp, source })?;
        let (short_side, quality) = (config.short_side, config.jpeg_quality);
        Ok(Self { wanted, out, short_side, quality, jpeg: None, spill, seen: 0 })
    }

    /// The last frame index any clip wants; `None` when there are no clips.
    pub fn last(&self) -> Option<u64> {
        self.wanted.keys().next_back().copied()
    }

    /// Takes decoded frame `index` (called for every frame in order from 0): encodes it if a clip wants it.
    pub fn visit(&mut self, index: u64, frame: &VideoFrame) -> Result<(), MediaError> {
        self.seen = self.seen.max(index + 1);
        let Some(uses) = self.wanted.get(&index) else { return Ok(()) };
        let (short_side, quality) = (self.short_side, self.quality);
        let jpeg = self.jpeg.get_or_insert_with(|| {
            let (width, height) = target_size(frame.width(), frame.height(), short_side);
            JpegEncoder::new(width, height, quality)
        });
        let bytes = self
            .spill
            .append(&jpeg.encode(frame)?)
            .map_err(|source| MediaError::Io { path: std::env::temp_dir(), source })?;
        for use_ in uses {
            match *use_ {
                Use::Sample { clip, slot } => self.out[clip].frames_jpeg[slot] = bytes.clone(),
                Use::Middle { clip } => self.out[clip].middle_jpeg = bytes.clone(),
                Use::Fine { clip, slot } => self.out[clip].fine_jpeg[slot] = bytes.clone(),
            }
        }
        Ok(())
    }

    /// The frames of every span, in span order; `decode.missing_frames` when the frames seen ended before the last
    /// one wanted (the spans come from a decode of the same file, so this means a damaged file).
    pub fn finish(self, path: &Path) -> Result<Vec<ClipFrames>, MediaError> {
        if let Some(last) = self.last()
            && self.seen <= last
        {
            let first_missing = self.wanted.keys().find(|&&i| i >= self.seen).copied().unwrap_or(last);
            return Err(MediaError::MissingFrames { path: path.to_path_buf(), first_missing, decoded: self.seen });
        }
        Ok(self.out)
    }
}

/// Decodes the video at `path` once (up to the last wanted frame) and returns, for every span (in order), its
/// `config.count` sample frames, its middle frame and, with `fine`, its fine-caption frames as JPEGs (see
/// [`FrameSampler`]). A span needing a frame past the last decodable one fails the whole video with
/// `decode.missing_frames`.
pub fn sample_frames(
    path: &Path,
    spans: &[ClipSpan],
    config: &FramesConfig,
    fine: Option<FineSampling>,
) -> Result<Vec<ClipFrames>, MediaError> {
    let mut sampler = FrameSampler::new(spans, config, fine)?;
    let Some(last) = sampler.last() else { return sampler.finish(path) };
    let mut decoder = VideoDecoder::open(path, 0)?;
    let mut failure = None;
    decoder.for_each_frame(|decoded| {
        if let Err(e) = sampler.visit(decoded.index, decoded.frame) {
            failure = Some(e);
            return ControlFlow::Break(());
        }
        if decoded.index >= last { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    match failure {
        Some(e) => Err(e),
        None => sampler.finish(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::fixtures::{HEIGHT, WIDTH, barcode_video, read_barcodes};
    use clipstream_schemas::error::StageError;

    fn config(count: u32, short_side: u32) -> FramesConfig {
        FramesConfig { count, short_side, jpeg_quality: 90 }
    }

    /// The barcode and size of a JPEG, decoded by ffmpeg.
    fn decode_jpeg(jpeg: &Jpeg) -> (u64, u32, u32) {
        assert!(jpeg.is_spilled(), "frames go to the spill file");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("frame.jpg");
        std::fs::write(&path, jpeg.bytes().expect("read back")).expect("write");
        let decoder = VideoDecoder::open(&path, 1).expect("open jpeg");
        let size = (decoder.width(), decoder.height());
        let codes = read_barcodes(&path);
        assert_eq!(codes.len(), 1);
        (codes[0], size.0, size.1)
    }

    /// Sum of the first quantisation table (DQT segment) of a JPEG: larger = coarser.
    fn luma_table_sum(jpeg: &Jpeg) -> u32 {
        let jpeg = jpeg.bytes().expect("read back");
        let at = jpeg.windows(2).position(|w| w == [0xFF, 0xDB]).expect("DQT");
        jpeg[at + 5..at + 5 + 64].iter().map(|&v| u32::from(v)).sum()
    }

    #[test]
    fn sizes_and_qualities() {
        assert_eq!(target_size(1920, 1080, 224), (398, 224));
        assert_eq!(target_size(1080, 1920, 224), (224, 398));
        assert_eq!(target_size(160, 96, 224), (160, 96));
        assert_eq!(target_size(161, 97, 224), (160, 96));
        assert_eq!(target_size(160, 96, 48), (80, 48));
        assert_eq!(qscale_for_quality(90), 2);
        assert_eq!(qscale_for_quality(75), 5);
        assert_eq!(qscale_for_quality(50), 10);
        assert_eq!(qscale_for_quality(1), 31);
        assert_eq!(qscale_for_quality(100), 2);
    }

    #[test]
    fn samples_the_right_frames_as_jpeg() {
        let dir = tempfile::tempdir().expect("tempdir");
        let video = dir.path().join("in.mp4");
        barcode_video(&video, 120, None, false).expect("fixture");
        let spans = [
            ClipSpan::from_frames(0, 40, 25.0, 1.0),
            ClipSpan::from_frames(30, 100, 25.0, 1.0),
            ClipSpan::from_frames(117, 120, 25.0, 1.0),
        ];
        let clips = sample_frames(&video, &spans, &config(4, 48), None).expect("sample");
        assert_eq!(clips.len(), 3);
        for (span, clip) in spans.iter().zip(&clips) {
            let (indices, middle) = span.sample_indices(4);
            assert_eq!(clip.frames_jpeg.len(), 4);
            for (jpeg, index) in clip.frames_jpeg.iter().zip(&indices) {
                let bytes = jpeg.bytes().expect("read back");
                assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
                assert_eq!(&bytes[bytes.len() - 2..], &[0xFF, 0xD9]);
                assert!(jpeg.len() > 200 && jpeg.len() < 20_000, "{}", jpeg.len());
                assert_eq!(decode_jpeg(jpeg), (*index, 80, 48));
            }
            assert_eq!(decode_jpeg(&clip.middle_jpeg).0, middle);
        }
        // Never upscaled: a larger short side keeps the source size.
        let full = sample_frames(&video, &spans[..1], &config(1, 224), None).expect("sample");
        assert_eq!(decode_jpeg(&full[0].middle_jpeg), (20, WIDTH, HEIGHT));
        // Lower quality, smaller files.
        let low = sample_frames(&video, &spans[..1], &FramesConfig { jpeg_quality: 20, ..config(1, 224) }, None)
            .expect("low");
        assert!(low[0].middle_jpeg.len() < full[0].middle_jpeg.len());
        assert!(luma_table_sum(&low[0].middle_jpeg) > 4 * luma_table_sum(&full[0].middle_jpeg));
        assert!(sample_frames(&video, &[], &config(4, 48), None).expect("no spans").is_empty());
    }

    #[test]
    fn fine_frames_at_a_rate_in_the_same_pass() {
        let dir = tempfile::tempdir().expect("tempdir");
        let video = dir.path().join("in.mp4");
        barcode_video(&video, 120, None, false).expect("fixture");
        let spans = [ClipSpan::from_frames(0, 100, 25.0, 1.0), ClipSpan::from_frames(30, 100, 25.0, 1.0)];
        let fine = FineSampling { fps: 1.0, max_frames: 32 };
        let clips = sample_frames(&video, &spans, &config(2, 48), Some(fine)).expect("sample");
        let codes = |jpegs: &[Jpeg]| jpegs.iter().map(|j| decode_jpeg(j).0).collect::<Vec<_>>();
        assert_eq!(codes(&clips[0].fine_jpeg), vec![0, 25, 50, 75]);
        assert_eq!(codes(&clips[1].fine_jpeg), vec![30, 55, 80]);
        assert_eq!(decode_jpeg(&clips[1].fine_jpeg[0]).1, 80, "same size as the stored frames");
        // The other frames are unchanged by the fine sampling.
        let plain = sample_frames(&video, &spans, &config(2, 48), None).expect("sample");
        assert!(plain.iter().all(|c| c.fine_jpeg.is_empty()));
        assert_eq!(codes(&clips[0].frames_jpeg), codes(&plain[0].frames_jpeg));
        assert_eq!(decode_jpeg(&clips[0].middle_jpeg).0, 50);
        // Thinned evenly to the maximum.
        let thin = FineSampling { fps: 2.0, max_frames: 3 };
        let clips = sample_frames(&video, &spans[..1], &config(2, 48), Some(thin)).expect("sample");
        assert_eq!(codes(&clips[0].fine_jpeg), vec![0, 25, 62]);
    }

    #[test]
    fn fine_sampling_only_for_the_vlm_backend() {
        let mut caption = CaptionConfig { fine_fps: 2.0, max_fine_frames: 8, ..CaptionConfig::default() };
        assert_eq!(FineSampling::for_caption(&caption), None);
        caption.fine = CaptionBackend::Tags;
        assert_eq!(FineSampling::for_caption(&caption), None);
        caption.fine = CaptionBackend::VlmHttp;
        assert_eq!(FineSampling::for_caption(&caption), Some(FineSampling { fps: 2.0, max_frames: 8 }));
        caption.max_fine_frames = 0;
        assert_eq!(FineSampling::for_caption(&caption), None);
    }

    #[test]
    fn truncated_video() {
        let dir = tempfile::tempdir().expect("tempdir");
        let video = dir.path().join("in.mp4");
        // faststart puts the index first, so the cut-off file still opens and its first part decodes.
        barcode_video(&video, 200, None, true).expect("fixture");
        let bytes = std::fs::read(&video).expect("read");
        std::fs::write(&video, &bytes[..bytes.len() / 2]).expect("truncate");
        let early = [ClipSpan::from_frames(0, 30, 25.0, 1.0)];
        let clips = sample_frames(&video, &early, &config(2, 48), None).expect("the early part decodes");
        assert_eq!(decode_jpeg(&clips[0].frames_jpeg[1]).0, 22);
        let late = [ClipSpan::from_frames(150, 200, 25.0, 1.0)];
        let err = sample_frames(&video, &late, &config(2, 48), None).expect_err("frames past the cut are missing");
        assert_eq!(err.code(), "decode.missing_frames");
        // Without faststart the index is at the end: a truncated file does not open at all.
        let plain = dir.path().join("plain.mp4");
        barcode_video(&plain, 200, None, false).expect("fixture");
        let bytes = std::fs::read(&plain).expect("read");
        std::fs::write(&plain, &bytes[..bytes.len() / 2]).expect("truncate");
        assert_eq!(
            sample_frames(&plain, &early, &config(2, 48), None).expect_err("no index").code(),
            "probe.not_a_video"
        );
    }
}
