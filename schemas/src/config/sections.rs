//! The configuration sections and their defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Everything `clipstream` can be told: the sections of `curate` (and the jobs built from it) and `[train]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
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
    pub train: super::TrainConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// Input rows per timely epoch.
    pub batch_size: usize,
    /// Try again videos that have a permanent error record from an earlier run into the same output.
    pub retry_errors: bool,
    /// Videos in flight per worker: admitted by the source and not yet at the sinks (in whole epochs, at least
    /// two), and the most any asynchronous stage (fetch, caption, score) works on at once per worker. Bounds memory
    /// and scratch disk whatever the latencies.
    pub max_inflight_videos: usize,
}

impl SourceConfig {
    /// Epochs the source keeps in flight for `workers` workers in all: `max_inflight_videos` per worker in
    /// whole epochs of `batch_size`, at least two per worker (one being worked on, one arriving).
    pub fn epochs_in_flight(&self, workers: usize) -> u64 {
        let videos = self.max_inflight_videos.max(1) * workers.max(1);
        (videos.div_ceil(self.batch_size.max(1)) as u64).max(2 * workers.max(1) as u64)
    }
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self { batch_size: 16, retry_errors: false, max_inflight_videos: 32 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    /// Downloads in flight at once per process (all workers); a video's decoding starts as soon as its own
    /// download is complete.
    pub concurrency: usize,
    /// No new download starts while downloaded videos not yet done with (their temp files) hold this many bytes
    /// or more, per process: the temp disk holds at most this plus `concurrency` downloads in progress.
    pub max_inflight_bytes: u64,
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
    /// Folders whose files untrusted requests (Kafka messages, hydrate rows) may name as plain paths or `file://`
    /// URLs; resolved with symlinks followed. Empty = untrusted requests can name no local file. Requests from the
    /// operator's own input lists may always name local files.
    pub local_roots: Vec<PathBuf>,
    /// Buckets (`s3://BUCKET/...`, `gs://`, `az://`) untrusted requests may fetch from with the job's own cloud
    /// credentials. Empty = untrusted requests can name no object-store URL.
    pub allow_buckets: Vec<String>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            concurrency: 16,
            max_inflight_bytes: 8 << 30,
            max_bytes: 4 << 30,
            connect_timeout_s: 10.0,
            read_timeout_s: 60.0,
            total_timeout_s: 1800.0,
            max_redirects: 5,
            allow_hosts: Vec::new(),
            user_agent: concat!("clipstream/", env!("CARGO_PKG_VERSION")).to_string(),
            temp_dir: PathBuf::new(),
            local_roots: Vec::new(),
            allow_buckets: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbePolicy {
    pub min_duration_s: f64,
    /// Longest video: checked on the header, and again on the decoded frames (a header can lie).
    pub max_duration_s: f64,
    pub min_width: u32,
    pub min_height: u32,
    /// Largest frame accepted, checked before decoding (`probe.too_large`).
    pub max_width: u32,
    pub max_height: u32,
    pub max_pixels: u64,
    /// Corrupt packets the decoder may skip before the video is refused (`probe.bad_packets`).
    pub max_bad_packets: u64,
    /// Longest wall time of one decode pass over a video, seconds (`decode.timeout`).
    pub max_decode_s: f64,
}

impl Default for ProbePolicy {
    fn default() -> Self {
        Self {
            min_duration_s: 2.0,
            max_duration_s: 4.0 * 3600.0,
            min_width: 64,
            min_height: 64,
            max_width: 7680,
            max_height: 7680,
            max_pixels: 7680 * 4320,
            max_bad_packets: 8,
            max_decode_s: 3600.0,
        }
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
    /// Tries of a shard commit (and of its error records) before its videos become `sink.store` error records.
    pub commit_attempts: u32,
    /// Pause before the second try, doubling per try up to 30 s, milliseconds.
    pub commit_backoff_ms: u64,
    /// Closed shards uploading in the background per worker while the next one fills; a worker with this many
    /// waits for one to finish before it closes another.
    pub max_uploads: usize,
    /// The first process of a job compacts an index kind (`index/committed`, `index/failed`) at start once it holds
    /// this many deltas (one per shard or error file written since the last compaction).
    pub index_compact_deltas: usize,
    /// Bytes of settled-index blocks (4 KiB each) a process keeps in memory.
    pub index_cache_bytes: u64,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            max_shard_bytes: 1 << 30,
            max_shard_clips: 10_000,
            max_shard_age_s: 300.0,
            commit_attempts: 5,
            commit_backoff_ms: 1000,
            max_uploads: 2,
            index_compact_deltas: 64,
            index_cache_bytes: 16 << 20,
        }
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
    /// Largest message accepted; a larger one becomes a `source.too_large` dead letter without being parsed.
    pub max_message_bytes: usize,
    /// Bytes of a bad message's payload copied into its dead letter; the whole original is stored under
    /// `errors/dead-letters/` when it is longer. Header values are cut to 4 KiB.
    pub dlq_payload_bytes: usize,
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
            max_message_bytes: 1 << 20,
            dlq_payload_bytes: 64 << 10,
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
