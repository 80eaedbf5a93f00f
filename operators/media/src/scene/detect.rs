//! `detect_scenes`: one decode pass over a video that downscales each frame like PySceneDetect, converts it to HSV
//! and runs the [`ContentDetector`] (or the fixed-stride splitter), keeping every frame's content score for the
//! clip planner.

use std::ops::ControlFlow;
use std::path::Path;

use clipstream_schemas::config::{Detector, SceneConfig};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::Video as VideoFrame;

use crate::decode::{DecodeLimits, VideoDecoder};
use crate::error::MediaError;
use crate::probe::probe;
use crate::scaler::CachedScaler;
use crate::scene::compact::CompactRows;
use crate::scene::content::ContentDetector;
use crate::scene::hsv::HsvFrame;
use crate::scene::resize::{PackedBgr, Resizer, downscale_factor, downscaled_size};
use crate::scene::stride::stride_cuts;
use crate::scene::yuv::YuvPlanes;

/// The scenes of a video: where new scenes start, and the content score of every frame.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneList {
    /// Frame rate as OpenCV's `CAP_PROP_FPS` reports it (average frame rate; NTSC rates snapped to N*1000/1001).
    pub fps: f64,
    /// Decoded frames.
    pub frames: u64,
    pub width: u32,
    pub height: u32,
    /// Frame numbers (0-based, decode order) where a new scene starts, ascending; PySceneDetect's cut list.
    pub cuts: Vec<u64>,
    /// `content_val` of each frame against the previous one (0 for the first).
    pub scores: Vec<f32>,
}

impl SceneList {
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
    /// `yuv420p` frames are converted only at the pixels the resizer samples when that is under a third of the
    /// frame (large downscales, e.g. 1 pixel in 25 at 720p); 4:4:4 and 4:2:2 frames only at the rows it reads
    /// (swscale on a frame of those rows); otherwise swscale converts the whole frame (its SIMD beats per-pixel
    /// conversion when most pixels are needed anyway).
    #[default]
    Sampled,
    /// Every frame is converted in full by swscale (bicubic, like OpenCV's capture), then downscaled.
    Swscale,
}

/// Knobs of a detection pass beyond the scene configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DetectOptions {
    /// Decoder threads; 0 lets ffmpeg choose, 1 decodes on the calling thread only.
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
    /// Converts only the rows the resizer reads, for formats that convert row by row (built once, `None` inside
    /// when that does not apply).
    compact: Option<Option<CompactRows>>,
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
            compact: None,
            scaler: None,
            converted: VideoFrame::empty(),
            hsv: HsvFrame::default(),
        }
    }

    /// The downscaled HSV image of `frame`, or `None` for a frame whose size differs from the first frame's
    /// (PySceneDetect skips those).
    fn process(&mut self, frame: &VideoFrame) -> Result<Option<&HsvFrame>, MediaError> {
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
            if let Some(mut planes) = YuvPlanes::new(frame).filter(|_| sparse) {
                resizer.run_rows(&mut planes, to_hsv);
                return Ok(Some(&self.hsv));
            }
            let compact = match &mut self.compact {
                Some(compact) => compact,
                slot => slot.insert(CompactRows::new(frame.format(), width, height, resizer.source_rows())?),
            };
            if let Some(compact) = compact.as_mut().filter(|c| c.format() == frame.format()) {
                resizer.run_rows(&mut compact.convert(frame)?, to_hsv);
                return Ok(Some(&self.hsv));
            }
        }
        let scaler =
            self.scaler.get_or_insert_with(|| CachedScaler::new(Pixel::BGR24, width, height, scaling::Flags::BICUBIC));
        scaler.run(frame, &mut self.converted)?;
        let mut packed = PackedBgr { data: self.converted.data(0), stride: self.converted.stride(0) };
        resizer.run_rows(&mut packed, to_hsv);
        Ok(Some(&self.hsv))
    }
}

/// [`detect_scenes`] with explicit [`DetectOptions`].
pub fn detect_scenes_with(path: &Path, config: &SceneConfig, options: DetectOptions) -> Result<SceneList, MediaError> {
    let fps = normalize_fps(probe(path)?.fps);
    let mut detector = ContentDetector::from_config(config)?;
    let mut decoder = VideoDecoder::open(path, options.threads)?.with_limits(options.limits);
    let mut pipeline = FramePipeline::new(options.color, config.downscale);
    let mut cuts = Vec::new();
    let mut failure = None;
    let stats = decoder.for_each_frame(|decoded| match pipeline.process(decoded.frame) {
        Ok(Some(hsv)) => {
            cuts.extend(detector.push(decoded.index, hsv));
            ControlFlow::Continue(())
        }
        Ok(None) => {
            detector.skip();
            ControlFlow::Continue(())
        }
        Err(e) => {
            failure = Some(e);
            ControlFlow::Break(())
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let (width, height) = pipeline.size.unwrap_or((decoder.width(), decoder.height()));
    cuts.sort_unstable();
    cuts.dedup();
    if config.detector == Detector::Stride {
        cuts = stride_cuts(stats.frames, fps, config.stride_s);
    }
    Ok(SceneList { fps, frames: stats.frames, width, height, cuts, scores: detector.into_scores() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(frames: u64, cuts: Vec<u64>) -> SceneList {
        SceneList { fps: 25.0, frames, width: 64, height: 64, cuts, scores: vec![0.0; frames as usize] }
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
    fn missing_file_is_an_error() {
        let config = SceneConfig::default();
        assert!(detect_scenes(Path::new("/nonexistent/video.mp4"), &config, 1).is_err());
    }
}
