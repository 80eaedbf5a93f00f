//! Ground truth of a synthetic video: where its shots are, what kind each is, and its caption. One JSON line per
//! video in `ground_truth.jsonl`.

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::MediaError;

/// How a shot moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShotKind {
    /// Shapes move over a static background (content score per frame well under 8).
    Normal,
    /// Nothing moves: every frame is the same image (content score 0).
    Still,
    /// Strobing brightness: content score per frame about 20-23 (mean ~21), under the cut threshold 27.
    Flashing,
}

/// One shot: frames `start_frame..end_frame` (end exclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthShot {
    pub start_frame: u64,
    pub end_frame: u64,
    pub kind: ShotKind,
    pub caption: String,
    /// The shape of the shot's first object (`circle`, `square`, ...): a label for zero-shot classification.
    pub category: String,
}

/// One synthetic video as written to `ground_truth.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthVideo {
    pub video: String,
    /// File name relative to the dataset directory.
    pub path: String,
    pub fps: u32,
    pub frames: u64,
    pub width: u32,
    pub height: u32,
    /// The family of backgrounds and shapes all shots of the video share.
    pub theme: String,
    /// Frames where a new shot starts (every shot start but 0).
    pub cut_frames: Vec<u64>,
    pub shots: Vec<SynthShot>,
}

/// Reads a `ground_truth.jsonl` file.
pub fn read_ground_truth(path: &Path) -> Result<Vec<SynthVideo>, MediaError> {
    let io = |source| MediaError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut videos = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let video = serde_json::from_str(&line)
            .map_err(|e| MediaError::Invalid(format!("{}: bad ground truth line: {e}", path.display())))?;
        videos.push(video);
    }
    Ok(videos)
}
