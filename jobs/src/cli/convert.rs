//! `clipstream convert`: checks a converted checkpoint (safetensors, from `scripts/convert_checkpoint.py`) against
//! an architecture name by name and shape, and reports missing, unexpected and mis-shaped tensors. The check runs
//! in `clipstream-torch` (see [`crate::torch`]).

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Architecture the file must fit: viclip-l14, viclip-b16, viclip-small, viclip-small-t2, viclip-small-t2-p28,
    /// viclip-tiny, clip-vit-l14, clip-vit-b16, clip-vit-b32, clip-tiny, aesthetic-mlp.
    #[arg(long)]
    pub arch: String,
    /// The converted checkpoint (.safetensors).
    pub file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}
