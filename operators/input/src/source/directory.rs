//! The directory source: every video file under a folder, recursively, in sorted order. Directory symlinks are not
//! followed (no cycles); file symlinks are listed only when they point inside the folder.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use clipstream_schemas::{ErrorRecord, VideoRequest};

use super::error::{RowError, SourceError};
use super::format::is_video_file_name;
use super::row::{RowAt, RowFields, finish, reject, reject_raw};

/// Requests for the videos under a directory; `SourcePosition::offset` is the 0-based index among the entries
/// reported (videos and errors).
pub(crate) struct DirectoryRows {
    /// The canonical root, to keep symlinks inside the tree.
    root: PathBuf,
    /// One sorted listing per directory level still being walked.
    stack: Vec<std::vec::IntoIter<PathBuf>>,
    next_index: u64,
}

/// What one walked path turned out to be.
enum Entry {
    Video,
    Directory,
    Skip,
    Outside(PathBuf),
}

impl DirectoryRows {
    pub fn open(dir: &Path) -> Result<Self, SourceError> {
        let open = |source| SourceError::Open { path: dir.to_path_buf(), source };
        let root = fs::canonicalize(dir).map_err(open)?;
        let top = sorted_entries(dir).map_err(open)?;
        Ok(Self { root, stack: vec![top.into_iter()], next_index: 0 })
    }

    fn at(&mut self, path: &Path) -> RowAt {
        let at = RowAt {
            partition: 0,
            offset: i64::try_from(self.next_index).unwrap_or(i64::MAX),
            label: format!("entry {}", path.display()),
        };
        self.next_index += 1;
        at
    }

    fn classify(&self, path: &Path) -> std::io::Result<Entry> {
        let meta = fs::symlink_metadata(path)?;
        if meta.is_dir() {
            return Ok(Entry::Directory);
        }
        if !is_video_file_name(path) {
            return Ok(Entry::Skip);
        }
        if meta.is_file() {
            return Ok(Entry::Video);
        }
        if meta.file_type().is_symlink() {
            let target = fs::canonicalize(path)?;
            if !target.starts_with(&self.root) {
                return Ok(Entry::Outside(target));
            }
            return Ok(if target.is_file() { Entry::Video } else { Entry::Skip });
        }
        Ok(Entry::Skip)
    }

    fn request(&mut self, path: PathBuf) -> Result<VideoRequest, ErrorRecord> {
        let at = self.at(&path);
        let lossy = path.to_string_lossy().into_owned();
        match path.into_os_string().into_string() {
            Ok(url) => finish(RowFields { url, ..RowFields::default() }, &at, || lossy),
            Err(_) => Err(reject_raw(RowError::InvalidUtf8, &at, lossy)),
        }
    }
}

impl Iterator for DirectoryRows {
    type Item = Result<VideoRequest, ErrorRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let top = self.stack.last_mut()?;
            let Some(path) = top.next() else {
                self.stack.pop();
                continue;
            };
            match self.classify(&path) {
                Ok(Entry::Video) => return Some(self.request(path)),
                Ok(Entry::Skip) => {}
                Ok(Entry::Directory) => match sorted_entries(&path) {
                    Ok(entries) => self.stack.push(entries.into_iter()),
                    Err(e) => {
                        let at = self.at(&path);
                        return Some(Err(reject_raw(RowError::Io(e), &at, path.to_string_lossy().into_owned())));
                    }
                },
                Ok(Entry::Outside(target)) => {
                    let at = self.at(&path);
                    let url = path.to_string_lossy().into_owned();
                    let error = RowError::OutsideTree(target.display().to_string());
                    return Some(Err(reject(error, &at, &url, "", url.clone())));
                }
                Err(e) => {
                    let at = self.at(&path);
                    return Some(Err(reject_raw(RowError::Io(e), &at, path.to_string_lossy().into_owned())));
                }
            }
        }
    }
}

/// The entries of `dir`, sorted by file name.
fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut names: Vec<OsString> =
        fs::read_dir(dir)?.map(|entry| entry.map(|e| e.file_name())).collect::<Result<_, _>>()?;
    names.sort();
    Ok(names.into_iter().map(|name| dir.join(name)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_recursively_and_keeps_symlinks_inside() {
        let outside = tempfile::tempdir().expect("outside");
        std::fs::write(outside.path().join("secret.mp4"), b"x").expect("write");
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for name in ["b.mp4", "a.MKV", "notes.txt", "sub/c.webm", "sub/deeper/d.ts", "z/e.mov"] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, b"x").expect("write");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("b.mp4"), root.join("link.mp4")).expect("inner link");
            std::os::unix::fs::symlink(outside.path().join("secret.mp4"), root.join("out.mp4")).expect("outer link");
            std::os::unix::fs::symlink(outside.path(), root.join("outdir")).expect("dir link");
        }
        let rows: Vec<_> = DirectoryRows::open(root).expect("open").collect();
        let mut urls = Vec::new();
        let mut errors = Vec::new();
        for row in rows {
            match row {
                Ok(request) => urls.push(request.url.strip_prefix(&*root.to_string_lossy()).unwrap_or("?").to_string()),
                Err(record) => errors.push(record),
            }
        }
        #[cfg(unix)]
        {
            assert_eq!(urls, ["/a.MKV", "/b.mp4", "/link.mp4", "/sub/c.webm", "/sub/deeper/d.ts", "/z/e.mov"]);
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].code, "source.outside_tree");
            assert_eq!(errors[0].source.map(|s| s.offset), Some(3));
        }
    }
}
