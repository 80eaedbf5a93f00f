//! `MediaError`: what can go wrong in the ffmpeg stages, with low-cardinality codes for metrics and error records.

use std::path::PathBuf;

use clipstream_schemas::error::StageError;
use thiserror::Error;

/// Failures of probe, decode, scene cutting, clip cutting, frame sampling and synthesis.
#[derive(Debug, Error)]
pub enum MediaError {
    #[error("cannot open {path} as a video container (playlists, lists of files and image sequences are refused)")]
    Open {
        path: PathBuf,
        #[source]
        source: ffmpeg_next::Error,
    },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("{path} has no video stream")]
    NoVideoStream { path: PathBuf },
    #[error("{path}: no decoder for codec {codec}")]
    Codec {
        path: PathBuf,
        codec: String,
        #[source]
        source: ffmpeg_next::Error,
    },
    #[error("{path}: frame rate {fps} is unusable")]
    BadFrameRate { path: PathBuf, fps: f64 },
    #[error("video is {duration_s:.2}s long; the policy allows {min_s}s..{max_s}s")]
    Duration { duration_s: f64, min_s: f64, max_s: f64 },
    #[error("video is {width}x{height}; the policy needs at least {min_width}x{min_height}")]
    TooSmall { width: u32, height: u32, min_width: u32, min_height: u32 },
    #[error("video is {width}x{height}; the policy allows at most {max_width}x{max_height} and {max_pixels} pixels")]
    TooLarge { width: u32, height: u32, max_width: u32, max_height: u32, max_pixels: u64 },
    #[error("{path}: decoded frames reach {time_s:.1}s, past the limit of {max_s}s (whatever the header says)")]
    DecodedTooLong { path: PathBuf, time_s: f64, max_s: f64 },
    #[error("{path}: more than {limit} corrupt packets")]
    BadPackets { path: PathBuf, limit: u64 },
    #[error("{path}: decoding took longer than {limit_s}s")]
    DecodeTimeout { path: PathBuf, limit_s: f64 },
    #[error("decoding {path} failed after {frames} frames")]
    Decode {
        path: PathBuf,
        frames: u64,
        #[source]
        source: ffmpeg_next::Error,
    },
    #[error("{path}: no frame could be decoded")]
    NoFrames { path: PathBuf },
    #[error("{path}: frame {first_missing} is needed but the video decoded only {decoded} frames")]
    MissingFrames { path: PathBuf, first_missing: u64, decoded: u64 },
    #[error("pixel conversion failed")]
    Scale(#[source] ffmpeg_next::Error),
    #[error("encoding failed: {what}")]
    Encode {
        what: String,
        #[source]
        source: ffmpeg_next::Error,
    },
    /// The mp4 muxer refused the copied stream's parameters (e.g. MS-MPEG4 from AVI): it cannot be cut by copying.
    #[error("the stream cannot be copied into mp4 ({path})")]
    CopyRefused {
        path: PathBuf,
        #[source]
        source: ffmpeg_next::Error,
    },
    #[error("writing {path} failed")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

impl StageError for MediaError {
    fn code(&self) -> &'static str {
        match self {
            MediaError::Open { .. } => "probe.not_a_video",
            MediaError::NotAFile { .. } => "probe.not_a_file",
            MediaError::NoVideoStream { .. } => "probe.no_video_stream",
            MediaError::Codec { .. } => "probe.unsupported_codec",
            MediaError::BadFrameRate { .. } => "probe.bad_frame_rate",
            MediaError::Duration { duration_s, min_s, .. } if duration_s < min_s => "probe.too_short",
            MediaError::Duration { .. } => "probe.too_long",
            MediaError::TooSmall { .. } => "probe.too_small",
            MediaError::TooLarge { .. } => "probe.too_large",
            MediaError::DecodedTooLong { .. } => "probe.too_long",
            MediaError::BadPackets { .. } => "probe.bad_packets",
            MediaError::DecodeTimeout { .. } => "decode.timeout",
            MediaError::Decode { .. } => "decode.failed",
            MediaError::NoFrames { .. } => "decode.no_frames",
            MediaError::MissingFrames { .. } => "decode.missing_frames",
            MediaError::Scale(_) => "decode.scale",
            MediaError::Encode { .. } | MediaError::CopyRefused { .. } => "encode.failed",
            MediaError::Io { .. } => "media.io",
            MediaError::Invalid(_) => "media.invalid",
        }
    }

    fn retryable(&self) -> bool {
        matches!(self, MediaError::Io { .. })
    }
}
