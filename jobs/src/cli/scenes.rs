//! `clipstream scenes FILE...`: probe + scene_cut only, printing each file's cuts (frame numbers, timestamps, fps,
//! frame count), like `scenedetect list-scenes`. `--json` prints one object keyed by file path.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use clap::Args;
use clipstream_media::scene::detect_scenes;
use clipstream_schemas::format_timestamp;
use serde_json::{Value, json};

use crate::config::ConfigArgs;

#[derive(Debug, Args)]
pub struct ScenesArgs {
    /// Video files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON: `{path: {cut_frames, cut_seconds, fps, frames}}`.
    #[arg(long)]
    json: bool,
    /// Threads per file: 1 decodes and scores on one thread; N scores on a thread of its own beside N decoder
    /// threads; 0 = beside a decoder thread on every core but one.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[command(flatten)]
    config: ConfigArgs,
}

impl ScenesArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = self.config.load()?;
        let mut report = serde_json::Map::new();
        let mut failed = false;
        for file in &self.files {
            let entry =
                match clipstream_media::probe(file).and_then(|_| detect_scenes(file, &config.scene, self.threads)) {
                    Ok(scenes) => json!({
                        "cut_frames": scenes.cut_frames,
                        "cut_seconds": scenes.cut_seconds,
                        "fps": scenes.fps,
                        "frames": scenes.frames,
                    }),
                    Err(error) => {
                        failed = true;
                        json!({ "error": clipstream_schemas::error::error_chain(&error) })
                    }
                };
            if !self.json {
                print_text(file, &entry)?;
            }
            report.insert(file.display().to_string(), entry);
        }
        if self.json {
            outln!("{}", serde_json::to_string_pretty(&Value::Object(report))?)?;
        }
        Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    }
}

fn print_text(file: &std::path::Path, entry: &Value) -> anyhow::Result<()> {
    if let Some(error) = entry.get("error") {
        return outln!("{}: error: {}", file.display(), error.as_str().unwrap_or_default());
    }
    let fps = entry["fps"].as_f64().unwrap_or(0.0);
    let cuts = entry["cut_frames"].as_array().cloned().unwrap_or_default();
    let seconds = entry["cut_seconds"].as_array().cloned().unwrap_or_default();
    outln!("{}: {} frames at {fps:.3} fps, {} cuts", file.display(), entry["frames"], cuts.len())?;
    for (cut, seconds) in cuts.iter().filter_map(Value::as_u64).zip(seconds.iter().filter_map(Value::as_f64)) {
        outln!("  frame {cut:>7}  {}", format_timestamp(seconds))?;
    }
    Ok(())
}
