//! `Trust`: what a request may name depending on where it came from. The operator's own input lists may name any
//! local file and bucket; untrusted requests (Kafka messages, hydrate rows) only files under `fetch.local_roots`
//! (resolved, symlinks followed, before anything opens the file) and buckets in `fetch.allow_buckets`.

use std::path::{Component, Path, PathBuf};

use url::Url;

use super::error::FetchError;

/// Where a fetcher's requests come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The operator's own lists: any local path, any bucket the credentials reach.
    Operator,
    /// Requests from others: local files only under `roots` (canonical), buckets only in `buckets`.
    Untrusted { roots: Vec<PathBuf>, buckets: Vec<String> },
}

impl Trust {
    /// An untrusted policy from `fetch.local_roots` (roots that do not exist are dropped with a warning) and
    /// `fetch.allow_buckets`.
    pub fn untrusted(local_roots: &[PathBuf], allow_buckets: &[String]) -> Self {
        let roots = local_roots
            .iter()
            .filter_map(|root| match root.canonicalize() {
                Ok(root) => Some(root),
                Err(error) => {
                    tracing::warn!(root = %root.display(), %error, "fetch.local_roots entry cannot be resolved; ignored");
                    None
                }
            })
            .collect();
        Trust::Untrusted { roots, buckets: allow_buckets.to_vec() }
    }

    /// The path to open for a local request: `path` itself for the operator, else its canonical form, which must
    /// lie under one of the roots.
    pub fn local_path(&self, path: &Path) -> Result<PathBuf, FetchError> {
        let Trust::Untrusted { roots, .. } = self else { return Ok(path.to_path_buf()) };
        let refused = || FetchError::LocalRefused(path.display().to_string());
        match path.canonicalize() {
            Ok(resolved) if roots.iter().any(|root| resolved.starts_with(root)) => Ok(resolved),
            Ok(_) => Err(refused()),
            // A missing file is reported as missing only where the request could have named it.
            Err(_) if path.is_absolute() && roots.iter().any(|root| lexically_under(path, root)) => {
                Err(FetchError::NotFound(path.display().to_string()))
            }
            Err(_) => Err(refused()),
        }
    }

    /// Checks that an object-store URL names an allowed bucket.
    pub fn check_bucket(&self, url: &Url) -> Result<(), FetchError> {
        let Trust::Untrusted { buckets, .. } = self else { return Ok(()) };
        let bucket = url.host_str().unwrap_or_default();
        if buckets.iter().any(|allowed| allowed == bucket) {
            Ok(())
        } else {
            Err(FetchError::BucketRefused(format!("{}://{bucket}", url.scheme())))
        }
    }
}

/// Whether `path` is under `root` without `..` steps (for paths that do not exist, so cannot be resolved).
fn lexically_under(path: &Path, root: &Path) -> bool {
    path.starts_with(root) && !path.components().any(|c| matches!(c, Component::ParentDir))
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::error::StageError;

    use super::*;

    #[test]
    fn operator_requests_may_name_any_file_and_bucket() {
        let trust = Trust::Operator;
        assert_eq!(trust.local_path(Path::new("/etc/passwd")).unwrap(), Path::new("/etc/passwd"));
        assert!(trust.check_bucket(&Url::parse("s3://any/x.mp4").unwrap()).is_ok());
    }

    #[test]
    fn untrusted_requests_stay_under_the_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("videos");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a.mp4"), b"x").unwrap();
        std::fs::write(dir.path().join("secret.mp4"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.mp4"), root.join("link.mp4")).unwrap();
        let trust = Trust::untrusted(&[root.clone(), dir.path().join("missing-root")], &[]);
        let code = |path: &Path| trust.local_path(path).map_err(|e| e.code());
        assert_eq!(code(&root.join("a.mp4")), Ok(root.canonicalize().unwrap().join("a.mp4")));
        for refused in [
            dir.path().join("secret.mp4"),
            root.join("link.mp4"),
            root.join("../secret.mp4"),
            root.join("../nope.mp4"),
            PathBuf::from("/etc/passwd"),
            PathBuf::from("/proc/self/environ"),
            PathBuf::from("relative.mp4"),
        ] {
            assert_eq!(code(&refused), Err("fetch.local_refused"), "{}", refused.display());
        }
        assert_eq!(code(&root.join("missing.mp4")), Err("fetch.not_found"));
        assert_eq!(
            Trust::untrusted(&[], &[]).local_path(&root.join("a.mp4")).map_err(|e| e.code()),
            Err("fetch.local_refused")
        );
    }

    #[test]
    fn untrusted_requests_use_allowed_buckets_only() {
        let trust = Trust::untrusted(&[], &["media".to_string()]);
        assert!(trust.check_bucket(&Url::parse("s3://media/a/b.mp4").unwrap()).is_ok());
        for url in ["s3://other/x.mp4", "gs://mediax/x.mp4", "s3://169.254.169.254/latest"] {
            let error = trust.check_bucket(&Url::parse(url).unwrap()).unwrap_err();
            assert_eq!((error.code(), error.retryable()), ("fetch.bucket_refused", false), "{url}");
        }
    }
}
