//! CLIP's byte-level BPE tokenizer, a port of OpenAI CLIP's `simple_tokenizer.py` (the one open_clip and ViCLIP
//! use): text cleaning (a subset of ftfy, HTML unescape, whitespace, lowercase), the regex pre-tokenizer, the
//! byte-to-unicode map, BPE merges from the embedded `bpe_simple_vocab_16e6.txt.gz`, start/end tokens, padding
//! and truncation that keeps the end token.
//!
//! Differences from the reference: ftfy's mojibake repair is not ported (see [`ftfy`]); Unicode tables (case
//! mapping, NFC, letter/number classes) are Rust's, so characters assigned after Python's Unicode version may
//! be classified differently.

mod bpe;
mod byte_map;
pub mod clean;
mod error;
pub mod ftfy;
pub mod html;
mod html_entities;
mod pretokenize;
mod tokenize;
mod vocab;

pub use error::Error;
pub use tokenize::{
    CLIP_CONTEXT_LENGTH, END_OF_TEXT, PAD, START_OF_TEXT, Tokenizer, VICLIP_CONTEXT_LENGTH, VOCAB_SIZE,
};
