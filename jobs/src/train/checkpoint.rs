//! Checkpoints on any object_store URL: `step-{N}/model.safetensors` (the model, released-ViCLIP names),
//! `step-{N}/optimizer.safetensors` (AdamW moments and step), `step-{N}/state.json` (step, data position, run
//! settings), and `latest.json` written last, naming the newest complete checkpoint (like a shard manifest).

use std::collections::BTreeMap;

use anyhow::Context;
use clipstream_store::Output;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::config::TrainConfig;

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

fn put_tensors(output: &Output, key: &str, tensors: &[(String, Tensor)]) -> anyhow::Result<()> {
    let file = tempfile::NamedTempFile::new().context("temp file for a checkpoint")?;
    Tensor::write_safetensors(tensors, file.path()).with_context(|| format!("writing {key}"))?;
    let bytes = std::fs::read(file.path()).with_context(|| format!("reading back {key}"))?;
    output.put(key, bytes).with_context(|| format!("uploading {key}"))?;
    Ok(())
}

fn get_tensors(output: &Output, key: &str) -> anyhow::Result<BTreeMap<String, Tensor>> {
    let bytes = output.get(key).with_context(|| format!("reading {key}"))?;
    let file = tempfile::NamedTempFile::new().context("temp file for a checkpoint")?;
    std::fs::write(file.path(), &bytes).with_context(|| format!("spooling {key}"))?;
    let tensors = Tensor::read_safetensors(file.path()).with_context(|| format!("parsing {key}"))?;
    Ok(tensors.into_iter().collect())
}

/// Writes one checkpoint and then `latest.json`.
pub fn save(
    output: &Output,
    state: &TrainState,
    model: &[(String, Tensor)],
    optimizer: &[(String, Tensor)],
) -> anyhow::Result<String> {
    let dir = format!("step-{:08}", state.step);
    put_tensors(output, &format!("{dir}/model.safetensors"), model)?;
    put_tensors(output, &format!("{dir}/optimizer.safetensors"), optimizer)?;
    output.put(&format!("{dir}/state.json"), serde_json::to_vec_pretty(state)?)?;
    output.put("latest.json", serde_json::to_vec(&Latest { step: state.step, dir: dir.clone() })?)?;
    Ok(format!("{}/{dir}", output.url().trim_end_matches('/')))
}

/// A loaded checkpoint.
pub struct Loaded {
    pub state: TrainState,
    pub model: BTreeMap<String, Tensor>,
    pub optimizer: BTreeMap<String, Tensor>,
}

/// The checkpoint `latest.json` names, or `None` when there is none yet.
pub fn load_latest(output: &Output) -> anyhow::Result<Option<Loaded>> {
    let listed = output.list("").context("listing the checkpoints")?;
    if !listed.iter().any(|o| o.key == "latest.json") {
        return Ok(None);
    }
    let latest: Latest = serde_json::from_slice(&output.get("latest.json")?).context("parsing latest.json")?;
    load_dir(output, &latest.dir).map(Some)
}

/// The checkpoint in folder `dir` of `output`.
pub fn load_dir(output: &Output, dir: &str) -> anyhow::Result<Loaded> {
    let state: TrainState = serde_json::from_slice(&output.get(&format!("{dir}/state.json"))?)
        .with_context(|| format!("parsing {dir}/state.json"))?;
    Ok(Loaded {
        model: get_tensors(output, &format!("{dir}/model.safetensors"))?,
        optimizer: get_tensors(output, &format!("{dir}/optimizer.safetensors"))?,
        state,
    })
}
