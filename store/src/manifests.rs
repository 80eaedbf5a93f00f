//! Reading every committed manifest of an output: the source of truth for what the dataset holds.

use clipstream_schemas::ShardManifest;
use clipstream_schemas::manifest::MANIFEST_DIR;

use crate::error::StoreError;
use crate::output::Output;

/// All manifests under `manifests/`.
#[derive(Debug, Default)]
pub struct Manifests {
    pub parsed: Vec<ShardManifest>,
    /// Keys of `manifests/*.json` objects that are not valid manifests (skipped with a warning).
    pub unreadable: Vec<String>,
}

/// Reads every `manifests/*.json`. Objects that cannot be fetched fail the call (so that nothing is deleted or
/// redone on a partial view); objects that do not parse are skipped with a warning and listed in `unreadable`.
pub fn read_manifests(output: &Output) -> Result<Manifests, StoreError> {
    let keys: Vec<String> =
        output.list(MANIFEST_DIR)?.into_iter().map(|o| o.key).filter(|k| k.ends_with(".json")).collect();
    let mut manifests = Manifests::default();
    for (key, body) in keys.iter().zip(output.get_many(&keys)) {
        match serde_json::from_slice::<ShardManifest>(&body?) {
            Ok(manifest) => manifests.parsed.push(manifest),
            Err(error) => {
                tracing::warn!(key = %key, %error, "skipping an unreadable manifest");
                manifests.unreadable.push(key.clone());
            }
        }
    }
    Ok(manifests)
}

/// Manifests read at once by [`each_manifest`].
const MANIFEST_CHUNK: usize = 64;

/// Calls `visit` with every readable manifest, reading a few at a time, so memory does not grow with the dataset;
/// returns the keys of unreadable ones. Fetch failures fail the call, as in [`read_manifests`].
pub fn each_manifest(output: &Output, mut visit: impl FnMut(ShardManifest)) -> Result<Vec<String>, StoreError> {
    let keys: Vec<String> =
        output.list(MANIFEST_DIR)?.into_iter().map(|o| o.key).filter(|k| k.ends_with(".json")).collect();
    let mut unreadable = Vec::new();
    for chunk in keys.chunks(MANIFEST_CHUNK) {
        for (key, body) in chunk.iter().zip(output.get_many(chunk)) {
            match serde_json::from_slice::<ShardManifest>(&body?) {
                Ok(manifest) => visit(manifest),
                Err(error) => {
                    tracing::warn!(key = %key, %error, "skipping an unreadable manifest");
                    unreadable.push(key.clone());
                }
            }
        }
    }
    Ok(unreadable)
}

/// The shard name of a manifest key (`manifests/shard-x.json` -> `shard-x`).
pub(crate) fn shard_of_manifest_key(key: &str) -> Option<&str> {
    key.strip_prefix(MANIFEST_DIR)?.strip_prefix('/')?.strip_suffix(".json")
}
