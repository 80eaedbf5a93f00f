//! The `clipstream` command line: one file per subcommand.

mod check_config;
mod curate;
mod export;
mod gc;
mod hydrate;
mod scenes;
mod synth;

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
    /// Print the scene cuts of video files (probe + scene_cut only), like `scenedetect list-scenes`.
    Scenes(scenes::ScenesArgs),
    /// Write procedural multi-shot videos with known cuts and captions (ground_truth.jsonl).
    Synth(synth::SynthArgs),
    /// Remove orphaned shard files (no manifest) from an output.
    Gc(gc::GcArgs),
    /// Validate a configuration, or print the documented defaults.
    CheckConfig(check_config::CheckConfigArgs),
    /// Write a dataset's clip metadata in the released InternVid layout (jsonl), or as parquet/csv.
    Export(export::ExportArgs),
    /// Fetch the videos of released InternVid-style metadata once each, cut the listed clips, write shards.
    Hydrate(hydrate::HydrateArgs),
}

impl Command {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Curate(args) => args.run(),
            Command::Scenes(args) => args.run(),
            Command::Synth(args) => args.run(),
            Command::Gc(args) => args.run(),
            Command::CheckConfig(args) => args.run(),
            Command::Export(args) => args.run(),
            Command::Hydrate(args) => args.run(),
        }
    }
}
