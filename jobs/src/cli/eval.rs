//! `clipstream eval`: zero-shot text-to-video and video-to-text retrieval (R@1/5/10, median rank) and zero-shot
//! classification (top1/top5/AVG over the clips' categories) of a training checkpoint on held-out shards; prints a
//! table and writes JSON. The evaluation runs in `clipstream-torch` (see [`crate::torch`]).

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Checkpoint folder or URL given to `clipstream train --checkpoints`.
    #[arg(long)]
    pub checkpoints: String,
    /// A checkpoint inside it (`step-00001000`); default: the latest.
    #[arg(long, default_value = "")]
    pub step_dir: String,
    /// Output root of `clipstream curate` with the held-out shards.
    #[arg(long)]
    pub data: String,
    /// Evaluate at most this many clips (0 = all).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Write the report here as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}
