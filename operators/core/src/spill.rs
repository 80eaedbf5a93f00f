//! A video's spill file: JPEG frames appended as they are encoded and read back (positioned reads, any thread) by
//! the stages that need them, so a long video's frames are on disk, not in memory. The file is anonymous (an
//! unlinked temporary file): it goes when the last image that reads from it is dropped, and a crashed process
//! leaves nothing behind.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clipstream_schemas::{Jpeg, SpillRead};

/// An append-only file of images.
pub struct SpillFile {
    /// The folder it is in (for messages: the file itself has no name).
    dir: PathBuf,
    file: File,
    /// The write end (appends are serialised; reads are positioned and need no lock).
    end: Mutex<u64>,
}

impl SpillFile {
    /// A new, empty spill file in `dir`.
    pub fn new_in(dir: &Path) -> std::io::Result<Arc<Self>> {
        let file: File = tempfile::tempfile_in(dir)?;
        Ok(Arc::new(Self { dir: dir.to_path_buf(), file, end: Mutex::new(0) }))
    }

    /// Appends `bytes` and returns the image that reads them back.
    pub fn append(self: &Arc<Self>, bytes: &[u8]) -> std::io::Result<Jpeg> {
        let mut end = self.end.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let offset = *end;
        let mut file = &self.file;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)?;
        *end += bytes.len() as u64;
        let reader: Arc<dyn SpillRead> = self.clone();
        Ok(Jpeg::spilled(reader, offset, bytes.len()))
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        *self.end.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SpillRead for SpillFile {
    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut bytes = vec![0; len];
        self.file.read_exact_at(&mut bytes, offset).map_err(|error| {
            std::io::Error::new(
                error.kind(),
                format!("reading {len} bytes at {offset} of a spill file in {}: {error}", self.dir.display()),
            )
        })?;
        Ok(bytes)
    }
}

impl std::fmt::Debug for SpillFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpillFile(in {}, {} bytes)", self.dir.display(), self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_read_back_from_any_thread() {
        let dir = tempfile::tempdir().expect("dir");
        let spill = SpillFile::new_in(dir.path()).expect("create");
        let images: Vec<(Vec<u8>, Jpeg)> = (0..50_u8)
            .map(|i| {
                let bytes = vec![i; 100 + usize::from(i)];
                let jpeg = spill.append(&bytes).expect("append");
                (bytes, jpeg)
            })
            .collect();
        assert_eq!(spill.len(), (0..50).map(|i| 100 + i).sum::<u64>());
        std::thread::scope(|scope| {
            for chunk in images.chunks(10) {
                scope.spawn(move || {
                    for (bytes, jpeg) in chunk {
                        assert!(jpeg.is_spilled());
                        assert_eq!(&jpeg.bytes().expect("read")[..], &bytes[..]);
                    }
                });
            }
        });
        drop(spill);
        drop(dir);
        assert_eq!(&images[7].1.bytes().expect("the image keeps the file open")[..], &images[7].0[..]);
    }
}
