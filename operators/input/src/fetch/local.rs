//! Local files (plain paths and `file://` URLs): used in place after checking they exist, are regular files and are
//! within the size limit.

use std::path::Path;

use super::error::FetchError;
use super::fetcher::Fetched;

/// Checks `path` and returns it as fetched, without copying.
pub(crate) fn open_local(path: &Path, max_bytes: u64) -> Result<Fetched, FetchError> {
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => FetchError::NotFound(path.display().to_string()),
        _ => FetchError::Io { what: format!("cannot stat {}", path.display()), source },
    })?;
    if !meta.is_file() {
        return Err(FetchError::NotAFile(path.to_path_buf()));
    }
    if meta.len() > max_bytes {
        return Err(FetchError::TooLarge { what: path.display().to_string(), limit: max_bytes });
    }
    Ok(Fetched { path: path.to_path_buf(), bytes: meta.len(), temp: None, content_type: None, charge: None })
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::error::StageError;

    use super::*;

    #[test]
    fn checks_existence_kind_and_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.mp4");
        std::fs::write(&file, vec![0u8; 100]).expect("write");

        let ok = open_local(&file, 100).expect("fits");
        assert_eq!((ok.path.as_path(), ok.bytes, ok.temp.is_none()), (file.as_path(), 100, true));
        assert_eq!(open_local(&file, 99).map_err(|e| e.code()).err(), Some("fetch.too_large"));
        assert_eq!(open_local(dir.path(), 100).map_err(|e| e.code()).err(), Some("fetch.not_a_file"));
        let missing = open_local(&dir.path().join("nope.mp4"), 100).expect_err("missing");
        assert_eq!((missing.code(), missing.retryable()), ("fetch.not_found", false));
    }
}
