//! Object-store URLs (`s3://`, `gs://`, `az://`, ...): one store per bucket built from the standard environment
//! variables (AWS_*, GOOGLE_*, AZURE_*), cached, and the object streamed into a temporary file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use url::Url;

use super::download::{Limits, stream_to_temp, suffix_of};
use super::error::FetchError;
use super::fetcher::Fetched;

/// Fetches objects, keeping one store per `scheme://bucket`.
#[derive(Debug, Default)]
pub(crate) struct ObjectFetcher {
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl ObjectFetcher {
    /// Downloads the object at `url` into a temporary file.
    pub async fn fetch(&self, url: &Url, limits: &Limits) -> Result<Fetched, FetchError> {
        let store = self.store_for(url)?;
        let path = object_path(url)?;
        get_to_temp(store.as_ref(), &path, url.as_str(), limits).await
    }

    /// The cached store for the bucket of `url`, built on first use.
    fn store_for(&self, url: &Url) -> Result<Arc<dyn ObjectStore>, FetchError> {
        let key = store_key(url);
        let mut stores = self.stores.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(store) = stores.get(&key) {
            return Ok(Arc::clone(store));
        }
        let store = build_store(url, &key)?;
        stores.insert(key, Arc::clone(&store));
        Ok(store)
    }
}

/// `scheme://[user@]bucket[:port]`: the part of an object URL that selects a store.
pub(crate) fn store_key(url: &Url) -> String {
    url[..url::Position::BeforePath].to_string()
}

/// The object path inside its store (percent-decoded, without the leading `/`).
pub(crate) fn object_path(url: &Url) -> Result<ObjectPath, FetchError> {
    ObjectPath::from_url_path(url.path())
        .map_err(|e| FetchError::ObjectStore { url: url.to_string(), source: e.into() })
}

/// A store for the bucket of `url`: S3, GCS and Azure from their `from_env` builders (so AWS_ENDPOINT_URL,
/// AWS_ALLOW_HTTP, AWS_REGION, credentials, ... apply), anything else through `object_store::parse_url_opts`.
pub(crate) fn build_store(url: &Url, bucket_url: &str) -> Result<Arc<dyn ObjectStore>, FetchError> {
    let failed = |source| FetchError::ObjectStore { url: url.to_string(), source };
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" | "s3a" => Arc::new(AmazonS3Builder::from_env().with_url(bucket_url).build().map_err(failed)?),
        "gs" => Arc::new(GoogleCloudStorageBuilder::from_env().with_url(bucket_url).build().map_err(failed)?),
        "az" | "adl" | "azure" | "abfs" | "abfss" => {
            Arc::new(MicrosoftAzureBuilder::from_env().with_url(bucket_url).build().map_err(failed)?)
        }
        _ => {
            let (store, _) =
                object_store::parse_url_opts(url, std::iter::empty::<(String, String)>()).map_err(failed)?;
            Arc::from(store)
        }
    };
    Ok(store)
}

/// Streams one object into a temporary file, refusing it up front when its size is over the limit.
pub(crate) async fn get_to_temp(
    store: &dyn ObjectStore,
    path: &ObjectPath,
    url: &str,
    limits: &Limits,
) -> Result<Fetched, FetchError> {
    let failed = |source| match source {
        object_store::Error::NotFound { .. } => FetchError::NotFound(url.to_string()),
        source => FetchError::ObjectStore { url: url.to_string(), source },
    };
    let result = store.get(path).await.map_err(failed)?;
    if result.meta.size > limits.max_bytes {
        return Err(FetchError::TooLarge { what: url.to_string(), limit: limits.max_bytes });
    }
    let suffix = suffix_of(path.as_ref());
    let download = stream_to_temp(result.into_stream(), limits, url, &suffix, failed).await?;
    Ok(Fetched::temporary(download.temp, download.bytes, None))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clipstream_schemas::error::StageError;
    use object_store::memory::InMemory;

    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect(text)
    }

    #[test]
    fn keys_and_paths() {
        assert_eq!(store_key(&url("s3://bucket/a/b.mp4")), "s3://bucket");
        assert_eq!(store_key(&url("abfss://c@acct.dfs.core.windows.net/x")), "abfss://c@acct.dfs.core.windows.net");
        assert_eq!(object_path(&url("s3://bucket/a/b%20c.mp4")).expect("path").as_ref(), "a/b c.mp4");
        assert!(object_path(&url("s3://bucket/a//b.mp4")).is_err());
    }

    #[test]
    fn builds_stores_for_each_scheme() {
        let fetcher = ObjectFetcher::default();
        let a = fetcher.store_for(&url("s3://bucket-a/x.mp4")).expect("s3 store builds without credentials");
        let again = fetcher.store_for(&url("s3://bucket-a/y.mp4")).expect("cached");
        assert!(Arc::ptr_eq(&a, &again));
        let b = fetcher.store_for(&url("s3://bucket-b/x.mp4")).expect("second bucket");
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(build_store(&url("memory:///x"), "memory://").is_ok());
    }

    #[test]
    fn streams_objects_with_limits() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = InMemory::new();
        let path = ObjectPath::from("videos/a.mp4");
        runtime.block_on(store.put(&path, vec![7u8; 1000].into())).expect("put");
        let limits =
            |max_bytes| Limits { max_bytes, read_timeout: Duration::from_secs(5), temp_dir: dir.path().to_path_buf() };

        let got = runtime.block_on(get_to_temp(&store, &path, "mem://a", &limits(1000))).expect("fits");
        assert_eq!(got.bytes, 1000);
        assert_eq!(std::fs::read(&got.path).expect("read"), vec![7u8; 1000]);
        assert!(got.path.to_string_lossy().ends_with(".mp4"));

        let big = runtime.block_on(get_to_temp(&store, &path, "mem://a", &limits(999))).expect_err("too large");
        assert_eq!(big.code(), "fetch.too_large");
        let missing = runtime
            .block_on(get_to_temp(&store, &ObjectPath::from("nope.mp4"), "mem://nope", &limits(1000)))
            .expect_err("missing");
        assert_eq!((missing.code(), missing.retryable()), ("fetch.not_found", false));
    }
}
