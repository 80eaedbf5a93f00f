//! What an earlier run already settled, by reading every manifest and error file: videos committed in some shard,
//! and videos that failed for good. The settled index (`index/`) is built from these once per output.

use std::collections::HashSet;

use clipstream_schemas::ErrorRecord;
use clipstream_schemas::manifest::ERROR_DIR;

use crate::error::StoreError;
use crate::manifests::each_manifest;
use crate::output::Output;

/// Keys of every video listed in a manifest.
pub fn committed_videos(output: &Output) -> Result<HashSet<String>, StoreError> {
    let mut keys = HashSet::new();
    each_manifest(output, |m| keys.extend(m.video_keys))?;
    Ok(keys)
}

/// Ids of videos with a non-retryable error record in `errors/*.jsonl`. Unparseable lines are skipped with a warning.
pub fn permanent_failures(output: &Output) -> Result<HashSet<String>, StoreError> {
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
                Err(error) => {
                    tracing::warn!(key = %key, line = number + 1, %error, "skipping an unreadable error record")
                }
            }
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::Stage;

    use super::*;
    use crate::commit::commit;
    use crate::errors::ErrorWriter;
    use crate::fixtures::{temp_output, video};
    use crate::shard::ShardBuilder;

    #[test]
    fn committed_videos_come_from_manifests() {
        let (_dir, output) = temp_output();
        assert!(committed_videos(&output).unwrap().is_empty());
        for keys in [&["a", "b"][..], &["c"][..]] {
            let mut builder = ShardBuilder::new().unwrap();
            keys.iter().for_each(|k| builder.add(video(k, 1, false)).unwrap());
            commit(&output, builder).unwrap();
        }
        output.put("manifests/shard-broken.json", "{not json").unwrap();
        let done = committed_videos(&output).unwrap();
        assert_eq!(done, HashSet::from(["a".to_string(), "b".to_string(), "c".to_string()]));
    }

    #[test]
    fn permanent_failures_skip_retryable_and_garbage() {
        let (_dir, output) = temp_output();
        let mut writer = ErrorWriter::new(output.clone(), "r", 0);
        let record = |id: &str, retryable: bool| {
            let mut r = ErrorRecord::from_parts(Stage::Fetch, id, "u", "fetch.x", "x");
            r.retryable = retryable;
            r
        };
        writer.push(record("bad", false));
        writer.push(record("flaky", true));
        writer.push(record("", false));
        writer.flush().unwrap();
        let garbage = format!("not json\n{}\n", serde_json::to_string(&record("bad2", false)).unwrap());
        output.put("errors/other.jsonl", garbage).unwrap();
        output.put("errors/readme.txt", "ignored").unwrap();
        let failed = permanent_failures(&output).unwrap();
        assert_eq!(failed, HashSet::from(["bad".to_string(), "bad2".to_string()]));
    }
}
