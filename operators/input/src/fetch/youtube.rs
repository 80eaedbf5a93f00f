//! Downloading a YouTube video with the external `yt-dlp` program, when it is installed: one progressive (single
//! file, mp4 preferred) download into a temporary folder, within the fetch size and time limits. The URL is built
//! by the locator from a checked id and passed after `--`, so it can never be read as an option.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clipstream_schemas::error::StageError;
use thiserror::Error;

/// Why a yt-dlp download failed.
#[derive(Debug, Error)]
pub enum DownloadError {
    #[error("yt-dlp not installed: the program {program:?} is not on PATH; cannot download {url}")]
    Missing { program: String, url: String },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("yt-dlp took over {timeout:?} for {url}")]
    Timeout { url: String, timeout: Duration },
    #[error("yt-dlp failed for {url} ({status}): {stderr}")]
    Failed { url: String, status: std::process::ExitStatus, stderr: String },
    #[error("yt-dlp wrote no file for {url} (larger than {max_bytes} bytes?)")]
    NoFile { url: String, max_bytes: u64 },
}

impl StageError for DownloadError {
    fn code(&self) -> &'static str {
        match self {
            DownloadError::Missing { .. } => "fetch.yt_dlp_missing",
            DownloadError::Io { .. } => "fetch.io",
            DownloadError::Timeout { .. } => "fetch.timeout",
            DownloadError::Failed { .. } | DownloadError::NoFile { .. } => "fetch.yt_dlp",
        }
    }

    /// Only a download that finished without a file (the size limit) will not pass by trying later.
    fn retryable(&self) -> bool {
        !matches!(self, DownloadError::NoFile { .. })
    }
}

/// A downloaded video; the file is deleted with this value.
#[derive(Debug)]
pub struct Downloaded {
    pub path: PathBuf,
    pub bytes: u64,
    _dir: tempfile::TempDir,
}

/// The yt-dlp downloader.
#[derive(Debug, Clone)]
pub struct YtDlp {
    /// Program name (looked up on `PATH`) or path.
    pub program: String,
    pub max_bytes: u64,
    pub timeout: Duration,
    /// Where downloads are staged; empty = the system temp directory.
    pub temp_dir: PathBuf,
}

/// `program` as an executable path: itself when it names a file, else the first match on `PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let direct = Path::new(program);
    if program.contains('/') {
        return direct.is_file().then(|| direct.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|path| path.is_file())
}

impl YtDlp {
    /// Downloads `url` (a YouTube watch URL).
    pub fn download(&self, url: &str) -> Result<Downloaded, DownloadError> {
        let Some(program) = find_program(&self.program) else {
            return Err(DownloadError::Missing { program: self.program.clone(), url: url.to_string() });
        };
        let base = if self.temp_dir.as_os_str().is_empty() { std::env::temp_dir() } else { self.temp_dir.clone() };
        let io = |what: &str, source: std::io::Error| DownloadError::Io { what: what.to_string(), source };
        let dir = tempfile::Builder::new()
            .prefix("clipstream-ytdlp-")
            .tempdir_in(&base)
            .map_err(|e| io(&format!("creating a download folder in {}", base.display()), e))?;
        // stderr goes to a file: a pipe nobody reads while waiting could fill up and stall the program.
        let log_path = dir.path().join("stderr.txt");
        let log = std::fs::File::create(&log_path).map_err(|e| io("creating the yt-dlp log", e))?;
        let mut child = Command::new(&program)
            .args(["--no-playlist", "--no-progress", "--quiet", "--no-warnings", "-f", "b[ext=mp4]/b"])
            // The user's and the system's yt-dlp config files could add options (exec hooks, other outputs).
            .arg("--ignore-config")
            .arg("--max-filesize")
            .arg(self.max_bytes.to_string())
            .arg("-o")
            .arg(dir.path().join("video.%(ext)s"))
            .arg("--")
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| io(&format!("starting {}", program.display()), e))?;
        let started = Instant::now();
        let status = loop {
            match child.try_wait().map_err(|e| io("waiting for yt-dlp", e))? {
                Some(status) => break status,
                None if started.elapsed() > self.timeout => {
                    // The child may have exited meanwhile; either way it is reaped by `wait`.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(DownloadError::Timeout { url: url.to_string(), timeout: self.timeout });
                }
                None => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        if !status.success() {
            let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(DownloadError::Failed { url: url.to_string(), status, stderr: stderr.trim().to_string() });
        }
        let file = std::fs::read_dir(dir.path())
            .map_err(|e| io("listing the download folder", e))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .find(|path| path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("video.")));
        let Some(path) = file else {
            return Err(DownloadError::NoFile { url: url.to_string(), max_bytes: self.max_bytes });
        };
        let bytes = std::fs::metadata(&path).map_err(|e| io("reading the download's size", e))?.len();
        Ok(Downloaded { path, bytes, _dir: dir })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_is_a_clear_retryable_error() {
        let ytdlp = YtDlp {
            program: "clipstream-no-such-yt-dlp".into(),
            max_bytes: 1 << 20,
            timeout: Duration::from_secs(5),
            temp_dir: PathBuf::new(),
        };
        let error = ytdlp.download("https://www.youtube.com/watch?v=dQw4w9WgXcQ").expect_err("not installed");
        assert_eq!(error.code(), "fetch.yt_dlp_missing");
        assert!(error.to_string().starts_with("yt-dlp not installed"), "{error}");
        assert!(error.retryable());
    }

    #[test]
    fn finds_programs_on_path() {
        assert!(find_program("sh").is_some());
        assert_eq!(find_program("/bin/sh"), Some(PathBuf::from("/bin/sh")));
        assert!(find_program("/nonexistent/yt-dlp").is_none());
    }
}
