//! The reference's pre-tokenizer regex: special tokens, English contractions, letter runs, single digits and
//! runs of other non-space characters.

use regex::Regex;

use super::error::Error;

/// `<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`, compiled the way
/// Python's `regex` module treats it under `re.IGNORECASE`: the literals match case-insensitively (so `'ſ` is a
/// contraction, as there), the letter and digit classes are unchanged, and the negated class also rejects U+0345
/// (the one character whose case-fold partner is a letter, which `regex` then excludes).
const PATTERN: &str =
    r"(?i:<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d)|\p{L}+|\p{N}|[^\s\p{L}\p{N}\x{345}]+";

/// Compiles the pre-tokenizer.
pub(crate) fn pattern() -> Result<Regex, Error> {
    Regex::new(PATTERN).map_err(|e| Error::Pattern(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        let re = pattern().expect("pattern compiles");
        re.find_iter(text).map(|m| m.as_str()).collect()
    }

    #[test]
    fn splits_like_the_reference() {
        assert_eq!(split("it's 2024, ok!!"), vec!["it", "'s", "2", "0", "2", "4", ",", "ok", "!!"]);
        assert_eq!(split("<|startoftext|>hi<|endoftext|>"), vec!["<|startoftext|>", "hi", "<|endoftext|>"]);
        assert_eq!(split("we'll i'd they're x'ſ"), vec!["we", "'ll", "i", "'d", "they", "'re", "x", "'ſ"]);
        assert_eq!(split("naïve 東京 🙂🙂"), vec!["naïve", "東京", "🙂🙂"]);
        assert_eq!(split("a\u{345}b"), vec!["a", "b"]);
    }
}
