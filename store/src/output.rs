//! `Output`: the dataset root (local directory or object-store URL) behind a blocking facade, so timely worker
//! threads can write shards without being async themselves.
//!
//! Keys passed to every method are relative to the root (`shards/x.tar`). The facade owns a small tokio runtime;
//! its methods must not be called from inside another tokio runtime.

use std::io::Read;
use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

use crate::error::StoreError;

/// Bytes per part of a multipart upload (S3 wants at least 5 MiB for all parts but the last).
pub const MULTIPART_CHUNK_BYTES: usize = 16 << 20;
/// Parts in flight at once during a multipart upload.
const MULTIPART_CONCURRENCY: usize = 4;
/// Objects fetched at once by [`Output::get_many`].
const GET_CONCURRENCY: usize = 16;

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Key relative to the output root.
    pub key: String,
    pub bytes: u64,
    pub modified: SystemTime,
}

/// Size and checksum of an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub bytes: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

impl FileDigest {
    /// Digest of bytes in memory.
    pub fn of(data: &[u8]) -> Self {
        Self { bytes: data.len() as u64, sha256: hex::encode(Sha256::digest(data)) }
    }
}

/// The output root: an object store, a prefix inside it, and the runtime that drives it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Output {
    store: Arc<dyn ObjectStore>,
    root: Path,
    url: String,
    runtime: Arc<tokio::runtime::Runtime>,
    /// The folder of a local output.
    local_root: Option<std::path::PathBuf>,
    /// Requests sent to the store by this output and its clones (start-up cost reports).
    requests: Arc<AtomicU64>,
}

impl Output {
    /// Opens a plain path or `file://` URL (the directory is created), or an `s3://bucket/prefix`,
    /// `gs://bucket/prefix` or `az://container/prefix` URL configured from the environment (`AWS_ENDPOINT_URL`,
    /// `AWS_ALLOW_HTTP`, credentials, ...).
    pub fn open(url_or_path: &str) -> Result<Self, StoreError> {
        let url = url_or_path.trim();
        let open_err = |reason: &str| StoreError::OpenOutput { url: url.to_string(), reason: reason.to_string() };
        let store_err = |source| StoreError::OpenStore { url: url.to_string(), source: Box::new(source) };
        if url.is_empty() {
            return Err(open_err("empty output location"));
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Self::open_local(url);
        };
        let root = rest.split_once('/').map_or("", |(_, path)| path);
        let store: Arc<dyn ObjectStore> = match scheme.to_ascii_lowercase().as_str() {
            "file" => return Self::open_local(rest),
            "s3" | "s3a" => {
                Arc::new(object_store::aws::AmazonS3Builder::from_env().with_url(url).build().map_err(store_err)?)
            }
            "gs" => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::from_env().with_url(url).build().map_err(store_err)?,
            ),
            "az" | "azure" | "abfs" | "abfss" | "adl" => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::from_env().with_url(url).build().map_err(store_err)?,
            ),
            other => return Err(open_err(&format!("unsupported scheme {other:?} (file, s3, gs, az)"))),
        };
        Self::from_store(store, root, url)
    }

    fn open_local(dir: &str) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create output directory", dir, e))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|source| StoreError::OpenStore { url: dir.to_string(), source: Box::new(source) })?
            .with_automatic_cleanup(true);
        let mut output = Self::from_store(Arc::new(store), "", dir)?;
        output.local_root = Some(std::path::PathBuf::from(dir));
        Ok(output)
    }

    /// Wraps an existing store (tests, custom backends); `root` is the prefix inside it, `url` is for messages.
    pub fn from_store(store: Arc<dyn ObjectStore>, root: &str, url: &str) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("clipstream-sink-io")
            .enable_all()
            .build()
            .map_err(StoreError::Runtime)?;
        let root = Path::from(root.trim_matches('/'));
        Ok(Self {
            store,
            root,
            url: url.to_string(),
            runtime: Arc::new(runtime),
            local_root: None,
            requests: Arc::default(),
        })
    }

    /// The location this output was opened from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Requests sent to the store so far by this output and its clones: one per call, a listing one per 1,000 keys
    /// (S3's page size), a multipart upload once.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The store path of `key` for one request, counted in [`Self::requests`].
    fn request_path(&self, key: &str) -> Path {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let key = key.trim_matches('/');
        if self.root.as_ref().is_empty() { Path::from(key) } else { Path::from(format!("{}/{key}", self.root)) }
    }

    fn relative(&self, path: &Path) -> String {
        let full = path.as_ref();
        let root = self.root.as_ref();
        if root.is_empty() {
            return full.to_string();
        }
        full.strip_prefix(root).map_or(full, |rest| rest.trim_start_matches('/')).to_string()
    }

    /// Writes a small object atomically.
    pub fn put(&self, key: &str, data: impl Into<Bytes>) -> Result<(), StoreError> {
        let path = self.request_path(key);
        let payload = PutPayload::from_bytes(data.into());
        self.runtime
            .block_on(self.store.put(&path, payload))
            .map_err(|source| StoreError::store("put", key, source))?;
        self.sync_local(key)
    }

    /// Streams a local file to `key` as a multipart upload, returning its size and SHA-256.
    pub fn put_file_multipart(&self, key: &str, file: &FsPath) -> Result<FileDigest, StoreError> {
        self.put_file_with_chunk(key, file, MULTIPART_CHUNK_BYTES)
    }

    /// [`Self::put_file_multipart`] with a chosen part size (tests use small parts). A failed upload (a part, or
    /// the final completion) is aborted, so no staged parts are left behind (S3 bills them; a local store keeps
    /// `key#N` files that listing does not show).
    pub fn put_file_with_chunk(&self, key: &str, file: &FsPath, chunk_bytes: usize) -> Result<FileDigest, StoreError> {
        let path = self.request_path(key);
        let mut reader = std::fs::File::open(file).map_err(|e| StoreError::io("open for upload", file, e))?;
        let digest = self.runtime.block_on(async {
            let mut upload =
                self.store.put_multipart(&path).await.map_err(|e| StoreError::store("start multipart", key, e))?;
            match upload_parts(upload.as_mut(), &mut reader, chunk_bytes.max(1), key, file).await {
                Ok(digest) => Ok(digest),
                Err(error) => {
                    if let Err(abort_error) = upload.abort().await {
                        tracing::warn!(key, %abort_error, "aborting a failed multipart upload failed too");
                    }
                    Err(error)
                }
            }
        });
        let digest = digest.inspect_err(|_| self.remove_staged(key))?;
        self.sync_local(key)?;
        Ok(digest)
    }

    /// For a local output, flushes the object `key` and its folder to disk, so what a manifest (and the offsets
    /// committed after it) promise survives a power loss; object stores are durable once a PUT returns.
    fn sync_local(&self, key: &str) -> Result<(), StoreError> {
        let Some(root) = &self.local_root else { return Ok(()) };
        let file = root.join(key.trim_matches('/'));
        let sync = |path: &FsPath| std::fs::File::open(path).and_then(|f| f.sync_all());
        sync(&file).map_err(|e| StoreError::io("fsync", &file, e))?;
        let folder = file.parent().unwrap_or(root);
        sync(folder).map_err(|e| StoreError::io("fsync", folder, e))
    }

    /// Removes the staged parts (`key#N`) a failed upload left in a local output: object_store's local store cannot
    /// abort an upload whose completion failed.
    fn remove_staged(&self, key: &str) {
        let Some(root) = &self.local_root else { return };
        let target = root.join(key.trim_matches('/'));
        let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else { return };
        let prefix = format!("{}#", name.to_string_lossy());
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix)
                && let Err(error) = std::fs::remove_file(entry.path())
            {
                tracing::warn!(path = %entry.path().display(), %error, "cannot remove a staged part");
            }
        }
    }

    /// The folder of a local output (`None` for object stores).
    pub fn local_root(&self) -> Option<&FsPath> {
        self.local_root.as_deref()
    }

    /// Reads a whole object.
    pub fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let path = self.request_path(key);
        self.runtime.block_on(async {
            let result = self.store.get(&path).await.map_err(|e| StoreError::store("get", key, e))?;
            result.bytes().await.map_err(|e| StoreError::store("read", key, e))
        })
    }

    /// Streams an object into the local file `path` (created or truncated) without holding it in memory; returns
    /// its size.
    pub fn download(&self, key: &str, path: &FsPath) -> Result<u64, StoreError> {
        use std::io::Write;
        let object = self.request_path(key);
        let mut file = std::fs::File::create(path).map_err(|e| StoreError::io("create download", path, e))?;
        let bytes = self.runtime.block_on(async {
            let result = self.store.get(&object).await.map_err(|e| StoreError::store("get", key, e))?;
            let mut stream = result.into_stream();
            let mut total = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| StoreError::store("read", key, e))?;
                file.write_all(&chunk).map_err(|e| StoreError::io("write download", path, e))?;
                total += chunk.len() as u64;
            }
            Ok::<u64, StoreError>(total)
        })?;
        file.flush().map_err(|e| StoreError::io("write download", path, e))?;
        Ok(bytes)
    }

    /// Reads many objects concurrently; results are in the order of `keys`.
    pub fn get_many(&self, keys: &[String]) -> Vec<Result<Bytes, StoreError>> {
        self.runtime.block_on(
            futures::stream::iter(keys.iter().map(|key| async move {
                let path = self.request_path(key);
                let result = self.store.get(&path).await.map_err(|e| StoreError::store("get", key, e))?;
                result.bytes().await.map_err(|e| StoreError::store("read", key, e))
            }))
            .buffered(GET_CONCURRENCY)
            .collect(),
        )
    }

    /// Reads the bytes `range` of an object.
    pub fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StoreError> {
        let path = self.request_path(key);
        self.runtime.block_on(self.store.get_range(&path, range)).map_err(|e| StoreError::store("get range", key, e))
    }

    /// Whether each of `keys` exists (HEAD requests, concurrently); results are in the order of `keys`.
    pub fn exist_many(&self, keys: &[String]) -> Vec<Result<bool, StoreError>> {
        self.runtime.block_on(
            futures::stream::iter(keys.iter().map(|key| async move {
                match self.store.head(&self.request_path(key)).await {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(StoreError::store("head", key, e)),
                }
            }))
            .buffered(GET_CONCURRENCY)
            .collect(),
        )
    }

    /// Lists every object under `prefix` (a folder such as `manifests`), recursively, sorted by key.
    pub fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let path = self.request_path(prefix);
        let metas = self
            .runtime
            .block_on(self.store.list(Some(&path)).try_collect::<Vec<_>>())
            .map_err(|e| StoreError::store("list", prefix, e))?;
        self.requests.fetch_add(metas.len() as u64 / 1000, Ordering::Relaxed);
        let mut infos: Vec<ObjectInfo> = metas
            .into_iter()
            .map(|meta| {
                let millis = u64::try_from(meta.last_modified.timestamp_millis()).unwrap_or(0);
                ObjectInfo {
                    key: self.relative(&meta.location),
                    bytes: meta.size,
                    modified: UNIX_EPOCH + Duration::from_millis(millis),
                }
            })
            .collect();
        infos.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(infos)
    }

    /// Deletes one object; a missing object is not an error.
    pub fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.request_path(key);
        match self.runtime.block_on(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::store("delete", key, e)),
        }
    }
}

impl AsRef<Output> for Output {
    fn as_ref(&self) -> &Output {
        self
    }
}

/// Reads `reader` in parts of `chunk_bytes`, uploads at most [`MULTIPART_CONCURRENCY`] parts at once and completes
/// the upload; returns the size and SHA-256 of what was sent.
async fn upload_parts(
    upload: &mut dyn MultipartUpload,
    reader: &mut std::fs::File,
    chunk_bytes: usize,
    key: &str,
    file: &FsPath,
) -> Result<FileDigest, StoreError> {
    let mut in_flight: FuturesUnordered<object_store::UploadPart> = FuturesUnordered::new();
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    let mut parts = 0usize;
    loop {
        let chunk = read_chunk(reader, chunk_bytes).map_err(|e| StoreError::io("read for upload", file, e))?;
        if chunk.is_empty() && parts > 0 {
            break;
        }
        let last = chunk.len() < chunk_bytes;
        hasher.update(&chunk);
        total += chunk.len() as u64;
        while in_flight.len() >= MULTIPART_CONCURRENCY {
            if let Some(done) = in_flight.next().await {
                done.map_err(|e| StoreError::store("upload part", key, e))?;
            }
        }
        in_flight.push(upload.put_part(PutPayload::from(chunk)));
        parts += 1;
        if last {
            break;
        }
    }
    while let Some(done) = in_flight.next().await {
        done.map_err(|e| StoreError::store("upload part", key, e))?;
    }
    if clipstream_core::fault::fail_point("sink.finish_upload") {
        let source = "injected by CLIPSTREAM_FAULT".into();
        return Err(StoreError::store(
            "finish multipart",
            key,
            object_store::Error::Generic { store: "fault", source },
        ));
    }
    upload.complete().await.map_err(|e| StoreError::store("finish multipart", key, e))?;
    Ok(FileDigest { bytes: total, sha256: hex::encode(hasher.finalize()) })
}

/// Up to `len` bytes of `reader` (fewer only at its end).
fn read_chunk(reader: &mut std::fs::File, len: usize) -> std::io::Result<Vec<u8>> {
    let mut chunk = Vec::with_capacity(len);
    reader.by_ref().take(len as u64).read_to_end(&mut chunk)?;
    Ok(chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_round_trip_list_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        let output = Output::open(root.to_str().unwrap()).unwrap();
        assert!(root.is_dir(), "open creates the directory");
        output.put("a/one.txt", Bytes::from_static(b"one")).unwrap();
        output.put("a/two.txt", Bytes::from_static(b"two")).unwrap();
        output.put("b/three.txt", Bytes::from_static(b"three")).unwrap();
        assert_eq!(output.get("a/one.txt").unwrap().as_ref(), b"one");
        let listed: Vec<_> = output.list("a").unwrap().into_iter().map(|o| (o.key, o.bytes)).collect();
        assert_eq!(listed, vec![("a/one.txt".to_string(), 3), ("a/two.txt".to_string(), 3)]);
        assert!(output.list("missing").unwrap().is_empty());
        output.delete("a/one.txt").unwrap();
        output.delete("a/one.txt").unwrap();
        assert_eq!(output.list("a").unwrap().len(), 1);
        let many = output.get_many(&["a/two.txt".into(), "nope".into()]);
        assert_eq!(many[0].as_ref().unwrap().as_ref(), b"two");
        assert!(many[1].is_err());
    }

    #[test]
    fn download_streams_an_object_to_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let output = Output::open(dir.path().join("out").to_str().unwrap()).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        output.put("shards/s.tar", data.clone()).unwrap();
        let local = dir.path().join("copy.tar");
        assert_eq!(output.download("shards/s.tar", &local).unwrap(), data.len() as u64);
        assert_eq!(std::fs::read(&local).unwrap(), data);
        assert!(output.download("shards/missing.tar", &local).is_err());
    }

    #[test]
    fn file_url_and_prefixed_store() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().join("x").display());
        let output = Output::open(&url).unwrap();
        output.put("k.txt", Bytes::from_static(b"v")).unwrap();
        assert!(dir.path().join("x/k.txt").is_file());

        let memory = Arc::new(object_store::memory::InMemory::new());
        let prefixed = Output::from_store(memory, "/some/prefix/", "memory").unwrap();
        prefixed.put("shards/s.tar", Bytes::from_static(b"t")).unwrap();
        let listed = prefixed.list("shards").unwrap();
        assert_eq!(listed[0].key, "shards/s.tar");
    }

    #[test]
    fn multipart_upload_streams_and_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let output = Output::open(dir.path().join("out").to_str().unwrap()).unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let file = dir.path().join("big.bin");
        std::fs::write(&file, &data).unwrap();
        let digest = output.put_file_with_chunk("shards/big.bin", &file, 7_000).unwrap();
        assert_eq!(digest, FileDigest::of(&data));
        assert_eq!(output.get("shards/big.bin").unwrap().as_ref(), data.as_slice());
    }

    #[test]
    fn cloud_urls_keep_their_prefix() {
        let output = Output::open("s3://bucket/pre/fix/").unwrap();
        assert_eq!(output.request_path("shards/x.tar").as_ref(), "pre/fix/shards/x.tar");
        assert_eq!(output.relative(&Path::from("pre/fix/shards/x.tar")), "shards/x.tar");
        let bare = Output::open("s3://bucket").unwrap();
        assert_eq!(bare.request_path("manifests/m.json").as_ref(), "manifests/m.json");
    }

    #[test]
    fn rejects_unknown_schemes() {
        assert!(matches!(Output::open("ftp://host/x"), Err(StoreError::OpenOutput { .. })));
        assert!(matches!(Output::open(" "), Err(StoreError::OpenOutput { .. })));
    }
}
