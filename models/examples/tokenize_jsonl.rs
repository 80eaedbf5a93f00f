//! Reads one JSON string per stdin line and prints its token ids (`Tokenizer::tokenize`) as a JSON array per line;
//! the Rust side of `scripts/tokenizer_parity.py`.
//!
//! Usage: `cargo run -q -p clipstream-models --example tokenize_jsonl -- [CONTEXT_LENGTH] < texts.jsonl`
//! (default context length 77).

use std::io::{BufRead, Write};

use anyhow::Context;
use clipstream_models::Tokenizer;

fn main() -> anyhow::Result<()> {
    let context_length = match std::env::args().nth(1) {
        Some(arg) => arg.parse().with_context(|| format!("context length {arg:?}"))?,
        None => clipstream_models::tokenizer::CLIP_CONTEXT_LENGTH,
    };
    let tokenizer = Tokenizer::clip()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("reading stdin")?;
        let text: String = serde_json::from_str(&line).with_context(|| format!("line {}", i + 1))?;
        writeln!(out, "{}", serde_json::to_string(&tokenizer.tokenize(&text, context_length)?)?)?;
    }
    out.flush()?;
    Ok(())
}
