//! `ListFormat`: which kind of list a path is, from its extension (or because it is a directory).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The layout of an input list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListFormat {
    /// One URL per line; blank lines and `#` comments skipped (`.txt`, `.list`).
    Text,
    /// Comma-separated with a header row containing `url` (`.csv`).
    Csv,
    /// Tab-separated with a header row containing `url`, no quoting (`.tsv`).
    Tsv,
    /// One JSON object per line with `url` (`.jsonl`, `.ndjson`).
    Jsonl,
    /// A parquet file with a string column `url` (`.parquet`).
    Parquet,
    /// A directory searched recursively for video files.
    Directory,
}

/// File extensions (lower case) treated as videos when listing a directory.
pub const VIDEO_EXTENSIONS: &[&str] =
    &["mp4", "mkv", "webm", "mov", "avi", "mpg", "mpeg", "m4v", "flv", "ts", "wmv", "3gp", "ogv"];

impl ListFormat {
    /// The format of `path`: a directory, or by its (case-insensitive) extension. `None` when unknown.
    pub fn from_path(path: &Path) -> Option<Self> {
        if path.is_dir() {
            return Some(Self::Directory);
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        ext.parse().ok()
    }

    /// The canonical name (`txt`, `csv`, `tsv`, `jsonl`, `parquet`, `dir`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "txt",
            Self::Csv => "csv",
            Self::Tsv => "tsv",
            Self::Jsonl => "jsonl",
            Self::Parquet => "parquet",
            Self::Directory => "dir",
        }
    }
}

impl fmt::Display for ListFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown list format {0:?} (txt, list, csv, tsv, jsonl, ndjson, parquet, dir)")]
pub struct UnknownFormat(pub String);

impl FromStr for ListFormat {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "txt" | "list" | "text" => Ok(Self::Text),
            "csv" => Ok(Self::Csv),
            "tsv" => Ok(Self::Tsv),
            "jsonl" | "ndjson" => Ok(Self::Jsonl),
            "parquet" => Ok(Self::Parquet),
            "dir" | "directory" => Ok(Self::Directory),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// Whether `path` has one of the [`VIDEO_EXTENSIONS`] (case-insensitive).
pub fn is_video_file_name(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| VIDEO_EXTENSIONS.iter().any(|known| known.eq_ignore_ascii_case(ext)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_by_extension() {
        let cases = [
            ("a.txt", Some(ListFormat::Text)),
            ("a.LIST", Some(ListFormat::Text)),
            ("a.csv", Some(ListFormat::Csv)),
            ("a.tsv", Some(ListFormat::Tsv)),
            ("a.jsonl", Some(ListFormat::Jsonl)),
            ("a.ndjson", Some(ListFormat::Jsonl)),
            ("a.parquet", Some(ListFormat::Parquet)),
            ("a.xlsx", None),
            ("noext", None),
        ];
        for (name, want) in cases {
            assert_eq!(ListFormat::from_path(Path::new(name)), want, "{name}");
        }
        assert_eq!(ListFormat::from_path(&std::env::temp_dir()), Some(ListFormat::Directory));
        assert_eq!("NDJSON".parse::<ListFormat>(), Ok(ListFormat::Jsonl));
        assert!("xml".parse::<ListFormat>().is_err());
    }

    #[test]
    fn recognises_video_names() {
        assert!(is_video_file_name(Path::new("a/b.MP4")));
        assert!(is_video_file_name(Path::new("c.3gp")));
        assert!(!is_video_file_name(Path::new("c.txt")));
        assert!(!is_video_file_name(Path::new("mp4")));
    }
}
