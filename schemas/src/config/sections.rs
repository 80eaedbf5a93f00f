//! The configuration sections and their defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Everything `clipstream curate` can be told.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurateConfig {
    pub source: SourceConfig,
    pub fetch: FetchConfig,
    pub probe: ProbePolicy,
    pub scene: SceneConfig,
    pub clips: ClipFilter,
    pub cut: CutConfig,
    pub frames: FramesConfig,
    pub caption: super::CaptionConfig,
    pub score: super::ScoreConfig,
    pub sink: SinkConfig,
    pub kafka: KafkaConfig,
    pub metrics: MetricsConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// Input rows per timely epoch.
    pub batch_size: usize,
    /// Try again videos that have a permanent error record from an earlier run into the same output.
    pub retry_errors: bool,
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self { batch_size: 16, retry_errors: false }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    /// Largest video accepted, bytes.
    pub max_bytes: u64,
    pub connect_timeout_s: f64,
    /// Longest pause between two chunks of a download.
    pub read_timeout_s: f64,
    /// Longest whole download.
    pub total_timeout_s: f64,
    pub max_redirects: usize,
    /// Hosts (names or IP literals) allowed even though they resolve to loopback/private/link-local addresses.
    pub allow_hosts: Vec<String>,
    pub user_agent: String,
    /// Where downloads are staged; empty = the system temp directory.
    pub temp_dir: PathBuf,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            max_bytes: 4 << 30,
            connect_timeout_s: 10.0,
            read_timeout_s: 60.0,
            total_timeout_s: 1800.0,
            max_redirects: 5,
            allow_hosts: Vec::new(),
            user_agent: concat!("clipstream/", env!("CARGO_PKG_VERSION")).to_string(),
            temp_dir: PathBuf::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbePolicy {
    pub min_duration_s: f64,
    pub max_duration_s: f64,
    pub min_width: u32,
    pub min_height: u32,
}

impl Default for ProbePolicy {
    fn default() -> Self {
        Self { min_duration_s: 2.0, max_duration_s: 4.0 * 3600.0, min_width: 64, min_height: 64 }
    }
}

/// Which scene splitter runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// PySceneDetect 0.7 ContentDetector semantics.
    Content,
    /// Fixed-length pieces of `stride_s` seconds.
    Stride,
}

/// What happens to cuts closer than `min_scene_len` frames (PySceneDetect's `FlashFilter` modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlashMode {
    Merge,
    Suppress,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SceneConfig {
    pub detector: Detector,
    /// ContentDetector threshold on the weighted HSV frame delta (PySceneDetect default 27).
    pub threshold: f64,
    /// Minimum scene length in frames (PySceneDetect Python API default 15).
    pub min_scene_len: u32,
    /// Weights of the hue, saturation, luma and edge deltas. Edges are not computed: the last weight must be 0.
    pub weights: [f64; 4],
    pub flash_filter: FlashMode,
    /// Downscale factor applied before detection; 0 = automatic like PySceneDetect (width / 256).
    pub downscale: u32,
    /// Piece length of the stride splitter, seconds.
    pub stride_s: f64,
}

impl Default for SceneConfig {
    fn default() -> Self {
        Self {
            detector: Detector::Content,
            threshold: 27.0,
            min_scene_len: 15,
            weights: [1.0, 1.0, 1.0, 0.0],
            flash_filter: FlashMode::Merge,
            downscale: 0,
            stride_s: 10.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClipFilter {
    /// Scenes shorter than this are dropped.
    pub min_duration_s: f64,
    /// Scenes longer than this are split into equal pieces no longer than this.
    pub max_duration_s: f64,
    /// Clips whose mean ContentDetector score is below this are still (static) and dropped.
    pub still_max_motion: f64,
    /// Clips whose mean ContentDetector score is above this are over-dynamic (flashing, noise) and dropped.
    pub dynamic_min_motion: f64,
}

impl Default for ClipFilter {
    fn default() -> Self {
        Self { min_duration_s: 2.0, max_duration_s: 60.0, still_max_motion: 0.2, dynamic_min_motion: 18.0 }
    }
}

/// How clip video files are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutMode {
    /// Stream copy from the keyframe at or before the clip start (fast; may start up to one GOP early).
    Keyframe,
    /// Re-encode H.264 from the exact start frame to the exact end frame.
    Precise,
    /// No `{key}.mp4` in the shards; frames only.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CutConfig {
    pub mode: CutMode,
    /// x264 constant rate factor of `precise` mode.
    pub crf: u32,
    /// x264 preset of `precise` mode.
    pub preset: String,
}

impl Default for CutConfig {
    fn default() -> Self {
        Self { mode: CutMode::Keyframe, crf: 23, preset: "veryfast".to_string() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FramesConfig {
    /// Uniformly spaced frames per clip, stored as `{key}.f{i}.jpg` (8 for ViCLIP training).
    pub count: u32,
    /// Frames are resized so their shorter side has this many pixels (never upscaled).
    pub short_side: u32,
    /// JPEG quality, 1-100.
    pub jpeg_quality: u8,
}

impl Default for FramesConfig {
    fn default() -> Self {
        Self { count: 8, short_side: 224, jpeg_quality: 90 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SinkConfig {
    /// A shard is closed once its tar reaches this size.
    pub max_shard_bytes: u64,
    /// ... or holds this many clips.
    pub max_shard_clips: u64,
    /// ... or its first video has waited this long, seconds (Kafka offsets are committed only after the shards
    /// holding their videos are, so a quiet topic still makes progress). 0 = only at the end of the input.
    pub max_shard_age_s: f64,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self { max_shard_bytes: 1 << 30, max_shard_clips: 10_000, max_shard_age_s: 300.0 }
    }
}

/// The Kafka source (`clipstream curate --source kafka`) and the `enqueue` producer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port[,host:port...]`.
    pub brokers: String,
    /// Topic of JSON `VideoRequest` messages, keyed by video id.
    pub topic: String,
    /// Consumer group whose committed offsets say where to resume.
    pub group_id: String,
    /// Dead-letter topic for messages and videos that failed (original bytes + reason headers); "" disables.
    pub dlq_topic: String,
    /// A timely epoch closes after this long, or after `source.batch_size` messages, whichever comes first.
    pub epoch_ms: u64,
    /// Longest wait for one message before checking for shutdown and progress.
    pub poll_ms: u64,
    /// Timeout of metadata, watermark and commit calls.
    pub request_timeout_ms: u64,
    /// Extra librdkafka properties (`security.protocol`, `sasl.*`, ...), passed through unchanged.
    pub client: std::collections::BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".to_string(),
            topic: "clipstream.videos".to_string(),
            group_id: "clipstream-curate".to_string(),
            dlq_topic: "clipstream.videos.dlq".to_string(),
            epoch_ms: 1000,
            poll_ms: 100,
            request_timeout_ms: 10_000,
            client: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the Prometheus `/metrics` endpoint; empty disables it. Port 0 picks a free port (logged).
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { listen: "127.0.0.1:9898".to_string() }
    }
}
