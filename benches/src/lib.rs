//! Shared helpers of the benches: where the real test videos are cached (see `scripts/fetch-testdata`).

use std::path::PathBuf;

/// The folder `scripts/fetch-testdata` fills (`$CLIPSTREAM_TESTDATA` or `.cache/testdata` in the repository).
pub fn testdata_dir() -> PathBuf {
    std::env::var_os("CLIPSTREAM_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/testdata"))
}

/// The cached real videos present on this machine, sorted by name.
pub fn real_videos() -> Vec<PathBuf> {
    let mut videos: Vec<PathBuf> = std::fs::read_dir(testdata_dir())
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ["mp4", "mpg", "avi"].iter().any(|e| ext == *e)))
        .collect();
    videos.sort();
    videos
}
