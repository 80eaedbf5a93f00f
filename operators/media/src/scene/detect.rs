//! `detect_scenes`: one decode pass over a video that downscales each frame like PySceneDetect, converts it to HSV
//! and runs the [`ContentDetector`] (or the fixed-stride splitter), keeping every frame's content score for the
//! clip planner.

use std::ops::ControlFlow;
use std::path::Path;

use clipstream_schemas::config::{Detector, SceneConfig};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::decode::{DecodeLimits, DecodeStats, VideoDecoder};
use crate::error::MediaError;
use crate::scaler::CachedScaler;
use crate::scene::content::{ContentDetector, Position};
use crate::scene::hsv::HsvFrame;
use crate::scene::odd_height::OddHeight;
use crate::scene::resize::{PackedBgr, Resizer, downscale_factor, downscaled_size};
use crate::scene::simd;
use crate::scene::stride::stride_cuts;
use crate::scene::yuv::YuvPlanes;
use crate::scene::yuv444::Yuv444Planes;

/// The scenes of a video: where new scenes start, and the content score of every frame.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneList {
    /// Frame rate as OpenCV's `CAP_PROP_FPS` reports it (average frame rate; NTSC rates snapped to N*1000/1001).
    pub fps: f64,
    /// Decoded frames.
    pub frames: u64,
    pub width: u32,
    pub height: u32,
    /// Frame numbers (0-based, decode order) where a new scene starts, ascending.
    pub cuts: Vec<u64>,
    /// The same cuts numbered as PySceneDetect numbers them, from their presentation times at `fps`
    /// (`round(seconds * fps)`): its cut list. Equal to `cuts` for video at a constant rate without timestamp gaps.
    pub cut_frames: Vec<u64>,
    /// Presentation times of the cuts in seconds from the stream's start (PySceneDetect's clock).
    pub cut_seconds: Vec<f64>,
    /// Presentation time of every decoded frame in seconds from the stream's start (the decoder's best-effort
    /// timestamps), in decode order.
    pub frame_times: Vec<f64>,
    /// `content_val` of each frame against the previous one (0 for the first).
    pub scores: Vec<f32>,
}

impl SceneList {
    /// The presentation time of decoded frame `frame`; past the last frame, the last one's time plus a frame at
    /// `fps`; without frame times, `frame / fps`.
    pub fn time_of(&self, frame: u64) -> f64 {
        match (self.frame_times.get(frame as usize), self.frame_times.last()) {
            (Some(&time), _) => time,
            (None, Some(&last)) => last + (frame + 1 - self.frame_times.len() as u64) as f64 / self.fps,
            (None, None) => frame as f64 / self.fps,
        }
    }

    /// Half-open frame ranges `start..end` of the scenes, covering `0..frames`.
    pub fn scenes(&self) -> Vec<(u64, u64)> {
        let bounds: Vec<u64> = std::iter::once(0)
            .chain(self.cuts.iter().copied().filter(|&c| c > 0 && c < self.frames))
            .chain(std::iter::once(self.frames))
            .collect();
        bounds.windows(2).filter(|w| w[1] > w[0]).map(|w| (w[0], w[1])).collect()
    }
}

/// How decoded frames become BGR before downscaling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorPath {
    /// 4:2:0 frames of even height are converted only at the rows the resizer reads, in full with AVX2/AVX-512
    /// (`simd`), else only at the pixels it samples when that is under a third of the frame (large downscales,
    /// e.g. 1 pixel in 25 at 720p); 4:4:4 frames and 4:2:0 frames of odd height only where the resizer reads, with
    /// swscale's general-scaler arithmetic; otherwise swscale converts the whole frame.
    #[default]
    Sampled,
    /// Every frame is converted in full by swscale (bicubic, like OpenCV's capture), then downscaled.
    Swscale,
}

/// Knobs of a detection pass beyond the scene configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DetectOptions {
    /// Threads: 1 decodes and scores on the calling thread only; any other value scores frames on a thread of
    /// its own beside that many decoder threads, 0 beside one decoder thread per core but one.
    pub threads: usize,
    pub color: ColorPath,
    /// Bounds of the decode pass (none by default; curation uses the probe policy's).
    pub limits: DecodeLimits,
}

/// OpenCV-reported frame rates pass through PySceneDetect's `framerate_to_fraction`: NTSC rates (within 1e-3 of
/// N*1000/1001) become exactly N*1000/1001.
pub fn normalize_fps(fps: f64) -> f64 {
    if fps.fract() == 0.0 {
        return fps;
    }
    let base = (fps * 1001.0 / 1000.0).round_ties_even();
    let ntsc = base * 1000.0 / 1001.0;
    if base > 0.0 && (ntsc - fps).abs() < 1e-3 { ntsc } else { fps }
}

/// Detects the scenes of the video at `path` in one decode pass with `threads` decoder threads.
pub fn detect_scenes(path: &Path, config: &SceneConfig, threads: usize) -> Result<SceneList, MediaError> {
    detect_scenes_with(path, config, DetectOptions { threads, ..DetectOptions::default() })
}

/// Per-frame pipeline state: the downscaler (sized at the first frame), the converters from the decoded format to
/// BGR (built at the first frame that needs them) and the HSV buffer.
struct FramePipeline {
    color: ColorPath,
    downscale: u32,
    size: Option<(u32, u32)>,
    resizer: Option<Resizer>,
    /// swscale's vertical chroma filter for 4:2:0 frames of odd height (built at the first frame; `None` inside
    /// for other sizes).
    odd_height: Option<Option<OddHeight>>,
    /// Converts whole frames (sized at the first frame; rebuilt if the pixel format changes).
    scaler: Option<CachedScaler>,
    converted: VideoFrame,
    hsv: HsvFrame,
}

impl FramePipeline {
    fn new(color: ColorPath, downscale: u32) -> Self {
        Self {
            color,
            downscale,
            size: None,
            resizer: None,
            odd_height: None,
            scaler: None,
            converted: VideoFrame::empty(),
            hsv: HsvFrame::default(),
        }
    }

    /// The downscaled HSV image of `frame`, or `None` for a frame whose size differs from the first frame's
    /// (PySceneDetect skips those).
    fn process(&mut self, frame: &VideoFrame) -> Result<Option<&mut HsvFrame>, MediaError> {
        let size = (frame.width(), frame.height());
        let (width, height) = *self.size.get_or_insert(size);
        if size != (width, height) {
            return Ok(None);
        }
        let resizer = self.resizer.get_or_insert_with(|| {
            let factor = downscale_factor(self.downscale, width, height);
            let (dw, dh) = downscaled_size(width as usize, height as usize, factor);
            Resizer::new(width as usize, height as usize, dw, dh)
        });
        let (dw, dh) = resizer.dst_size();
        let hsv = &mut self.hsv;
        hsv.resize(dw, dh);
        // Each downscaled BGR row goes to HSV while it is in cache; the BGR frame is never materialised.
        let to_hsv = |y: usize, row: &[u8]| hsv.set_row_from_planar(y, row);
        if self.color == ColorPath::Sampled {
            let sparse = 3 * resizer.sampled_pixels() < (width * height) as usize;
            // With AVX2 whole rows convert faster than swscale's converter, sparse or not.
            let rows = simd::wide() && resizer.reads_planar_rows();
            if let Some(mut planes) = YuvPlanes::new(frame).filter(|_| sparse || rows) {
                resizer.run_rows(&mut planes, to_hsv);
                return Ok(Some(&mut self.hsv));
            }
            // swscale's paths for 4:4:4 and for odd heights (its general scaler) are slower than these, sparse or
            // dense.
            if let Some(mut planes) = Yuv444Planes::new(frame) {
                resizer.run_rows(&mut planes, to_hsv);
                return Ok(Some(&mut self.hsv));
            }
            let odd_height = self.odd_height.get_or_insert_with(|| OddHeight::new(width, height));
            if let Some(mut planes) = odd_height.as_mut().and_then(|odd| odd.planes(frame)) {
                resizer.run_rows(&mut planes, to_hsv);
                return Ok(Some(&mut self.hsv));
            }
        }
        let scaler =
            self.scaler.get_or_insert_with(|| CachedScaler::new(Pixel::BGR24, width, height, scaling::Flags::BICUBIC));
        scaler.run(frame, &mut self.converted)?;
        let mut packed = PackedBgr { data: self.converted.data(0), stride: self.converted.stride(0) };
        resizer.run_rows(&mut packed, to_hsv);
        Ok(Some(&mut self.hsv))
    }
}

/// PySceneDetect's clock (`VideoStreamCv2.position`): OpenCV's `CAP_PROP_POS_MSEC` of a frame — its pts, or its
/// packet's dts where the pts is missing or 0, counted from the stream's start time — rounded to microseconds; a
/// frame at or before 0 is placed by its count at the nominal rate instead.
#[derive(Debug, Clone, Copy)]
struct Clock {
    start: i64,
    time_base: f64,
    fps: f64,
}

impl Clock {
    fn new(decoder: &VideoDecoder, fps: f64) -> Self {
        Self { start: decoder.start_pts(), time_base: decoder.time_base(), fps }
    }

    fn position(&self, index: u64, frame: &VideoFrame) -> Position {
        let dts = || Some(frame.packet().dts).filter(|&dts| dts != ffmpeg_next::ffi::AV_NOPTS_VALUE);
        let pts = frame.pts().filter(|&pts| pts != 0).or_else(dts);
        // `POS_MSEC` is 0 without a timestamp; PySceneDetect rounds it to microseconds (half to even).
        let ms = pts.map_or(0.0, |pts| pts.wrapping_sub(self.start) as f64 * self.time_base * 1000.0);
        let us = (ms * 1000.0).round_ties_even() as i64;
        if us > 0 { Position { index, us } } else { Position::counted(index, self.fps) }
    }
}

/// Frames handed from the decoding thread to the scoring thread at most at once (pipelined detection).
const PIPELINE_FRAMES: usize = 4;

/// The scoring side of a detection pass: frames in, content scores and cuts out.
struct FrameScorer {
    pipeline: FramePipeline,
    detector: ContentDetector,
    clock: Clock,
    cuts: Vec<Position>,
    times: Vec<f64>,
}

/// What a detection pass found: the frame size (of the first frame), the detector's scores and the cuts.
struct Scored {
    size: Option<(u32, u32)>,
    detector: ContentDetector,
    cuts: Vec<Position>,
    times: Vec<f64>,
}

impl FrameScorer {
    fn new(color: ColorPath, downscale: u32, detector: ContentDetector, clock: Clock) -> Self {
        Self { pipeline: FramePipeline::new(color, downscale), detector, clock, cuts: Vec::new(), times: Vec::new() }
    }

    fn finish(self) -> Scored {
        Scored { size: self.pipeline.size, detector: self.detector, cuts: self.cuts, times: self.times }
    }

    /// Scores decoded frame `index`, presented at `time_s`.
    fn push(&mut self, index: u64, time_s: f64, frame: &VideoFrame) -> Result<(), MediaError> {
        self.times.push(time_s);
        match self.pipeline.process(frame)? {
            Some(hsv) => self.cuts.extend(self.detector.push_swap(self.clock.position(index, frame), hsv)),
            None => self.detector.skip(),
        }
        Ok(())
    }
}

/// Decodes and scores on the calling thread.
fn detect_serial(decoder: &mut VideoDecoder, scorer: &mut FrameScorer) -> Result<DecodeStats, MediaError> {
    let mut failure = None;
    let stats = decoder.for_each_frame(|decoded| match scorer.push(decoded.index, decoded.time_s, decoded.frame) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            failure = Some(e);
            ControlFlow::Break(())
        }
    })?;
    failure.map_or(Ok(stats), Err)
}

/// Decodes on the calling thread (and the decoder's own threads) while another thread scores the frames decoded
/// before: the two halves of the work overlap on a machine with a free core. Frames move between the threads by
/// reference (their buffers are reference-counted), a few at a time.
fn detect_pipelined(
    decoder: &mut VideoDecoder,
    color: ColorPath,
    downscale: u32,
    detector: ContentDetector,
    clock: Clock,
) -> Result<(DecodeStats, Scored), MediaError> {
    std::thread::scope(|scope| {
        let (frames, received) = std::sync::mpsc::sync_channel::<(u64, f64, VideoFrame)>(PIPELINE_FRAMES);
        let scoring = scope.spawn(move || {
            // Built on this thread: swscale contexts cannot move between threads.
            let mut scorer = FrameScorer::new(color, downscale, detector, clock);
            for (index, time_s, frame) in received {
                scorer.push(index, time_s, &frame)?;
            }
            Ok::<_, MediaError>(scorer.finish())
        });
        let decoded = decoder.for_each_frame(|decoded| {
            let frame = std::mem::replace(decoded.frame, VideoFrame::empty());
            // A closed channel means scoring failed: its error is returned below.
            let sent = frames.send((decoded.index, decoded.time_s, frame));
            if sent.is_ok() { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        });
        drop(frames);
        let scorer = scoring.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok((decoded?, scorer))
    })
}

/// Decoder threads for a pass over `width`x`height` frames: `threads` when given; for 0 (automatic) one per core,
/// but one fewer when scoring is about as heavy as decoding (the resizer reads a third of the pixels or more), so
/// the scoring thread has a core of its own. Measured on 2 cores: a 480x352 video (every pixel read) took 1.7x the
/// wall time with two frame threads beside the scoring thread than with one; a 1280x720 one (1 pixel in 25) 0.7x.
fn decoder_threads(threads: usize, downscale: u32, width: u32, height: u32) -> usize {
    if threads != 0 {
        return threads;
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let factor = downscale_factor(downscale, width, height);
    let (dw, dh) = downscaled_size(width as usize, height as usize, factor);
    let sampled = Resizer::new(width as usize, height as usize, dw.max(1), dh.max(1)).sampled_pixels();
    let heavy = 3 * sampled >= (width as usize) * (height as usize);
    if heavy { cores.saturating_sub(1).max(1) } else { cores }
}

/// [`detect_scenes`] with explicit [`DetectOptions`]. With one thread everything runs on the calling thread;
/// otherwise scoring runs on a thread of its own, overlapping decoding.
pub fn detect_scenes_with(path: &Path, config: &SceneConfig, options: DetectOptions) -> Result<SceneList, MediaError> {
    let threads = |width, height| decoder_threads(options.threads, config.downscale, width, height);
    let mut decoder = VideoDecoder::open_with(path, threads)?.with_limits(options.limits);
    let fps = normalize_fps(decoder.fps()?);
    let detector = ContentDetector::from_config(config, fps)?;
    let clock = Clock::new(&decoder, fps);
    let (stats, scored) = if options.threads == 1 {
        let mut scorer = FrameScorer::new(options.color, config.downscale, detector, clock);
        (detect_serial(&mut decoder, &mut scorer)?, scorer.finish())
    } else {
        detect_pipelined(&mut decoder, options.color, config.downscale, detector, clock)?
    };
    let Scored { size, detector, mut cuts, times } = scored;
    let (width, height) = size.unwrap_or((decoder.width(), decoder.height()));
    cuts.sort_unstable_by_key(|cut| cut.index);
    cuts.dedup_by_key(|cut| cut.index);
    if config.detector == Detector::Stride {
        cuts = stride_cuts(stats.frames, fps, config.stride_s).into_iter().map(|f| Position::counted(f, fps)).collect();
    }
    Ok(SceneList {
        fps,
        frames: stats.frames,
        width,
        height,
        cuts: cuts.iter().map(|cut| cut.index).collect(),
        cut_frames: cuts.iter().map(|cut| cut.frame(fps)).collect(),
        cut_seconds: cuts.iter().map(|cut| cut.us as f64 / 1e6).collect(),
        frame_times: times,
        scores: detector.into_scores(),
    })
}

#[cfg(test)]
impl SceneList {
    /// A 64x64 list at 25 fps without frame times, its cuts numbered and timed by their frames (tests).
    pub(crate) fn at_25_fps(frames: u64, cuts: Vec<u64>, scores: Vec<f32>) -> Self {
        let cut_seconds = cuts.iter().map(|&c| c as f64 / 25.0).collect();
        let cut_frames = cuts.clone();
        Self {
            fps: 25.0,
            frames,
            width: 64,
            height: 64,
            cuts,
            cut_frames,
            cut_seconds,
            frame_times: Vec::new(),
            scores,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(frames: u64, cuts: Vec<u64>) -> SceneList {
        SceneList::at_25_fps(frames, cuts, vec![0.0; frames as usize])
    }

    #[test]
    fn scenes_cover_the_video() {
        assert_eq!(list(100, vec![]).scenes(), vec![(0, 100)]);
        assert_eq!(list(100, vec![30, 60]).scenes(), vec![(0, 30), (30, 60), (60, 100)]);
        assert_eq!(list(100, vec![0, 30, 100]).scenes(), vec![(0, 30), (30, 100)]);
        assert!(list(0, vec![]).scenes().is_empty());
    }

    #[test]
    fn ntsc_rates_snap() {
        assert_eq!(normalize_fps(25.0), 25.0);
        assert_eq!(normalize_fps(29.970_029_970_029_97), 30000.0 / 1001.0);
        assert_eq!(normalize_fps(29.97), 30000.0 / 1001.0);
        assert_eq!(normalize_fps(23.976), 24000.0 / 1001.0);
        assert_eq!(normalize_fps(12.5), 12.5);
    }

    #[test]
    fn every_color_path_gives_the_bytes_of_swscale() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        // Dense and sparse linear downscales, a downscale too wide for the planar windows, an exact 2x (INTER_AREA),
        // no downscale (a copy), odd widths; 4:2:0 limited and full range (the sampled/planar paths), 4:4:4 limited
        // and full range (swscale's full-chroma arithmetic per pixel) and 4:2:2 (swscale alone); odd heights (4:2:0:
        // swscale's general scaler ported; odd width too: swscale alone).
        let sizes = [
            (480, 352),
            (1280, 720),
            (768, 576),
            (1920, 1080),
            (512, 288),
            (176, 144),
            (722, 406),
            (333, 20),
            (720, 405),
            (640, 361),
            (1280, 9),
            (333, 21),
        ];
        let formats = [Pixel::YUV420P, Pixel::YUVJ420P, Pixel::YUV444P, Pixel::YUVJ444P, Pixel::YUV422P];
        for (width, height) in sizes {
            for format in formats {
                let mut frame = VideoFrame::new(format, width, height);
                for plane in 0..frame.planes() {
                    rng.fill(frame.data_mut(plane));
                }
                let hsv = |color| {
                    let mut pipeline = FramePipeline::new(color, 0);
                    pipeline.process(&frame).expect("converts").expect("same size").clone()
                };
                let swscale = hsv(ColorPath::Swscale);
                crate::scene::simd::tests::with_each_level(|level| {
                    assert!(hsv(ColorPath::Sampled) == swscale, "{format:?} {width}x{height} {level:?}");
                });
            }
        }
    }

    #[test]
    fn pipelined_detection_equals_serial_detection() {
        use crate::synth::{SynthSpec, plan_video, write_video};
        let dir = tempfile::tempdir().expect("tempdir");
        // 4:2:0 at 480x352 (a dense downscale through swscale) and 1280x720 (the sampled YUV path).
        for (index, (width, height)) in [(480, 352), (1280, 720)].into_iter().enumerate() {
            let spec = SynthSpec {
                seed: 11,
                width,
                height,
                min_shots: 3,
                max_shots: 3,
                min_shot_s: 1.0,
                max_shot_s: 1.5,
                ..SynthSpec::default()
            };
            let plan = plan_video(&spec, index);
            let path = dir.path().join(format!("{index}.mp4"));
            write_video(&plan, &spec, &path).expect("synthetic video");
            let config = SceneConfig::default();
            let serial = detect_scenes(&path, &config, 1).expect("serial");
            assert!(!serial.cuts.is_empty(), "{width}x{height}: the shots are cut");
            for threads in [0, 2] {
                assert_eq!(detect_scenes(&path, &config, threads).expect("pipelined"), serial, "{width}x{height}");
            }
        }
    }

    #[test]
    fn missing_file_is_an_error() {
        let config = SceneConfig::default();
        assert!(detect_scenes(Path::new("/nonexistent/video.mp4"), &config, 1).is_err());
    }
}
