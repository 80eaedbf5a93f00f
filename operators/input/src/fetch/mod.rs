//! Fetch: makes a video's bytes available as a local file: local paths in place, http(s) behind an SSRF guard and
//! object-store URLs streamed into a temporary file, all within size and time limits; YouTube videos through the
//! external yt-dlp program when it is installed.

mod budget;
mod download;
mod error;
mod fetcher;
mod guard;
mod http;
mod local;
mod object;
mod trust;
mod youtube;

pub use budget::Charge;
pub use error::FetchError;
pub use fetcher::{Fetched, Fetcher};
pub use guard::is_forbidden;
pub use trust::Trust;
pub use youtube::{DownloadError, Downloaded, YtDlp, find_program};
