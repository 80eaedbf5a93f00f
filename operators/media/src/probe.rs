//! `probe`: container and stream facts of a video (duration, frame rate, size, codecs) and the policy check that
//! rejects out-of-policy videos with a reason.

use std::path::Path;

use clipstream_schemas::config::ProbePolicy;
use ffmpeg_next::media::Type;

use crate::error::MediaError;

/// What `probe` learns about a video.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeInfo {
    pub duration_s: f64,
    /// Average frame rate (falls back to the stream's base rate).
    pub fps: f64,
    /// Frame count from the container, when it declares one.
    pub frames: Option<u64>,
    pub width: u32,
    pub height: u32,
    pub video_codec: String,
    pub audio_codec: Option<String>,
    pub container: String,
    pub bit_rate: u64,
}

/// Initialises ffmpeg once and keeps its own logging quiet (failures surface as `MediaError`s instead).
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Initialisation only registers codecs; an error here would also surface when opening a file.
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}

fn rational(r: ffmpeg_next::Rational) -> f64 {
    if r.denominator() == 0 { 0.0 } else { f64::from(r.numerator()) / f64::from(r.denominator()) }
}

/// The frame rate of a video stream: its average rate, else its base rate; an error outside (0, 1000].
pub(crate) fn stream_fps(path: &Path, stream: &ffmpeg_next::format::stream::Stream<'_>) -> Result<f64, MediaError> {
    let mut fps = rational(stream.avg_frame_rate());
    if !(fps.is_finite() && fps > 0.0) {
        fps = rational(stream.rate());
    }
    if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
        return Err(MediaError::BadFrameRate { path: path.into(), fps });
    }
    Ok(fps)
}

/// Reads container and stream metadata without decoding.
pub fn probe(path: &Path) -> Result<ProbeInfo, MediaError> {
    init();
    let input = crate::open::open_input(path)?;
    let stream = input.streams().best(Type::Video).ok_or_else(|| MediaError::NoVideoStream { path: path.into() })?;
    let params = stream.parameters();
    let codec =
        ffmpeg_next::codec::context::Context::from_parameters(params).and_then(|ctx| ctx.decoder().video()).map_err(
            |source| MediaError::Codec { path: path.into(), codec: format!("{:?}", stream.parameters().id()), source },
        )?;
    let fps = stream_fps(path, &stream)?;
    let stream_duration = stream.duration() as f64 * rational(stream.time_base());
    let container_duration = input.duration() as f64 / f64::from(ffmpeg_next::ffi::AV_TIME_BASE);
    let duration_s = if stream.duration() > 0 { stream_duration } else { container_duration.max(0.0) };
    let audio_codec =
        input.streams().best(Type::Audio).map(|audio| format!("{:?}", audio.parameters().id()).to_lowercase());
    Ok(ProbeInfo {
        duration_s,
        fps,
        frames: u64::try_from(stream.frames()).ok().filter(|&n| n > 0),
        width: codec.width(),
        height: codec.height(),
        video_codec: format!("{:?}", stream.parameters().id()).to_lowercase(),
        audio_codec,
        container: input.format().name().to_string(),
        bit_rate: u64::try_from(input.bit_rate()).unwrap_or(0),
    })
}

/// Rejects videos outside the policy, with the reason.
pub fn check_policy(info: &ProbeInfo, policy: &ProbePolicy) -> Result<(), MediaError> {
    if info.duration_s < policy.min_duration_s || info.duration_s > policy.max_duration_s {
        return Err(MediaError::Duration {
            duration_s: info.duration_s,
            min_s: policy.min_duration_s,
            max_s: policy.max_duration_s,
        });
    }
    if info.width < policy.min_width || info.height < policy.min_height {
        return Err(MediaError::TooSmall {
            width: info.width,
            height: info.height,
            min_width: policy.min_width,
            min_height: policy.min_height,
        });
    }
    let pixels = u64::from(info.width) * u64::from(info.height);
    if info.width > policy.max_width || info.height > policy.max_height || pixels > policy.max_pixels {
        return Err(MediaError::TooLarge {
            width: info.width,
            height: info.height,
            max_width: policy.max_width,
            max_height: policy.max_height,
            max_pixels: policy.max_pixels,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipstream_schemas::error::StageError;

    fn info(duration_s: f64, width: u32, height: u32) -> ProbeInfo {
        ProbeInfo {
            duration_s,
            fps: 25.0,
            frames: None,
            width,
            height,
            video_codec: "h264".into(),
            audio_codec: None,
            container: "mp4".into(),
            bit_rate: 0,
        }
    }

    #[test]
    fn policy_rejects_with_codes() {
        let policy = ProbePolicy::default();
        assert!(check_policy(&info(10.0, 320, 240), &policy).is_ok());
        let code = |i: &ProbeInfo| check_policy(i, &policy).expect_err("rejected").code();
        assert_eq!(code(&info(1.0, 320, 240)), "probe.too_short");
        assert_eq!(code(&info(1e6, 320, 240)), "probe.too_long");
        assert_eq!(code(&info(10.0, 32, 240)), "probe.too_small");
        assert_eq!(code(&info(10.0, 16000, 16000)), "probe.too_large");
        assert_eq!(code(&info(10.0, 7681, 64)), "probe.too_large");
        assert!(check_policy(&info(10.0, 7680, 4320), &policy).is_ok());
        assert_eq!(code(&info(10.0, 7680, 4321)), "probe.too_large");
    }

    #[test]
    fn text_file_named_mp4_is_not_a_video() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.mp4");
        std::fs::write(&path, "this is plain text, not a video\n".repeat(50)).expect("write");
        assert_eq!(probe(&path).expect_err("text is refused").code(), "probe.not_a_video");
        assert_eq!(probe(&dir.path().join("missing.mp4")).expect_err("missing").code(), "probe.not_a_video");
    }
}
