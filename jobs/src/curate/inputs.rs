//! Turning `--input` arguments (list files, directories of videos, single video files) into one stream of
//! requests or per-row error records.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clipstream_input::source::is_video_file_name;
use clipstream_schemas::{SourcePosition, VideoRequest};

pub use clipstream_core::SourceItem;

fn is_video_file(path: &Path) -> bool {
    path.is_file() && is_video_file_name(path)
}

/// All rows of all inputs, in order, read lazily.
pub fn open_inputs(inputs: &[PathBuf]) -> anyhow::Result<Box<dyn Iterator<Item = SourceItem> + Send>> {
    let mut iters: Vec<Box<dyn Iterator<Item = SourceItem> + Send>> = Vec::new();
    for (partition, input) in inputs.iter().enumerate() {
        if is_video_file(input) {
            let mut request = VideoRequest::new(input.display().to_string());
            request.source = Some(SourcePosition { partition: partition as i32, offset: 0 });
            iters.push(Box::new(std::iter::once(Ok(request))));
            continue;
        }
        let rows = clipstream_input::source::read_list(input, None)
            .with_context(|| format!("opening input {}", input.display()))?;
        iters.push(Box::new(rows));
    }
    Ok(Box::new(iters.into_iter().flatten()))
}
