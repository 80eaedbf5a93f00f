//! The `clipstream` command line: one file per subcommand. `train`, `eval` and `convert` only parse here; they run
//! in `clipstream-torch` (see [`crate::torch`]).

mod check_config;
pub mod convert;
mod curate;
mod enqueue;
pub mod eval;
mod export;
mod gc;
mod hydrate;
mod icl;
mod lag;
pub mod out;
mod scenes;
mod stats;
mod subset;
mod synth;
pub mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Builds clip-level video-text datasets (InternVid-style) from video URLs.
#[derive(Debug, Parser)]
#[command(name = "clipstream", version, about)]
pub struct Cli {
    /// More logging (debug level for clipstream).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cut videos into scene clips, sample frames and write webdataset shards + parquet + manifests.
    Curate(curate::CurateArgs),
    /// Produce the requests of URL lists to the Kafka topic (key = video id) for `curate --source kafka`.
    Enqueue(enqueue::EnqueueArgs),
    /// Show the consumer group's committed offsets, high watermarks and lag per partition.
    Lag(lag::LagArgs),
    /// Print the scene cuts of video files (probe + scene_cut only), like `scenedetect list-scenes`.
    Scenes(scenes::ScenesArgs),
    /// Write procedural multi-shot videos with known cuts and captions (ground_truth.jsonl).
    Synth(synth::SynthArgs),
    /// Remove orphaned shard files (no manifest) from an output.
    Gc(gc::GcArgs),
    /// Check a converted checkpoint (safetensors) against a model architecture: missing/unexpected/mis-shaped keys.
    Convert(convert::ConvertArgs),
    /// Validate a configuration, or print the documented defaults.
    CheckConfig(check_config::CheckConfigArgs),
    /// Train ViCLIP on curated shards (clip-per-video sampling, masked then unmasked phase, checkpoints).
    ///
    /// Data parallel on several processes, GPUs or nodes: start the same command in every process with torchrun's
    /// variables RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (see docs/distributed.md).
    Train(train::TrainArgs),
    /// Zero-shot retrieval of a training checkpoint on held-out shards.
    Eval(eval::EvalArgs),
    /// Write a dataset's clip metadata in the released InternVid layout (jsonl), or as parquet/csv.
    Export(export::ExportArgs),
    /// Fetch the videos of released InternVid-style metadata once each, cut the listed clips, write shards.
    Hydrate(hydrate::HydrateArgs),
    /// Select DIV, FLT, aesthetics or random subsets of clip metadata; optionally reshard them.
    Subset(subset::SubsetArgs),
    /// Build InternVid-ICL interleaved video-text sequences (formats a, b, c) as jsonl.
    Icl(icl::IclArgs),
    /// Histograms, actionness and top words of a dataset: JSON, PNG plots and an HTML page.
    Stats(stats::StatsArgs),
}

/// The exit status of a finished command; errors are printed to stderr. A closed stdout (`clipstream scenes | head`)
/// is a success: its reader has what it wanted.
pub fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(error) if out::is_stdout_closed(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

impl Command {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Curate(args) => args.run(),
            Command::Enqueue(args) => args.run(),
            Command::Lag(args) => args.run(),
            Command::Scenes(args) => args.run(),
            Command::Synth(args) => args.run(),
            Command::Gc(args) => args.run(),
            Command::Convert(_) => Err(crate::torch::handoff("clipstream convert")),
            Command::CheckConfig(args) => args.run(),
            Command::Train(_) => Err(crate::torch::handoff("clipstream train")),
            Command::Eval(_) => Err(crate::torch::handoff("clipstream eval")),
            Command::Export(args) => args.run(),
            Command::Hydrate(args) => args.run(),
            Command::Subset(args) => args.run(),
            Command::Icl(args) => args.run(),
            Command::Stats(args) => args.run(),
        }
    }
}
