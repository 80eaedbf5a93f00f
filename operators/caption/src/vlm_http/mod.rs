//! `VlmHttpCaptioner`: the `vlm-http` backend, any OpenAI-compatible chat-completions server with image inputs
//! (vLLM, SGLang, llama.cpp `llama-server`, Ollama). Coarse: one request per clip with its middle frame and
//! `coarse_prompt`. Fine: one request per fine frame with `frame_prompt`, then one text-only request with
//! `summary_prompt` and the frame captions, one per line. All requests of a call (every clip of a video) run on the
//! backend's own tokio runtime, at most `concurrency` in flight; each has a timeout and is retried with exponential
//! backoff after connection errors, timeouts, HTTP 429 and 5xx. Once a clip has failed for good, requests not yet
//! sent are not sent (the video fails anyway).

pub mod retry;
pub mod wire;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clipstream_schemas::config::VlmHttpConfig;
use clipstream_schemas::error::error_chain;
use clipstream_schemas::{ClipPayload, Jpeg};
use futures::future::{join_all, try_join_all};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::captioner::{Captioner, Scale, coarse_frame, fine_frames, read};
use crate::error::CaptionError;
use crate::metrics::{self, Outcome};

/// The backend's name (metric label, config value).
pub const BACKEND: &str = "vlm-http";
/// Answers larger than this are refused.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// The `vlm-http` captioner. Clones share the HTTP client and the runtime; every captioner of the process for the
/// same endpoint and `concurrency` shares one request limit (all workers, all videos).
#[derive(Clone)]
pub struct VlmHttpCaptioner {
    requests: Requests,
    runtime: Arc<tokio::runtime::Runtime>,
}

/// The request side of a captioner, without its runtime: what its background tasks hold (the last owner of a
/// runtime must not drop it from one of the runtime's own tasks).
#[derive(Clone)]
pub struct Requests {
    inner: Arc<Inner>,
}

struct Inner {
    config: VlmHttpConfig,
    /// `{base_url}/chat/completions`.
    url: String,
    client: reqwest::Client,
    limit: Arc<Semaphore>,
}

/// The process-wide request limit of `url` at `concurrency` (one per endpoint and setting, shared by the
/// captioners of all workers; a tokio semaphore works across their runtimes).
fn process_limit(url: &str, concurrency: usize) -> Arc<Semaphore> {
    type Limits = std::collections::HashMap<(String, usize), Arc<Semaphore>>;
    static LIMITS: std::sync::OnceLock<std::sync::Mutex<Limits>> = std::sync::OnceLock::new();
    let limits = LIMITS.get_or_init(Default::default);
    let mut limits = limits.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let permits = concurrency.clamp(1, Semaphore::MAX_PERMITS);
    limits.entry((url.to_owned(), permits)).or_insert_with(|| Arc::new(Semaphore::new(permits))).clone()
}

/// What one request asks about.
#[derive(Clone, Copy)]
enum Ask<'a> {
    /// A prompt and one JPEG.
    Image { prompt: &'a str, jpeg: &'a Jpeg },
    /// A text-only prompt.
    Text(&'a str),
}

/// A failed attempt and how long the server asked to wait before the next one.
struct Failure {
    error: CaptionError,
    retry_after: Option<Duration>,
}

impl From<CaptionError> for Failure {
    fn from(error: CaptionError) -> Self {
        Self { error, retry_after: None }
    }
}

/// The bearer token in environment variable `name`; none when `name` is empty or the variable is unset or empty.
pub fn api_key_from_env(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    std::env::var(name).ok().filter(|key| !key.is_empty())
}

impl VlmHttpCaptioner {
    /// A captioner for `config`, with the bearer token from the environment variable `config.api_key_env`.
    pub fn new(config: &VlmHttpConfig) -> Result<Self, CaptionError> {
        Self::with_api_key(config, api_key_from_env(&config.api_key_env).as_deref())
    }

    /// A captioner for `config` sending `api_key` (if any) as the bearer token.
    pub fn with_api_key(config: &VlmHttpConfig, api_key: Option<&str>) -> Result<Self, CaptionError> {
        let setup = |what: String| CaptionError::Setup(what);
        let mut url = reqwest::Url::parse(&format!("{}/chat/completions", config.base_url.trim_end_matches('/')))
            .map_err(|e| setup(format!("caption.vlm.base_url {:?}: {e}", config.base_url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(setup(format!("caption.vlm.base_url {:?} is not http(s)", config.base_url)));
        }
        if !(config.timeout_s.is_finite() && config.timeout_s > 0.0) {
            return Err(setup(format!("caption.vlm.timeout_s must be > 0, not {}", config.timeout_s)));
        }
        let mut headers = HeaderMap::new();
        if let Some(key) = api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| setup(format!("the API key in {} is not a valid header value", config.api_key_env)))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let timeout = Duration::from_secs_f64(config.timeout_s);
        let concurrency = config.concurrency.max(1);
        let mut client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("clipstream/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(concurrency);
        if is_loopback(&url) {
            // A server on this machine is never reached through a proxy.
            client = client.no_proxy();
        }
        let client = client.build().map_err(|e| setup(format!("building the HTTP client: {}", error_chain(&e))))?;
        // One thread drives the requests: blocking calls wait on it, background videos (`spawn`) run on it.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("clipstream-caption")
            .enable_all()
            .build()
            .map_err(|e| setup(format!("starting the caption runtime: {e}")))?;
        // Error reasons name the endpoint, never its credentials.
        let _ = url.set_password(None);
        let _ = url.set_username("");
        let inner = Inner {
            config: config.clone(),
            url: url.to_string(),
            client,
            limit: process_limit(url.as_str(), concurrency),
        };
        Ok(Self { requests: Requests { inner: Arc::new(inner) }, runtime: Arc::new(runtime) })
    }

    /// The endpoint called: `{base_url}/chat/completions`.
    pub fn url(&self) -> &str {
        &self.requests.inner.url
    }

    /// Runs the future `task` makes from the captioner's request side on its runtime, in the background.
    pub fn spawn<F>(&self, task: impl FnOnce(Requests) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(task(self.requests.clone()));
    }

    /// Captions every clip at `scale` on the runtime; once a clip has failed, the others send nothing more.
    fn run(&self, scale: Scale, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
        let stop = AtomicBool::new(false);
        self.runtime.block_on(self.requests.caption_async(scale, clips, &stop))
    }
}

impl Requests {
    /// Captions every clip at `scale` from async code (a task of [`VlmHttpCaptioner::spawn`]); once a clip has
    /// failed or `stop` is set, the others send nothing more (and `stop` is set when one fails).
    pub async fn caption_async(
        &self,
        scale: Scale,
        clips: &[&ClipPayload],
        stop: &AtomicBool,
    ) -> Vec<Result<String, CaptionError>> {
        let inner = &*self.inner;
        join_all(clips.iter().map(|clip| inner.caption_clip(scale, clip, stop))).await
    }
}

impl Captioner for VlmHttpCaptioner {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn coarse(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
        self.run(Scale::Coarse, clips)
    }

    fn fine(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
        self.run(Scale::Fine, clips)
    }
}

impl Inner {
    /// The caption of one clip; a failure stops the other clips of the call.
    async fn caption_clip(&self, scale: Scale, clip: &ClipPayload, stop: &AtomicBool) -> Result<String, CaptionError> {
        let result = match scale {
            Scale::Coarse => self.coarse_clip(clip, stop).await,
            Scale::Fine => self.fine_clip(clip, stop).await,
        };
        if let Err(error) = &result
            && !matches!(error, CaptionError::Cancelled)
        {
            stop.store(true, Ordering::Relaxed);
        }
        result
    }

    async fn coarse_clip(&self, clip: &ClipPayload, stop: &AtomicBool) -> Result<String, CaptionError> {
        let jpeg = coarse_frame(clip).ok_or(CaptionError::NoFrames)?;
        self.complete("coarse", Ask::Image { prompt: &self.config.coarse_prompt, jpeg }, stop).await
    }

    async fn fine_clip(&self, clip: &ClipPayload, stop: &AtomicBool) -> Result<String, CaptionError> {
        let frames = fine_frames(clip);
        if frames.is_empty() {
            return Err(CaptionError::NoFrames);
        }
        let prompt = &self.config.frame_prompt;
        let captions =
            try_join_all(frames.iter().map(|&jpeg| self.complete("fine", Ask::Image { prompt, jpeg }, stop))).await?;
        let summary = wire::summary_text(&self.config.summary_prompt, &captions);
        self.complete("summary", Ask::Text(&summary), stop).await
    }

    /// One caption request with its retries; `scale` is the metric label (`coarse`, `fine`, `summary`). The body is
    /// built only once a request slot is free, so queued requests hold no encoded images.
    async fn complete(&self, scale: &'static str, ask: Ask<'_>, stop: &AtomicBool) -> Result<String, CaptionError> {
        // Time holding a request slot (its attempts), not waiting for one: the latency is the server's, and the
        // run summary's "in flight" (Little's law over it) counts requests at the server.
        let mut busy = Duration::ZERO;
        let mut retry = 0u32;
        let result = loop {
            let attempt = {
                let Ok(_slot) = self.limit.acquire().await else {
                    break Err(CaptionError::Setup("the request limit was closed".into()));
                };
                let started = Instant::now();
                if stop.load(Ordering::Relaxed) {
                    break Err(CaptionError::Cancelled);
                }
                let content = match ask {
                    Ask::Image { prompt, jpeg } => match read(jpeg) {
                        Ok(bytes) => wire::image_content(prompt, &bytes),
                        Err(error) => break Err(error),
                    },
                    Ask::Text(text) => Value::String(text.to_string()),
                };
                let sent = self.send(wire::request_body(&self.config, content)).await;
                busy += started.elapsed();
                sent
            };
            match attempt {
                Ok(caption) => {
                    metrics::count_request(BACKEND, scale, Outcome::Ok);
                    break Ok(caption);
                }
                Err(failure) if retry < self.config.retries && retry::should_retry(&failure.error) => {
                    metrics::count_request(BACKEND, scale, Outcome::Retried);
                    let wait = retry::delay(retry, self.config.backoff_ms, failure.retry_after);
                    tracing::warn!(
                        scale,
                        attempt = retry + 1,
                        wait_ms = wait.as_millis() as u64,
                        error = %error_chain(&failure.error),
                        "caption request failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                Err(failure) => {
                    metrics::count_request(BACKEND, scale, Outcome::Failed);
                    let error = match retry {
                        0 => failure.error,
                        _ => CaptionError::Exhausted { attempts: retry + 1, last: Box::new(failure.error) },
                    };
                    break Err(error);
                }
            }
        };
        if !matches!(result, Err(CaptionError::Cancelled)) {
            metrics::observe_latency(BACKEND, scale, busy.as_secs_f64());
        }
        result
    }

    /// One attempt: POST `body`, read the answer, take the caption out of it.
    async fn send(&self, body: Vec<u8>) -> Result<String, Failure> {
        let response = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        let retry_after =
            response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry::parse_retry_after);
        let answer = self.read_answer(response).await;
        if !status.is_success() {
            let body = answer.map(|(bytes, _)| wire::snippet(&bytes)).unwrap_or_default();
            let error = CaptionError::Status { url: self.url.clone(), status: status.as_u16(), body };
            return Err(Failure { error, retry_after });
        }
        let bad = |reason: String| Failure::from(CaptionError::BadResponse { url: self.url.clone(), reason });
        let (bytes, complete) = answer?;
        if !complete {
            return Err(bad(format!("the answer is larger than {MAX_ANSWER_BYTES} bytes")));
        }
        wire::parse_caption(&bytes).map_err(bad)
    }

    /// The answer's body, at most [`MAX_ANSWER_BYTES`] of it, and whether that is all of it.
    async fn read_answer(&self, mut response: reqwest::Response) -> Result<(Vec<u8>, bool), Failure> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Ok((body, false));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, true))
    }

    fn transport(&self, error: reqwest::Error) -> Failure {
        let url = self.url.clone();
        Failure::from(if error.is_timeout() {
            CaptionError::Timeout { url, timeout_s: self.config.timeout_s }
        } else if error.is_connect() {
            CaptionError::Connect { url, source: error }
        } else if error.is_builder() {
            CaptionError::Setup(format!("cannot form a request to {url}: {}", error_chain(&error)))
        } else {
            CaptionError::Http { url, source: error }
        })
    }
}

/// Whether `url` names this machine (`localhost`, 127.0.0.0/8, ::1).
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    host.eq_ignore_ascii_case("localhost")
        || host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base_url: &str) -> VlmHttpConfig {
        VlmHttpConfig { base_url: base_url.into(), ..VlmHttpConfig::default() }
    }

    #[test]
    fn endpoint_and_setup_checks() {
        let captioner = VlmHttpCaptioner::with_api_key(&config("http://127.0.0.1:8000/v1/"), None).expect("builds");
        assert_eq!(captioner.url(), "http://127.0.0.1:8000/v1/chat/completions");
        assert_eq!(captioner.backend(), "vlm-http");
        let hidden = VlmHttpCaptioner::with_api_key(&config("https://user:secret@vlm.example/v1"), None).expect("ok");
        assert_eq!(hidden.url(), "https://vlm.example/v1/chat/completions");
        let setup = |config: VlmHttpConfig, key: Option<&str>| {
            VlmHttpCaptioner::with_api_key(&config, key).err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(setup(config("localhost:8000/v1"), None).contains("is not http(s)"), "no scheme");
        assert!(setup(config("127.0.0.1:8000/v1"), None).contains("relative URL without a base"));
        assert!(setup(config("not a url"), None).contains("caption.vlm.base_url"));
        assert!(setup(VlmHttpConfig { timeout_s: 0.0, ..config("http://h") }, None).contains("timeout_s"));
        assert!(setup(config("http://h"), Some("bad\nkey")).contains("not a valid header value"));
    }

    #[test]
    fn loopback_hosts() {
        let loopback = |url: &str| is_loopback(&reqwest::Url::parse(url).expect("url"));
        assert!(loopback("http://localhost:8000/v1"));
        assert!(loopback("http://127.0.0.1:8000/v1"));
        assert!(loopback("http://[::1]:8000/v1"));
        assert!(!loopback("http://10.0.0.1:8000/v1"));
        assert!(!loopback("https://api.openai.com/v1"));
    }

    #[test]
    fn api_key_environment() {
        assert_eq!(api_key_from_env(""), None);
        assert_eq!(api_key_from_env("CLIPSTREAM_TEST_SURELY_UNSET_VARIABLE"), None);
        assert!(api_key_from_env("PATH").is_some());
    }

    #[test]
    fn a_refused_connection_is_retried_then_reported() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let config = VlmHttpConfig { retries: 2, backoff_ms: 1, ..config(&format!("http://127.0.0.1:{port}/v1")) };
        let mut captioner = VlmHttpCaptioner::with_api_key(&config, None).expect("builds");
        let video = crate::fixtures::video(2);
        let clips: Vec<&ClipPayload> = video.clips.iter().collect();
        let results = captioner.coarse(&clips);
        assert_eq!(results.len(), 2);
        let errors: Vec<&CaptionError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(errors.len(), 2);
        let real: Vec<_> = errors.iter().filter(|e| !matches!(e, CaptionError::Cancelled)).collect();
        assert!(!real.is_empty());
        for error in real {
            assert!(matches!(error, CaptionError::Exhausted { attempts: 3, .. }), "{error:?}");
            assert!(matches!(error.root(), CaptionError::Connect { .. }), "{error:?}");
            assert_eq!(clipstream_schemas::error::StageError::code(*error), "caption.connect");
        }
    }
}
