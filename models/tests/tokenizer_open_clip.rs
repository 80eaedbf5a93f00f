//! Parity of the Rust CLIP tokenizer with open_clip's own tokenizer (`open_clip.tokenize`, open_clip_torch 3.3) on
//! 12,000 seeded strings from `scripts/tokenizer_cases.py` (captions, punctuation, emoji, CJK, accented and other
//! scripts, HTML entities, numbers, contractions, whitespace, texts over 2,000 characters), at 77 and 32 tokens.
//!
//! Needs the Python venv of `scripts/setup` (`.venv` with torch and open_clip_torch); fails, never skips, without it.
//! Strings the script flags `fix_encoding_changes` (ftfy's mojibake repair, not ported, changes them) are counted
//! and left out; every other string must match exactly.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use clipstream_models::Tokenizer;
use serde::Deserialize;

const COUNT: usize = 12_000;
const SEED: u64 = 20_261_125;

#[derive(Deserialize)]
struct Case {
    text: String,
    ids77: Vec<i64>,
    ids32: Vec<i64>,
    #[serde(default)]
    fix_encoding_changes: bool,
}

/// Runs `scripts/tokenizer_cases.py` with the repository's venv and reads what it wrote.
fn open_clip_cases() -> anyhow::Result<Vec<Case>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    anyhow::ensure!(
        python.exists(),
        "{} is missing: run scripts/setup (it creates .venv with torch and open_clip_torch)",
        python.display()
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("open-clip-cases-{}.jsonl", std::process::id()));
    let status = Command::new(&python)
        .arg(root.join("scripts/tokenizer_cases.py"))
        .args(["--count", &COUNT.to_string(), "--seed", &SEED.to_string(), "--out"])
        .arg(&out)
        .status()
        .with_context(|| format!("running {}", python.display()))?;
    anyhow::ensure!(
        status.success(),
        "scripts/tokenizer_cases.py failed ({status}); is the venv complete (scripts/setup)?"
    );
    let text = std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()));
    std::fs::remove_file(&out).ok();
    text?
        .lines()
        .enumerate()
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("{}:{}", out.display(), i + 1)))
        .collect()
}

#[test]
fn every_open_clip_case_matches_at_context_77_and_32() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    let cases = open_clip_cases()?;
    assert_eq!(cases.len(), COUNT);
    let (mut compared, mut excluded) = (0, Vec::new());
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if case.fix_encoding_changes {
            excluded.push(format!("  case {i}: {:?}", case.text));
            continue;
        }
        compared += 1;
        for (context, expected) in [(77, &case.ids77), (32, &case.ids32)] {
            let got = tokenizer.tokenize(&case.text, context)?;
            if &got != expected {
                failures.push(format!(
                    "case {i} at {context}: {:?}\n  got      {got:?}\n  expected {expected:?}",
                    case.text
                ));
            }
        }
    }
    println!(
        "open_clip tokenizer parity (seed {SEED}): {compared} strings compared, {} excluded (changed by ftfy's \
         fix_encoding, not ported){}{}",
        excluded.len(),
        if excluded.is_empty() { "" } else { ":\n" },
        excluded.join("\n")
    );
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    assert!(compared >= 10_000, "only {compared} strings compared");
    Ok(())
}
