//! Checkpoints on any object_store URL: `step-{N}/model.safetensors` (the model, released-ViCLIP names),
//! `step-{N}/optimizer.safetensors` (AdamW moments and step), `step-{N}/state.json` (step, data position, run
//! settings), and `latest.json` written last, naming the newest complete checkpoint (like a shard manifest).

use std::collections::BTreeMap;

use clipstream_store::Output;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::error::TrainError;
use clipstream_schemas::config::TrainConfig;

/// What `state.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimizer steps done.
    pub step: u64,
    /// Batches of the data stream consumed (the loader skips them on resume).
    pub batches: u64,
    pub config: TrainConfig,
}

#[derive(Debug, Serialize, Deserialize)]
struct Latest {
    step: u64,
    dir: String,
}

fn put_tensors(output: &Output, key: &str, tensors: &[(String, Tensor)]) -> Result<(), TrainError> {
    let fail = |op| TrainError::checkpoint(key, op);
    let file = tempfile::NamedTempFile::new().map_err(|e| fail("creating a temp file")(e.into()))?;
    Tensor::write_safetensors(tensors, file.path()).map_err(|e| fail("writing")(e.into()))?;
    let bytes = std::fs::read(file.path()).map_err(|e| fail("reading back")(e.into()))?;
    output.put(key, bytes).map_err(|e| fail("uploading")(e.into()))?;
    Ok(())
}

fn get_tensors(output: &Output, key: &str) -> Result<BTreeMap<String, Tensor>, TrainError> {
    let fail = |op| TrainError::checkpoint(key, op);
    let bytes = output.get(key).map_err(|e| fail("reading")(e.into()))?;
    let file = tempfile::NamedTempFile::new().map_err(|e| fail("creating a temp file")(e.into()))?;
    std::fs::write(file.path(), &bytes).map_err(|e| fail("spooling")(e.into()))?;
    let tensors = Tensor::read_safetensors(file.path()).map_err(|e| fail("parsing")(e.into()))?;
    Ok(tensors.into_iter().collect())
}

fn get_json<T: serde::de::DeserializeOwned>(output: &Output, key: &str) -> Result<T, TrainError> {
    let fail = |op| TrainError::checkpoint(key, op);
    let bytes = output.get(key).map_err(|e| fail("reading")(e.into()))?;
    serde_json::from_slice(&bytes).map_err(|e| fail("parsing")(e.into()))
}

fn put_json<T: Serialize>(output: &Output, key: &str, value: &T) -> Result<(), TrainError> {
    let fail = |op| TrainError::checkpoint(key, op);
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| fail("encoding")(e.into()))?;
    output.put(key, bytes).map_err(|e| fail("uploading")(e.into()))
}

/// Writes one checkpoint and then `latest.json`.
pub fn save(
    output: &Output,
    state: &TrainState,
    model: &[(String, Tensor)],
    optimizer: &[(String, Tensor)],
) -> Result<String, TrainError> {
    let dir = format!("step-{:08}", state.step);
    put_tensors(output, &format!("{dir}/model.safetensors"), model)?;
    put_tensors(output, &format!("{dir}/optimizer.safetensors"), optimizer)?;
    put_json(output, &format!("{dir}/state.json"), state)?;
    put_json(output, "latest.json", &Latest { step: state.step, dir: dir.clone() })?;
    Ok(format!("{}/{dir}", output.url().trim_end_matches('/')))
}

/// A loaded checkpoint.
pub struct Loaded {
    pub state: TrainState,
    pub model: BTreeMap<String, Tensor>,
    pub optimizer: BTreeMap<String, Tensor>,
}

/// The checkpoint `latest.json` names, or `None` when there is none yet.
pub fn load_latest(output: &Output) -> Result<Option<Loaded>, TrainError> {
    let listed = output.list("")?;
    if !listed.iter().any(|o| o.key == "latest.json") {
        return Ok(None);
    }
    let latest: Latest = get_json(output, "latest.json")?;
    load_dir(output, &latest.dir).map(Some)
}

/// The checkpoint in folder `dir` of `output`.
pub fn load_dir(output: &Output, dir: &str) -> Result<Loaded, TrainError> {
    let state: TrainState = get_json(output, &format!("{dir}/state.json"))?;
    Ok(Loaded {
        model: get_tensors(output, &format!("{dir}/model.safetensors"))?,
        optimizer: get_tensors(output, &format!("{dir}/optimizer.safetensors"))?,
        state,
    })
}
