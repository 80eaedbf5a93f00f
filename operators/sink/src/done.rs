//! What an earlier run already settled: videos committed in some shard, and videos that failed for good. The source
//! skips both on restart (the second unless `retry_errors`).

use std::collections::HashSet;

use clipstream_schemas::ErrorRecord;
use clipstream_schemas::manifest::ERROR_DIR;

use crate::error::SinkError;
use crate::manifests::read_manifests;
use crate::store::Output;

/// Keys of every video listed in a manifest.
pub fn committed_videos(output: &Output) -> Result<HashSet<String>, SinkError> {
    Ok(read_manifests(output)?.parsed.into_iter().flat_map(|m| m.video_keys).collect())
}

/// Ids of videos with a non-retryable error record in `errors/*.jsonl`. Unparseable lines are skipped with a warning.
pub fn permanent_failures(output: &Output) -> Result<HashSet<String>, SinkError> {
    let keys: Vec<String> =
        output.list(ERROR_DIR)?.into_iter().map(|o| o.key).filter(|k| k.ends_with(".jsonl")).collect();
    let mut failed = HashSet::new();
    for (key, body) in keys.iter().zip(output.get_many(&keys)) {
        let body = body?;
        let Ok(text) = std::str::from_utf8(&body) else {
            tracing::warn!(key = %key, "skipping an error file that is not UTF-8");
            continue;
        };
        for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
            match serde_json::from_str::<ErrorRecord>(line) {
                Ok(record) if !record.retryable && !record.video_id.is_empty() => {
                    failed.insert(record.video_id);
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(key = %key, line = number + 1, %error, "skipping an unreadable error record"),
            }
        }
    }
    Ok(failed)
}
