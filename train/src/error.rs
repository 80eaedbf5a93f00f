//! `TrainError`: what can stop training or evaluation, each variant naming what failed.

use clipstream_store::{DataError, StoreError};
use thiserror::Error;

/// A failure of `train` or `evaluate`.
#[derive(Debug, Error)]
pub enum TrainError {
    #[error("{0} is not a ViCLIP architecture")]
    NotViclip(String),
    #[error("unknown architecture")]
    Arch(#[from] clipstream_models::arch::UnknownArch),
    #[error("loading the initial weights")]
    Weights(#[from] clipstream_models::weights::WeightsError),
    #[error("tokenizing captions")]
    Tokenizer(#[from] clipstream_models::tokenizer::Error),
    #[error("--resume needs --checkpoints")]
    ResumeWithoutCheckpoints,
    #[error("the checkpoint is of another run (arch {arch}, data {data})")]
    OtherRun { arch: String, data: String },
    #[error("{checkpoints} has no checkpoint")]
    NoCheckpoint { checkpoints: String },
    #[error("the checkpoint has no {0}")]
    MissingTensor(String),
    #[error("restoring the optimizer state: {0}")]
    OptimizerState(String),
    #[error("checkpoint object {key}: {op}")]
    Checkpoint {
        key: String,
        op: &'static str,
        #[source]
        source: CheckpointCause,
    },
    #[error(
        "rank {rank} of {world} has no shard to read: the data has {shards} committed shards (shard i goes to rank i % world; use at most {shards} ranks)"
    )]
    NoShardsForRank { rank: usize, world: usize, shards: usize },
    #[error("train.dist_backend = \"nccl\" needs CUDA, which this process does not have (use gloo on CPU)")]
    NcclWithoutCuda,
    #[error("the data-parallel group was used before prepare() broadcast the parameters and installed its hooks")]
    NotPrepared,
    #[error(transparent)]
    Dist(#[from] clipstream_dist::DistError),
    #[error("an epoch of {0} produced no batch")]
    EmptyEpoch(String),
    #[error("the data loader stopped")]
    LoaderStopped,
    #[error("{0} has fewer than 2 captioned clips")]
    TooFewClips(String),
    #[error("writing the training log {path}")]
    Log {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the model refused its input")]
    Model(#[from] tch::TchError),
    #[error("encoding a step of the training log")]
    LogLine(#[source] serde_json::Error),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The error underneath a [`TrainError::Checkpoint`].
#[derive(Debug, Error)]
pub enum CheckpointCause {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TrainError {
    /// Wraps a failure on checkpoint object `key` during `op`.
    pub(crate) fn checkpoint(key: &str, op: &'static str) -> impl FnOnce(CheckpointCause) -> Self {
        let key = key.to_string();
        move |source| TrainError::Checkpoint { key, op, source }
    }
}
