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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use clipstream_jobs::cli::Cli;
    use clipstream_schemas::config::DEFAULT_TOML;

    use super::*;

    /// How often `name` stands as a whole architecture name in `text` (not as the start of a longer one).
    fn mentions(text: &str, name: &str) -> usize {
        let continues = |c: char| c.is_ascii_alphanumeric() || c == '-';
        text.match_indices(name).filter(|(at, _)| !text[at + name.len()..].starts_with(continues)).count()
    }

    #[test]
    fn every_architecture_is_listed_where_users_pick_one() {
        let viclip: Vec<&str> = ARCH_NAMES.iter().copied().filter(|name| name.starts_with("viclip-")).collect();
        let mut cli = Cli::command();
        // train takes the ViCLIP sizes, convert every architecture.
        for (command, names) in [("train", &viclip[..]), ("convert", ARCH_NAMES)] {
            let help = cli.find_subcommand_mut(command).expect("a subcommand").render_long_help().to_string();
            for name in names {
                assert!(mentions(&help, name) > 0, "`clipstream {command} --help` does not name {name}");
            }
        }
        // default.toml documents score.arch (every tower but the aesthetic MLP) and train.arch (ViCLIP).
        for name in ARCH_NAMES.iter().filter(|name| **name != "aesthetic-mlp") {
            let want = if viclip.contains(name) { 2 } else { 1 };
            assert!(mentions(DEFAULT_TOML, name) >= want, "default.toml names {name} fewer than {want} times");
        }
        assert_eq!(mentions("viclip-small-t2 and viclip-small-t2-p28", "viclip-small"), 0);
    }
}
