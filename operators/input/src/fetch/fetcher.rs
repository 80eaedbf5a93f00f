//! `Fetcher`: the entry point of the fetch stage. It owns a small tokio runtime (timely workers are plain threads)
//! and sends each request to the local, http or object-store fetcher under the total time limit, at most
//! `fetch.concurrency` remote downloads at once per process and none started while finished downloads still held
//! reach `fetch.max_inflight_bytes`. [`Fetcher::start`] runs a fetch in the background (the curate stage);
//! [`Fetcher::fetch`] blocks (hydrate's pool threads).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clipstream_schemas::VideoRequest;
use clipstream_schemas::config::FetchConfig;
use clipstream_schemas::video::Location;
use tempfile::TempPath;
use tokio::sync::Semaphore;

use super::budget::{ByteBudget, Charge};
use super::download::Limits;
use super::error::FetchError;
use super::guard::AllowList;
use super::http::HttpFetcher;
use super::local::open_local;
use super::object::ObjectFetcher;
use super::trust::Trust;

/// A video's bytes as a local file.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The file to read: the original for local inputs, else a temporary download.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    /// The guard of a temporary download: the file is deleted when the last clone is dropped. `None` for local files.
    pub temp: Option<Arc<TempPath>>,
    /// The `Content-Type` of an http download, when sent.
    pub content_type: Option<String>,
    /// A download's bytes charged to `fetch.max_inflight_bytes`, given back with the last clone.
    pub charge: Option<Arc<Charge>>,
}

impl Fetched {
    pub(crate) fn temporary(temp: TempPath, bytes: u64, content_type: Option<String>) -> Self {
        Self { path: temp.to_path_buf(), bytes, temp: Some(Arc::new(temp)), content_type, charge: None }
    }

    /// Whether the file is a temporary download (deleted once every clone is dropped).
    pub fn is_temporary(&self) -> bool {
        self.temp.is_some()
    }
}

/// Fetches videos for the pipeline. Cheap to share behind an `Arc` between worker threads.
pub struct Fetcher {
    config: FetchConfig,
    runtime: tokio::runtime::Runtime,
    inner: Arc<Inner>,
}

/// What a fetch needs, shared with the tasks on the runtime (which must not own the runtime itself: the last
/// owner of a runtime cannot drop it from one of its own tasks).
struct Inner {
    http: HttpFetcher,
    objects: ObjectFetcher,
    limits: Limits,
    total_timeout: Duration,
    trust: Trust,
    downloads: Semaphore,
    budget: Arc<ByteBudget>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Fetcher {
    /// Validates `config` and starts the fetcher's runtime (two threads). Requests are trusted (the operator's own
    /// lists); see [`Fetcher::new_untrusted`].
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        Self::build(config, Trust::Operator)
    }

    /// A fetcher for untrusted requests (Kafka messages, hydrate rows): local files only under `fetch.local_roots`,
    /// object-store buckets only in `fetch.allow_buckets`.
    pub fn new_untrusted(config: FetchConfig) -> Result<Self, FetchError> {
        let trust = Trust::untrusted(&config.local_roots, &config.allow_buckets);
        Self::build(config, trust)
    }

    fn build(config: FetchConfig, trust: Trust) -> Result<Self, FetchError> {
        let seconds = |name: &str, value: f64| {
            Duration::try_from_secs_f64(value).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
                FetchError::Setup(format!("fetch.{name} must be a positive number of seconds, not {value}"))
            })
        };
        let connect_timeout = seconds("connect_timeout_s", config.connect_timeout_s)?;
        let read_timeout = seconds("read_timeout_s", config.read_timeout_s)?;
        let total_timeout = seconds("total_timeout_s", config.total_timeout_s)?;
        let temp_dir =
            if config.temp_dir.as_os_str().is_empty() { std::env::temp_dir() } else { config.temp_dir.clone() };
        let limits = Limits { max_bytes: config.max_bytes, read_timeout, temp_dir };
        let http = HttpFetcher {
            allow: AllowList::new(&config.allow_hosts),
            user_agent: config.user_agent.clone(),
            connect_timeout,
            max_redirects: config.max_redirects,
            limits: limits.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("clipstream-fetch")
            .enable_all()
            .build()
            .map_err(|e| FetchError::Setup(format!("cannot start the fetch runtime: {e}")))?;
        let inner = Inner {
            http,
            objects: ObjectFetcher::default(),
            limits,
            total_timeout,
            trust,
            downloads: Semaphore::new(config.concurrency.max(1)),
            budget: ByteBudget::new(config.max_inflight_bytes.max(1)),
        };
        Ok(Self { config, runtime, inner: Arc::new(inner) })
    }

    /// The configuration in use.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Fetches `request`, blocking the calling thread. Must not be called from inside an async runtime (use
    /// [`Fetcher::fetch_async`] there); doing so returns a `fetch.setup` error instead of panicking.
    pub fn fetch(&self, request: &VideoRequest) -> Result<Fetched, FetchError> {
        if let Some(reason) = inside_runtime("fetch") {
            return Err(FetchError::Setup(reason));
        }
        self.runtime.block_on(self.fetch_async(request))
    }

    /// Fetches `request` in the background and calls `answer` with the result on a runtime thread; returns at once.
    pub fn start(&self, request: VideoRequest, answer: impl FnOnce(Result<Fetched, FetchError>) + Send + 'static) {
        let inner = self.inner.clone();
        self.runtime.spawn(async move { answer(inner.fetch(&request).await) });
    }

    /// Fetches `request` from async code (any tokio runtime with time and I/O enabled).
    pub async fn fetch_async(&self, request: &VideoRequest) -> Result<Fetched, FetchError> {
        self.inner.fetch(request).await
    }
}

impl Inner {
    async fn fetch(&self, request: &VideoRequest) -> Result<Fetched, FetchError> {
        match request.location().map_err(FetchError::BadUrl)? {
            Location::Local(path) => open_local(&self.trust.local_path(&path)?, self.limits.max_bytes),
            Location::Http(url) => self.download(request, self.http.fetch(url)).await,
            Location::Object(url) => {
                self.trust.check_bucket(&url)?;
                self.download(request, self.objects.fetch(&url, &self.limits)).await
            }
        }
    }

    /// Runs `download` once a download slot is free and the finished downloads still held are under the byte
    /// budget, within the total time limit; charges its bytes to the budget.
    async fn download(
        &self,
        request: &VideoRequest,
        download: impl Future<Output = Result<Fetched, FetchError>>,
    ) -> Result<Fetched, FetchError> {
        let _slot = self.downloads.acquire().await.map_err(|_| FetchError::Setup("the fetcher is closed".into()))?;
        self.budget.wait_for_room().await;
        let mut fetched = tokio::time::timeout(self.total_timeout, download).await.unwrap_or_else(|_| {
            Err(FetchError::Timeout(format!("fetching {} (over {:?})", request.url, self.total_timeout)))
        })?;
        fetched.charge = Some(Arc::new(self.budget.charge(fetched.bytes)));
        Ok(fetched)
    }
}

/// Why the blocking `method` must not run here, when called inside an async runtime (blocking there panics).
fn inside_runtime(method: &str) -> Option<String> {
    tokio::runtime::Handle::try_current()
        .is_ok()
        .then(|| format!("Fetcher::{method} called inside an async runtime; use fetch_async"))
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::error::StageError;

    use super::*;

    #[test]
    fn rejects_bad_timeouts() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let config = FetchConfig { read_timeout_s: bad, ..FetchConfig::default() };
            assert_eq!(Fetcher::new(config).map_err(|e| e.code()).err(), Some("fetch.setup"), "{bad}");
        }
    }

    #[test]
    fn fetches_local_files_and_refuses_bad_urls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("v.mp4");
        std::fs::write(&file, b"12345").expect("write");
        let fetcher = Fetcher::new(FetchConfig::default()).expect("fetcher");
        let url = url::Url::from_file_path(&file).expect("file url");
        for request in [VideoRequest::new(file.to_string_lossy()), VideoRequest::new(url.as_str())] {
            let got = fetcher.fetch(&request).expect("local");
            assert_eq!((got.path.as_path(), got.bytes, got.is_temporary()), (file.as_path(), 5, false));
        }
        let ftp = fetcher.fetch(&VideoRequest::new("ftp://h/x.mp4")).expect_err("ftp");
        assert_eq!(ftp.code(), "fetch.bad_url");
    }

    #[test]
    fn untrusted_requests_name_local_files_under_the_roots_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("v.mp4");
        std::fs::write(&file, b"12345").expect("write");
        let refuse_all = Fetcher::new_untrusted(FetchConfig::default()).expect("fetcher");
        let url = url::Url::from_file_path(&file).expect("file url");
        for request in [VideoRequest::new(file.to_string_lossy()), VideoRequest::new(url.as_str())] {
            assert_eq!(refuse_all.fetch(&request).map_err(|e| e.code()).err(), Some("fetch.local_refused"));
        }
        let s3 = refuse_all.fetch(&VideoRequest::new("s3://bucket/v.mp4")).expect_err("bucket");
        assert_eq!(s3.code(), "fetch.bucket_refused");
        let config = FetchConfig { local_roots: vec![dir.path().to_path_buf()], ..FetchConfig::default() };
        let rooted = Fetcher::new_untrusted(config).expect("fetcher");
        let got = rooted.fetch(&VideoRequest::new(url.as_str())).expect("under a root");
        assert_eq!(got.bytes, 5);
    }

    #[test]
    fn refuses_blocking_fetch_inside_a_runtime() {
        let fetcher = Fetcher::new(FetchConfig::default()).expect("fetcher");
        let outer = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let got = outer.block_on(async { fetcher.fetch(&VideoRequest::new("/nonexistent.mp4")).map_err(|e| e.code()) });
        assert_eq!(got.err(), Some("fetch.setup"));
    }
}
