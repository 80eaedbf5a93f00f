//! `cut_precise`: exact cutting by re-encoding. The video is decoded once; each decoded frame goes to the H.264
//! encoder of every span containing it, so each clip holds exactly frames `start_frame..end_frame` (video only,
//! constant frame rate at the source's average rate).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clipstream_schemas::config::CutConfig;
use ffmpeg_next::Rational;
use ffmpeg_next::media::Type;

use crate::decode::VideoDecoder;
use crate::encode::{Mp4Settings, Mp4Writer};
use crate::error::MediaError;
use crate::frames::FrameSampler;
use crate::probe::init;
use crate::span::ClipSpan;

/// The average frame rate of the video stream as a rational (falls back to the base rate, then 25).
fn frame_rate(path: &Path) -> Result<Rational, MediaError> {
    init();
    let input = crate::open::open_input(path)?;
    let stream = input.streams().best(Type::Video).ok_or_else(|| MediaError::NoVideoStream { path: path.into() })?;
    let usable = |r: Rational| r.numerator() > 0 && r.denominator() > 0 && f64::from(r) <= 1000.0;
    Ok([stream.avg_frame_rate(), stream.rate()].into_iter().find(|r| usable(*r)).unwrap_or(Rational(25, 1)))
}

/// Re-encodes each span of the video at `path` into the matching file of `out_paths` with x264 at the config's
/// crf and preset, in one decode pass; encoders of overlapping spans run side by side. A span reaching past the
/// last decodable frame is an error (`decode.missing_frames`). With a `sampler` (whose wanted frames lie inside
/// the spans), every decoded frame is handed to it too, so the clips' JPEG frames come from the same pass.
pub fn cut_precise(
    path: &Path,
    spans: &[ClipSpan],
    out_paths: &[PathBuf],
    config: &CutConfig,
    mut sampler: Option<&mut FrameSampler>,
) -> Result<(), MediaError> {
    if spans.len() != out_paths.len() {
        return Err(MediaError::Invalid(format!("{} spans but {} output paths", spans.len(), out_paths.len())));
    }
    let fps = frame_rate(path)?;
    let mut decoder = VideoDecoder::open(path, 0)?;
    let settings = Mp4Settings {
        crf: config.crf,
        preset: config.preset.clone(),
        fps,
        ..Mp4Settings::new(decoder.width(), decoder.height(), 25)
    };
    let last = spans.iter().map(|s| s.end_frame).max().unwrap_or(0);
    let mut writers: Vec<Option<Mp4Writer>> = spans.iter().map(|_| None).collect();
    let mut done = vec![false; spans.len()];
    let mut failure = None;
    let stats = decoder.for_each_frame(|decoded| {
        let mut step = || -> Result<(), MediaError> {
            for (i, span) in spans.iter().enumerate() {
                if !(span.start_frame..span.end_frame).contains(&decoded.index) {
                    continue;
                }
                let writer = match &mut writers[i] {
                    Some(writer) => writer,
                    slot => slot.insert(Mp4Writer::create(&out_paths[i], &settings)?),
                };
                writer.write_frame(decoded.frame)?;
                if decoded.index + 1 == span.end_frame
                    && let Some(writer) = writers[i].take()
                {
                    writer.finish()?;
                    done[i] = true;
                }
            }
            if let Some(sampler) = sampler.as_deref_mut() {
                sampler.visit(decoded.index, decoded.frame)?;
            }
            Ok(())
        };
        if let Err(e) = step() {
            failure = Some(e);
            return ControlFlow::Break(());
        }
        if decoded.index + 1 >= last { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(i) = done.iter().position(|d| !d) {
        let first_missing = spans[i].start_frame.max(stats.frames);
        return Err(MediaError::MissingFrames { path: path.to_path_buf(), first_missing, decoded: stats.frames });
    }
    Ok(())
}
