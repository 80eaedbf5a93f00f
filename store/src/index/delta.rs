//! Deltas: one small object per commit, naming the keys it settles and the object that vouches for them (its
//! witness: the shard's manifest, or the error file). A delta is written before a manifest and after an error
//! file, and counts only while its witness exists, so a crash between the two writes neither loses nor skips a
//! video (docs/delivery.md, "The settled index").

use std::time::SystemTime;

use clipstream_schemas::ErrorRecord;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::index::IndexKind;
use crate::output::Output;

/// The stored delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delta {
    /// Object key (relative to the output root) whose existence makes the delta count.
    pub witness: String,
    /// Video keys (committed) or ids (failed).
    pub keys: Vec<String>,
}

/// Writes the delta `name` of `kind`.
pub fn write_delta(
    output: &Output,
    kind: IndexKind,
    name: &str,
    witness: &str,
    keys: Vec<String>,
) -> Result<(), StoreError> {
    let key = format!("{}/{name}.json", kind.deltas());
    let delta = Delta { witness: witness.to_string(), keys };
    let json =
        serde_json::to_vec(&delta).map_err(|source| StoreError::Json { what: format!("delta {key}"), source })?;
    output.put(&key, json)
}

/// After the error file `errors_key` is stored: the delta of its permanent failures (none if all are retryable).
pub fn write_error_delta(output: &Output, errors_key: &str, records: &[ErrorRecord]) -> Result<(), StoreError> {
    let ids: Vec<String> =
        records.iter().filter(|r| !r.retryable && !r.video_id.is_empty()).map(|r| r.video_id.clone()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let name = errors_key.rsplit('/').next().unwrap_or(errors_key).trim_end_matches(".jsonl");
    write_delta(output, IndexKind::Failed, name, errors_key, ids)
}

/// A delta as listed at start.
#[derive(Debug, Clone)]
pub struct ListedDelta {
    pub key: String,
    pub modified: SystemTime,
    pub delta: Delta,
    /// Whether the witness exists.
    pub witnessed: bool,
}

/// Lists, reads and checks every delta of `kind`. A delta deleted between the listing and its read was folded into
/// a segment written before the deletion, so it is left out (the caller lists segments afterwards).
pub fn list_deltas(output: &Output, kind: IndexKind) -> Result<Vec<ListedDelta>, StoreError> {
    let listed: Vec<_> = output.list(&kind.deltas())?.into_iter().filter(|o| o.key.ends_with(".json")).collect();
    let keys: Vec<String> = listed.iter().map(|o| o.key.clone()).collect();
    let mut deltas = Vec::with_capacity(listed.len());
    for (info, body) in listed.into_iter().zip(output.get_many(&keys)) {
        let body = match body {
            Ok(body) => body,
            Err(error) if error.is_not_found() => continue,
            Err(error) => return Err(error),
        };
        let delta: Delta = serde_json::from_slice(&body)
            .map_err(|e| StoreError::BadIndex { key: info.key.clone(), reason: e.to_string() })?;
        deltas.push(ListedDelta { key: info.key, modified: info.modified, delta, witnessed: false });
    }
    let witnesses: Vec<String> = deltas.iter().map(|d| d.delta.witness.clone()).collect();
    for (delta, exists) in deltas.iter_mut().zip(output.exist_many(&witnesses)) {
        delta.witnessed = exists?;
    }
    Ok(deltas)
}

#[cfg(test)]
mod tests {
    use clipstream_schemas::Stage;

    use super::*;
    use crate::fixtures::temp_output;

    #[test]
    fn deltas_count_only_with_their_witness() {
        let (_dir, output) = temp_output();
        write_delta(&output, IndexKind::Committed, "s1", "manifests/s1.json", vec!["a".into()]).unwrap();
        write_delta(&output, IndexKind::Committed, "s2", "manifests/s2.json", vec!["b".into()]).unwrap();
        output.put("manifests/s1.json", "{}").unwrap();
        let deltas = list_deltas(&output, IndexKind::Committed).unwrap();
        let state: Vec<(&str, bool)> = deltas.iter().map(|d| (d.delta.keys[0].as_str(), d.witnessed)).collect();
        assert_eq!(state, [("a", true), ("b", false)]);
        output.put("index/committed/deltas/bad.json", "{not json").unwrap();
        assert!(list_deltas(&output, IndexKind::Committed).is_err());
    }

    #[test]
    fn error_deltas_hold_permanent_failures_only() {
        let (_dir, output) = temp_output();
        let record = |id: &str, retryable: bool| {
            let mut r = ErrorRecord::from_parts(Stage::Fetch, id, "u", "fetch.x", "x");
            r.retryable = retryable;
            r
        };
        write_error_delta(&output, "errors/r-w000-00000.jsonl", &[record("flaky", true)]).unwrap();
        assert!(list_deltas(&output, IndexKind::Failed).unwrap().is_empty());
        write_error_delta(&output, "errors/r-w000-00001.jsonl", &[record("bad", false), record("", false)]).unwrap();
        let deltas = list_deltas(&output, IndexKind::Failed).unwrap();
        assert_eq!(deltas.len(), 1);
        assert_eq!(deltas[0].delta, Delta { witness: "errors/r-w000-00001.jsonl".into(), keys: vec!["bad".into()] });
        assert_eq!(deltas[0].key, "index/failed/deltas/r-w000-00001.json");
    }
}
