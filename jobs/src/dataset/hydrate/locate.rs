//! Where a listed video's bytes are. In order: the row's own `url` column; a file `{id}.{ext}` under
//! `--video-root` (any video extension); `--url-template` with `{id}` replaced (http(s), object-store or a local
//! path); YouTube through `yt-dlp` (when asked for with `--youtube`, or when nothing else is configured). Ids
//! that are not already safe object keys (`[A-Za-z0-9_-]`) are never turned into file names or URLs.

use std::path::{Path, PathBuf};

use clipstream_input::source::VIDEO_EXTENSIONS;
use clipstream_schemas::safe_key;

use super::error::HydrateError;

/// How ids are mapped to locations.
#[derive(Debug, Clone, Default)]
pub struct LocatorOptions {
    pub video_root: Option<PathBuf>,
    /// A URL or path with `{id}`, e.g. `https://mirror.example/videos/{id}.mp4` or `s3://bucket/v/{id}.mp4`.
    pub url_template: Option<String>,
    /// Download YouTube ids with yt-dlp when nothing else locates them.
    pub youtube: bool,
}

impl LocatorOptions {
    /// The folder and bucket the operator's own options point at (`--video-root`, the fixed part of
    /// `--url-template`), which the untrusted fetcher of hydrate may read although the rows' own urls may not.
    pub fn trusted_places(&self) -> (Vec<PathBuf>, Vec<String>) {
        let mut roots: Vec<PathBuf> = self.video_root.iter().cloned().collect();
        let mut buckets = Vec::new();
        if let Some(template) = &self.url_template {
            let fixed = template.split("{id}").next().unwrap_or_default();
            match url::Url::parse(template) {
                Ok(url) if url.scheme() == "file" => {
                    roots.extend(url.to_file_path().ok().map(|p| folder_of(&p, fixed)))
                }
                Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                    buckets.extend(url.host_str().map(String::from))
                }
                Ok(_) => {}
                Err(_) => roots.push(folder_of(Path::new(fixed), fixed)),
            }
        }
        (roots, buckets)
    }
}

/// The folder holding every path that starts with `fixed` (itself when it ends with `/`).
fn folder_of(path: &Path, fixed: &str) -> PathBuf {
    if fixed.ends_with('/') { path.to_path_buf() } else { path.parent().unwrap_or(Path::new("/")).to_path_buf() }
}

/// Where to fetch one video from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// A URL or path for the fetcher.
    Url(String),
    /// A YouTube watch URL for yt-dlp.
    YouTube(String),
}

/// Maps video ids to locations; see the module docs.
#[derive(Debug, Clone)]
pub struct Locator {
    options: LocatorOptions,
}

impl Locator {
    pub fn new(options: LocatorOptions) -> Self {
        Self { options }
    }

    /// Whether YouTube is a fallback: asked for, or the only way configured.
    fn youtube(&self) -> bool {
        self.options.youtube || (self.options.video_root.is_none() && self.options.url_template.is_none())
    }

    /// The location of video `id`; `row_url` is the `url` column of its rows, when present.
    pub fn locate(&self, id: &str, row_url: Option<&str>) -> Result<Located, HydrateError> {
        if let Some(url) = row_url.filter(|u| !u.trim().is_empty()) {
            return Ok(Located::Url(url.trim().to_string()));
        }
        let safe = safe_key(id).is_ok_and(|key| key == id);
        if !safe {
            return Err(HydrateError::UnsafeId { id: id.to_string() });
        }
        if let Some(root) = &self.options.video_root
            && let Some(path) = find_video(root, id)
        {
            return Ok(Located::Url(path.display().to_string()));
        }
        if let Some(template) = &self.options.url_template {
            return Ok(Located::Url(template.replace("{id}", id)));
        }
        if self.youtube() {
            return Ok(Located::YouTube(format!("https://www.youtube.com/watch?v={id}")));
        }
        let root = self.options.video_root.as_deref().unwrap_or(Path::new(""));
        Err(HydrateError::NotFound {
            id: id.to_string(),
            extensions: VIDEO_EXTENSIONS.join("|"),
            root: root.to_path_buf(),
        })
    }
}

/// `root/{id}.{ext}` for the first video extension that exists (lower or upper case).
fn find_video(root: &Path, id: &str) -> Option<PathBuf> {
    VIDEO_EXTENSIONS
        .iter()
        .flat_map(|ext| [ext.to_string(), ext.to_ascii_uppercase()])
        .map(|ext| root.join(format!("{id}.{ext}")))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::error::StageError;

    use super::*;

    #[test]
    fn locates_in_order_and_refuses_unsafe_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("abcDEF12345.webm"), b"x").expect("write");
        let root = Locator::new(LocatorOptions { video_root: Some(dir.path().into()), ..Default::default() });
        let found = root.locate("abcDEF12345", None).expect("found");
        assert_eq!(found, Located::Url(dir.path().join("abcDEF12345.webm").display().to_string()));
        assert_eq!(root.locate("x", Some(" /v/x.mp4 ")), Ok(Located::Url("/v/x.mp4".into())));
        let missing = root.locate("missing0000", None).expect_err("not there");
        assert_eq!(missing.code(), "fetch.not_found");
        assert_eq!(root.locate("../../etc/passwd", None).expect_err("unsafe").code(), "hydrate.unsafe_id");

        let template = Locator::new(LocatorOptions {
            video_root: Some(dir.path().into()),
            url_template: Some("s3://bucket/v/{id}.mp4".into()),
            youtube: false,
        });
        assert_eq!(template.locate("missing0000", None), Ok(Located::Url("s3://bucket/v/missing0000.mp4".into())));

        let youtube = Locator::new(LocatorOptions::default());
        assert_eq!(
            youtube.locate("dQw4w9WgXcQ", None),
            Ok(Located::YouTube("https://www.youtube.com/watch?v=dQw4w9WgXcQ".into()))
        );
        let (roots, buckets) = template.options.trusted_places();
        assert_eq!((roots, buckets), (vec![dir.path().to_path_buf()], vec!["bucket".to_string()]));
        let local = LocatorOptions { url_template: Some("/data/v/{id}.mp4".into()), ..Default::default() };
        assert_eq!(local.trusted_places(), (vec![PathBuf::from("/data/v")], vec![]));
        let nested = LocatorOptions { url_template: Some("/data/{id}/v.mp4".into()), ..Default::default() };
        assert_eq!(nested.trusted_places().0, vec![PathBuf::from("/data/")]);
        let http = LocatorOptions { url_template: Some("https://m.example/{id}.mp4".into()), ..Default::default() };
        assert_eq!(http.trusted_places(), (vec![], vec![]));
        let root_then_youtube =
            Locator::new(LocatorOptions { video_root: Some(dir.path().into()), youtube: true, ..Default::default() });
        assert!(matches!(root_then_youtube.locate("missing0000", None), Ok(Located::YouTube(_))));
    }
}
