//! Streaming a download into a temporary file under a byte limit and a per-chunk read timeout.

use std::path::{Path, PathBuf};
use std::pin::pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::error::FetchError;

/// The limits every download obeys.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub max_bytes: u64,
    /// Longest wait for the next chunk (and for response headers).
    pub read_timeout: Duration,
    /// Where temporary files go.
    pub temp_dir: PathBuf,
}

/// A finished download: the temporary file (deleted when dropped) and its size.
pub(crate) struct Download {
    pub temp: TempPath,
    pub bytes: u64,
}

/// Writes every chunk of `body` to a new temporary file. Fails with `fetch.too_large` as soon as the running total
/// passes the limit, and with `fetch.timeout` when a chunk takes longer than the read timeout; the partial file is
/// deleted on failure.
pub(crate) async fn stream_to_temp<S, B, E>(
    body: S,
    limits: &Limits,
    what: &str,
    suffix: &str,
    map_err: impl Fn(E) -> FetchError,
) -> Result<Download, FetchError>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    let (mut file, temp) = create_temp(&limits.temp_dir, suffix)?;
    let io = |source| FetchError::Io { what: format!("cannot write {}", temp_display(&limits.temp_dir)), source };
    let mut body = pin!(body);
    let mut bytes: u64 = 0;
    loop {
        let next = tokio::time::timeout(limits.read_timeout, body.next())
            .await
            .map_err(|_| FetchError::Timeout(format!("reading {what}: no data for {:?}", limits.read_timeout)))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(&map_err)?;
        let chunk = chunk.as_ref();
        bytes = bytes.saturating_add(chunk.len() as u64);
        if bytes > limits.max_bytes {
            return Err(FetchError::TooLarge { what: what.to_string(), limit: limits.max_bytes });
        }
        file.write_all(chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    Ok(Download { temp, bytes })
}

fn temp_display(dir: &Path) -> String {
    format!("a temporary file in {}", dir.display())
}

/// A new temporary file in `dir` (created if missing) named `clipstream-fetch-p{pid}-*{suffix}` (swept by later runs once the process is gone).
fn create_temp(dir: &Path, suffix: &str) -> Result<(tokio::fs::File, TempPath), FetchError> {
    let io = |source| FetchError::Io { what: format!("cannot create {}", temp_display(dir)), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let file = tempfile::Builder::new()
        .prefix(&clipstream_core::scratch_prefix("fetch"))
        .suffix(suffix)
        .tempfile_in(dir)
        .map_err(io)?;
    let (file, temp) = file.into_parts();
    Ok((tokio::fs::File::from_std(file), temp))
}

/// The file extension of the last path segment of `url_path` (like `.mp4`), when it looks like one; kept on the
/// temporary file so tools that look at names see the container type.
pub(crate) fn suffix_of(url_path: &str) -> String {
    let last = url_path.rsplit('/').next().unwrap_or_default();
    match last.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty() && (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            format!(".{}", ext.to_ascii_lowercase())
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(dir: &Path, max_bytes: u64) -> Limits {
        Limits { max_bytes, read_timeout: Duration::from_millis(200), temp_dir: dir.to_path_buf() }
    }

    fn chunks(parts: Vec<&'static [u8]>) -> impl Stream<Item = Result<&'static [u8], std::io::Error>> {
        futures::stream::iter(parts.into_iter().map(Ok))
    }

    fn io_err(e: std::io::Error) -> FetchError {
        FetchError::Io { what: "test".into(), source: e }
    }

    #[test]
    fn writes_chunks_and_enforces_limits() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let done = runtime
            .block_on(stream_to_temp(chunks(vec![b"ab", b"cd"]), &limits(dir.path(), 4), "x", ".mp4", io_err))
            .expect("fits");
        assert_eq!(done.bytes, 4);
        assert_eq!(std::fs::read(&done.temp).expect("read"), b"abcd");
        assert!(done.temp.to_string_lossy().ends_with(".mp4"));
        let path = done.temp.to_path_buf();
        drop(done);
        assert!(!path.exists(), "temp file removed on drop");

        let big =
            runtime.block_on(stream_to_temp(chunks(vec![b"ab", b"cde"]), &limits(dir.path(), 4), "x", "", io_err));
        assert!(matches!(big, Err(FetchError::TooLarge { .. })));

        let stalled = futures::stream::pending::<Result<&'static [u8], std::io::Error>>();
        let slow = runtime.block_on(stream_to_temp(stalled, &limits(dir.path(), 4), "x", "", io_err));
        assert!(matches!(slow, Err(FetchError::Timeout(_))));
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0, "failed downloads leave nothing");
    }

    #[test]
    fn suffixes() {
        assert_eq!(suffix_of("/a/b/video.MP4"), ".mp4");
        assert_eq!(suffix_of("/a/b/video"), "");
        assert_eq!(suffix_of("/a/.hidden"), "");
        assert_eq!(suffix_of("/a/x.tar.gz"), ".gz");
        assert_eq!(suffix_of("/a/x.php?y"), "");
        assert_eq!(suffix_of("/a/x.toolongext"), "");
    }
}
