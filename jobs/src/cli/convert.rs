//! `clipstream convert`: checks a converted checkpoint (safetensors, from `scripts/convert_checkpoint.py`) against
//! an architecture name by name and shape, and reports missing, unexpected and mis-shaped tensors.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::Args;
use clipstream_models::Arch;
use clipstream_models::arch::ARCH_NAMES;
use clipstream_models::weights::{self, KeyReport};

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Architecture the file must fit: viclip-l14, viclip-b16, viclip-small, viclip-tiny, clip-vit-l14,
    /// clip-vit-b16, clip-vit-b32, clip-tiny, aesthetic-mlp.
    #[arg(long)]
    arch: String,
    /// The converted checkpoint (.safetensors).
    file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl ConvertArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let arch = Arch::by_name(&self.arch).with_context(|| format!("known: {}", ARCH_NAMES.join(", ")))?;
        let file = weights::read(&self.file)?.into_iter().map(|(name, t)| (name, t.size())).collect();
        let report = KeyReport::compare(&arch.parameter_shapes(), &file);
        if self.json {
            let mismatched: Vec<_> = report
                .mismatched
                .iter()
                .map(|(name, model, file)| serde_json::json!({"name": name, "model": model, "file": file}))
                .collect();
            let json = serde_json::json!({
                "arch": self.arch,
                "file": self.file,
                "ok": report.is_exact(),
                "matched": report.matched,
                "missing": report.missing,
                "unexpected": report.unexpected,
                "mismatched": mismatched,
            });
            outln!("{}", serde_json::to_string_pretty(&json)?)?;
        } else {
            outln!("{}: {} ({report})", self.file.display(), if report.is_exact() { "fits" } else { "does NOT fit" })?;
            if report.is_exact() {
                outln!(
                    "use it as score.arch = {:?}, score.weights = {:?}",
                    self.arch,
                    self.file.display().to_string()
                )?;
            }
        }
        Ok(if report.is_exact() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}
