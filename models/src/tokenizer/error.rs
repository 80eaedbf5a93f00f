//! Errors of the tokenizer: a malformed vocabulary file, an id outside the vocabulary, a zero context length.

/// What went wrong while loading the vocabulary or tokenizing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The gzip stream of the vocabulary could not be read.
    #[error("reading the gzipped BPE vocabulary: {0}")]
    VocabRead(#[source] std::io::Error),
    /// The decompressed vocabulary is not UTF-8.
    #[error("the BPE vocabulary is not UTF-8: {0}")]
    VocabUtf8(#[source] std::string::FromUtf8Error),
    /// The vocabulary has fewer merge lines than CLIP uses.
    #[error("the BPE vocabulary has {found} merge lines, CLIP needs {expected}")]
    VocabTooShort {
        /// Merge lines present (after the header line).
        found: usize,
        /// Merge lines CLIP reads (48,894).
        expected: usize,
    },
    /// A merge line is not two symbols, or names a symbol that is not in the vocabulary.
    #[error("BPE vocabulary line {line}: {reason}")]
    VocabLine {
        /// 1-based line number in the decompressed file (line 1 is the header).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The pre-tokenizer regex did not compile (a bug, not an input problem).
    #[error("compiling the pre-tokenizer regex: {0}")]
    Pattern(String),
    /// [`decode`](crate::Tokenizer::decode) got an id outside the vocabulary.
    #[error("token id {id} is not in the vocabulary (size {vocab_size})")]
    UnknownId {
        /// The offending id.
        id: u32,
        /// The vocabulary size.
        vocab_size: usize,
    },
    /// A context length of 0 cannot hold the end token (the reference raises an IndexError).
    #[error("context length must be at least 1, got 0")]
    ZeroContextLength,
}
