//! The model-backed sections: captioning and scoring. Both are off by default (no weights ship with clipstream).

use serde::{Deserialize, Serialize};

/// Which backend writes one caption scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptionBackend {
    /// No caption at this scale.
    None,
    /// An OpenAI-compatible chat-completions server (vLLM, SGLang, llama.cpp, Ollama) with image inputs.
    VlmHttp,
    /// Zero-shot: templated captions from a vocabulary ranked by the `score` model (Tag2Text-like).
    Tags,
}

/// Captions at two scales: coarse (the middle frame) and fine (frames at `fine_fps`, summarised by a text request).
/// `caption` (the training text) is the fine caption when there is one, else the coarse one, else the request's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptionConfig {
    pub coarse: CaptionBackend,
    pub fine: CaptionBackend,
    /// Frames per second sampled for the fine caption.
    pub fine_fps: f64,
    /// At most this many fine-caption frames per clip (evenly thinned beyond it).
    pub max_fine_frames: u32,
    pub vlm: VlmHttpConfig,
    pub tags: TagsConfig,
}

impl Default for CaptionConfig {
    fn default() -> Self {
        Self {
            coarse: CaptionBackend::None,
            fine: CaptionBackend::None,
            fine_fps: 1.0,
            max_fine_frames: 32,
            vlm: VlmHttpConfig::default(),
            tags: TagsConfig::default(),
        }
    }
}

/// The `vlm-http` backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VlmHttpConfig {
    /// Base URL of the OpenAI-compatible API; `{base_url}/chat/completions` is called.
    pub base_url: String,
    /// Model name sent with every request.
    pub model: String,
    /// Environment variable holding the bearer token; unset or "" sends none.
    pub api_key_env: String,
    /// Requests in flight per process: over all videos of all workers (one limit per endpoint).
    pub concurrency: usize,
    /// Timeout of one request, seconds.
    pub timeout_s: f64,
    /// Retries after a failed request (connection error, timeout, HTTP 429 or 5xx); 4xx fail at once.
    pub retries: u32,
    /// First retry delay, milliseconds; doubled per retry.
    pub backoff_ms: u64,
    pub max_tokens: u32,
    pub temperature: f64,
    /// Prompt of the coarse caption (sent with the middle frame).
    pub coarse_prompt: String,
    /// Prompt of each fine-scale frame caption.
    pub frame_prompt: String,
    /// Prompt of the text-only summary; the frame captions follow it, one per line.
    pub summary_prompt: String,
}

impl Default for VlmHttpConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8000/v1".to_string(),
            model: "default".to_string(),
            api_key_env: "OPENAI_API_KEY".to_string(),
            concurrency: 64,
            timeout_s: 60.0,
            retries: 3,
            backoff_ms: 500,
            max_tokens: 96,
            temperature: 0.0,
            coarse_prompt: "Describe this video frame in one short sentence.".to_string(),
            frame_prompt: "Describe this video frame in one short sentence.".to_string(),
            summary_prompt: "These are captions of consecutive frames of one video clip, one per second. Summarise \
                             the clip in one sentence, describing the objects and the actions."
                .to_string(),
        }
    }
}

/// The `tags` backend: every template is filled from the vocabulary, embedded by the `score` model's text tower
/// and ranked against the clip; the best object, attribute and action compose the caption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TagsConfig {
    /// A JSON file `{"objects": [...], "attributes": [...], "actions": [...]}`; "" uses the built-in vocabulary.
    pub vocabulary: String,
    /// The caption template; `{attribute}`, `{object}` and `{action}` are replaced.
    pub template: String,
}

impl Default for TagsConfig {
    fn default() -> Self {
        Self { vocabulary: String::new(), template: "a {attribute} {object} {action}".to_string() }
    }
}

/// The model that computes video-text similarity (and embeds for the `tags` captioner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimilarityModel {
    None,
    /// ViCLIP: joint space-time attention over the frames.
    Viclip,
    /// CLIP: the mean of the frames' image embeddings.
    Clip,
}

/// Where models run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceChoice {
    /// CUDA (bf16) when available, else CPU (fp32).
    Auto,
    Cpu,
    Cuda,
}

/// Clip scores: video-text similarity of the clip's caption and the LAION aesthetic score (max over the frames).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreConfig {
    pub similarity: SimilarityModel,
    /// Architecture of `weights`: viclip-l14, viclip-b16, viclip-small, viclip-small-t2, viclip-small-t2-p28,
    /// viclip-tiny, clip-vit-l14, clip-vit-b16, clip-vit-b32, clip-tiny (`clipstream convert --arch` lists them).
    pub arch: String,
    /// Safetensors file of the similarity model (converted with `scripts/convert_checkpoint.py`).
    pub weights: String,
    /// Safetensors file of the LAION aesthetic MLP; "" disables the aesthetic score.
    pub aesthetic_weights: String,
    /// CLIP image tower whose embeddings the aesthetic MLP reads (ViT-L/14 for the LAION weights).
    pub aesthetic_clip_arch: String,
    pub aesthetic_clip_weights: String,
    /// Uniform frames per clip that are scored (taken from the clip's stored frames).
    pub frames: u32,
    /// Clips per model call; the clips of all videos reaching a worker's score stage are pooled into batches.
    pub batch_size: usize,
    /// The longest a video waits at the score stage for other videos' clips to fill a batch, milliseconds; a batch
    /// is scored as soon as it is full, and at once when no more videos can come.
    pub max_wait_ms: u64,
    pub device: DeviceChoice,
    /// One model instance per entry, each scoring batches from the same queue: `["cuda:0", "cuda:1"]` uses two GPUs
    /// in one process; empty = one instance on `device`.
    pub devices: Vec<String>,
    /// Clips with a lower similarity are dropped (counted); -inf keeps all.
    pub min_similarity: f64,
    /// Clips with a lower aesthetic score are dropped (counted); -inf keeps all.
    pub min_aesthetic: f64,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        Self {
            similarity: SimilarityModel::None,
            arch: "viclip-l14".to_string(),
            weights: String::new(),
            aesthetic_weights: String::new(),
            aesthetic_clip_arch: "clip-vit-l14".to_string(),
            aesthetic_clip_weights: String::new(),
            frames: 4,
            batch_size: 32,
            max_wait_ms: 1000,
            device: DeviceChoice::Auto,
            devices: Vec::new(),
            min_similarity: f64::NEG_INFINITY,
            min_aesthetic: f64::NEG_INFINITY,
        }
    }
}

impl ScoreConfig {
    /// Whether any model runs in the score stage.
    pub fn enabled(&self) -> bool {
        self.similarity != SimilarityModel::None || !self.aesthetic_weights.is_empty()
    }
}
