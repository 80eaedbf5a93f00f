//! Parity of the Rust CLIP tokenizer with the reference (`simple_tokenizer.py`, as used by ViCLIP/open_clip) on the
//! 1,517 cases of `fixtures/viclip/tokenizer-cases.jsonl`, at ViCLIP's context 32 and CLIP's 77.

use anyhow::Context;
use clipstream_models::Tokenizer;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    ids77: Vec<i64>,
    ids32: Vec<i64>,
}

fn cases() -> anyhow::Result<Vec<Case>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/viclip/tokenizer-cases.jsonl");
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("{path}:{}", i + 1)))
        .collect()
}

#[test]
fn every_reference_case_matches_at_context_77_and_32() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    let cases = cases()?;
    assert_eq!(cases.len(), 1517);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
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
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    Ok(())
}

#[test]
fn batch_is_the_rows_of_tokenize() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    let cases = cases()?;
    let texts: Vec<&str> = cases.iter().take(50).map(|c| c.text.as_str()).collect();
    let batch = tokenizer.tokenize_batch(&texts, 32)?;
    let expected: Vec<i64> = cases.iter().take(50).flat_map(|c| c.ids32.iter().copied()).collect();
    assert_eq!(batch, expected);
    Ok(())
}
