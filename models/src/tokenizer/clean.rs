//! The reference's text cleaning before BPE: `basic_clean` (ftfy, `html.unescape` twice, strip), then
//! `whitespace_clean` (whitespace runs -> one space, strip), then lowercase.

use super::ftfy::fix_text;
use super::html::unescape;

/// Python's `str.isspace`: Unicode `White_Space` plus the information separators U+001C..U+001F.
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// `basic_clean`: `ftfy.fix_text`, then `html.unescape` twice, then `str.strip`.
pub fn basic_clean(text: &str) -> String {
    let fixed = fix_text(text);
    let unescaped = unescape(&unescape(&fixed));
    unescaped.trim_matches(py_isspace).to_owned()
}

/// `whitespace_clean`: every run of `\s` (Unicode `White_Space`) becomes one space; then `str.strip`.
pub fn whitespace_clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out.trim_matches(py_isspace).to_owned()
}

/// The full cleaning of `SimpleTokenizer.encode`: `whitespace_clean(basic_clean(text)).lower()`.
pub fn clean(text: &str) -> String {
    whitespace_clean(&basic_clean(text)).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_steps() {
        assert_eq!(basic_clean("  &amp;lt;b&amp;gt; \n"), "<b>");
        assert_eq!(whitespace_clean(" the  quick\tbrown\n\u{3000}fox\u{A0} "), "the quick brown fox");
        assert_eq!(clean("  HELLO\u{2003}World  "), "hello world");
        assert_eq!(clean("\u{FB01}NE \u{201C}Caf\u{E9}\u{201D}"), "fine \"caf\u{E9}\"");
        assert_eq!(clean(""), "");
        assert_eq!(clean(" \t\n "), "");
        // Final sigma, as Python's str.lower.
        assert_eq!(clean("ΟΔΟΣ"), "οδος");
    }
}
