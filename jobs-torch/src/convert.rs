//! `clipstream convert`: checks a converted checkpoint (safetensors, from `scripts/convert_checkpoint.py`) against
//! an architecture name by name and shape, and reports missing, unexpected and mis-shaped tensors.

use std::process::ExitCode;

use anyhow::Context;
use clipstream_jobs::cli::convert::ConvertArgs;
use clipstream_jobs::cli::out::outln;
use clipstream_models::Arch;
use clipstream_models::arch::ARCH_NAMES;
use clipstream_models::weights::{self, KeyReport};

pub fn run(args: &ConvertArgs) -> anyhow::Result<ExitCode> {
    let arch = Arch::by_name(&args.arch).with_context(|| format!("known: {}", ARCH_NAMES.join(", ")))?;
    let file = weights::read(&args.file)?.into_iter().map(|(name, t)| (name, t.size())).collect();
    let report = KeyReport::compare(&arch.parameter_shapes(), &file);
    if args.json {
        let mismatched: Vec<_> = report
            .mismatched
            .iter()
            .map(|(name, model, file)| serde_json::json!({"name": name, "model": model, "file": file}))
            .collect();
        let json = serde_json::json!({
            "arch": args.arch,
            "file": args.file,
            "ok": report.is_exact(),
            "matched": report.matched,
            "missing": report.missing,
            "unexpected": report.unexpected,
            "mismatched": mismatched,
        });
        outln!("{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        outln!("{}: {} ({report})", args.file.display(), if report.is_exact() { "fits" } else { "does NOT fit" })?;
        if report.is_exact() {
            outln!("use it as score.arch = {:?}, score.weights = {:?}", args.arch, args.file.display().to_string())?;
        }
    }
    Ok(if report.is_exact() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
