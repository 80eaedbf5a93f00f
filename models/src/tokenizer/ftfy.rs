//! The part of `ftfy.fix_text` (ftfy 6.3, default `TextFixerConfig`) that changes well-formed Unicode text:
//! HTML entities (the "auto" rule), C1 controls, Latin ligatures, character width, curly quotes, line breaks,
//! terminal escapes, control characters and NFC, applied per line until nothing changes, as ftfy does.
//!
//! Not ported: `fix_encoding` (mojibake repair such as `"sÃ³"` -> `"só"`, with its sub-steps `restore_byte_a0`,
//! `replace_lossy_sequences` and `decode_inconsistent_utf8`) and `fix_surrogates` (a Rust `str` cannot hold a
//! surrogate). Text that looks like UTF-8 decoded as Latin-1/Windows-1252 is therefore left as it is, where the
//! reference would repair it; clean UTF-8 text is unaffected.

use std::sync::OnceLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::html::ftfy_unescape;

/// ftfy splits its input into segments at line ends and at most this many characters (`max_decode_length`).
const MAX_SEGMENT_CHARS: usize = 1_000_000;

/// `ftfy.fix_text(text)` with the default configuration, minus the steps listed in the module documentation.
///
/// HTML entities are decoded ("auto") until the first line that contains a `<`; from that line on they are left
/// alone, since the text is probably HTML.
pub fn fix_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut unescape_html = true;
    for segment in segments(text) {
        if unescape_html && segment.contains('<') {
            unescape_html = false;
        }
        out.push_str(&fix_segment(segment, unescape_html));
    }
    out
}

/// Lines (each with its `\n`), cut further every [`MAX_SEGMENT_CHARS`] characters.
fn segments(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let cut = rest[..line_end].char_indices().nth(MAX_SEGMENT_CHARS).map_or(line_end, |(i, _)| i);
        let (segment, tail) = rest.split_at(cut);
        rest = tail;
        Some(segment)
    })
}

/// `fix_and_explain` on one segment: every fixer in ftfy's order, repeated until the text stops changing.
fn fix_segment(segment: &str, unescape_html: bool) -> String {
    let mut text = segment.to_owned();
    loop {
        let original = text.clone();
        if unescape_html {
            text = ftfy_unescape(&text);
        }
        text = fix_c1_controls(&text);
        text = fix_latin_ligatures(&text);
        text = fix_character_width(&text);
        text = uncurl_quotes(&text);
        text = fix_line_breaks(&text);
        text = remove_terminal_escapes(&text);
        text = remove_control_chars(&text);
        text = text.nfc().collect();
        if text == original {
            return text;
        }
    }
}

/// Replaces C1 control characters (U+0080..U+009F) with their Windows-1252 meaning, as browsers do; the five
/// bytes Windows-1252 leaves undefined stay themselves ("sloppy" Windows-1252).
pub fn fix_c1_controls(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{80}' => '\u{20AC}',
            '\u{82}' => '\u{201A}',
            '\u{83}' => '\u{0192}',
            '\u{84}' => '\u{201E}',
            '\u{85}' => '\u{2026}',
            '\u{86}' => '\u{2020}',
            '\u{87}' => '\u{2021}',
            '\u{88}' => '\u{02C6}',
            '\u{89}' => '\u{2030}',
            '\u{8A}' => '\u{0160}',
            '\u{8B}' => '\u{2039}',
            '\u{8C}' => '\u{0152}',
            '\u{8E}' => '\u{017D}',
            '\u{91}' => '\u{2018}',
            '\u{92}' => '\u{2019}',
            '\u{93}' => '\u{201C}',
            '\u{94}' => '\u{201D}',
            '\u{95}' => '\u{2022}',
            '\u{96}' => '\u{2013}',
            '\u{97}' => '\u{2014}',
            '\u{98}' => '\u{02DC}',
            '\u{99}' => '\u{2122}',
            '\u{9A}' => '\u{0161}',
            '\u{9B}' => '\u{203A}',
            '\u{9C}' => '\u{0153}',
            '\u{9E}' => '\u{017E}',
            '\u{9F}' => '\u{0178}',
            other => other,
        })
        .collect()
}

/// Spells out single-character Latin ligatures and digraphs (`ﬁ` -> `fi`, `ǆ` -> `dž`); other scripts' ligatures
/// stay.
pub fn fix_latin_ligatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{132}' => out.push_str("IJ"),
            '\u{133}' => out.push_str("ij"),
            '\u{149}' => out.push_str("\u{2BC}n"),
            '\u{1F1}' => out.push_str("DZ"),
            '\u{1F2}' => out.push_str("Dz"),
            '\u{1F3}' => out.push_str("dz"),
            '\u{1C4}' => out.push_str("D\u{17D}"),
            '\u{1C5}' => out.push_str("D\u{17E}"),
            '\u{1C6}' => out.push_str("d\u{17E}"),
            '\u{1C7}' => out.push_str("LJ"),
            '\u{1C8}' => out.push_str("Lj"),
            '\u{1C9}' => out.push_str("lj"),
            '\u{1CA}' => out.push_str("NJ"),
            '\u{1CB}' => out.push_str("Nj"),
            '\u{1CC}' => out.push_str("nj"),
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' => out.push_str("\u{17F}t"),
            '\u{FB06}' => out.push_str("st"),
            other => out.push(other),
        }
    }
    out
}

/// Replaces fullwidth and halfwidth forms (U+FF01..U+FFEF) with their NFKC equivalent, and the ideographic space
/// U+3000 with a space.
pub fn fix_character_width(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{3000}' => out.push(' '),
            '\u{FF01}'..='\u{FFEF}' => out.extend(std::iter::once(c).nfkc()),
            other => out.push(other),
        }
    }
    out
}

/// Straightens curly quotes: U+02BC and U+2018..U+201B become `'`, U+201C..U+201F become `"`.
pub fn uncurl_quotes(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2BC}' | '\u{2018}'..='\u{201B}' => '\'',
            '\u{201C}'..='\u{201F}' => '"',
            other => other,
        })
        .collect()
}

/// Turns CRLF, CR, U+2028, U+2029 and U+0085 into `\n`.
pub fn fix_line_breaks(text: &str) -> String {
    text.replace("\r\n", "\n").replace(['\r', '\u{2028}', '\u{2029}', '\u{85}'], "\n")
}

/// Removes ANSI terminal escapes (`ESC [ digits-or-; letter`).
pub fn remove_terminal_escapes(text: &str) -> String {
    static ANSI: OnceLock<Option<Regex>> = OnceLock::new();
    match ANSI.get_or_init(|| Regex::new(r"\x1b\[(?:\d|;)*[a-zA-Z]").ok()) {
        Some(re) if text.contains('\x1b') => re.replace_all(text, "").into_owned(),
        _ => text.to_owned(),
    }
}

/// Removes control characters nobody means to type: C0 controls except tab, LF, FF and CR, DEL, the deprecated
/// Arabic format characters U+206A..U+206F, the BOM U+FEFF and U+FFF9..U+FFFC.
pub fn remove_control_chars(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{0}'..='\u{8}' | '\u{B}' | '\u{E}'..='\u{1F}' | '\u{7F}' | '\u{206A}'..='\u{206F}' | '\u{FEFF}'
                    | '\u{FFF9}'..='\u{FFFC}'
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ftfy_doc_examples() {
        assert_eq!(fix_latin_ligatures("\u{FB02}u\u{FB03}e\u{FB06}"), "fluffiest");
        assert_eq!(fix_character_width("ＬＯＵＤ　ＮＯＩＳＥＳ"), "LOUD NOISES");
        assert_eq!(fix_character_width("Ｕﾀｰﾝ"), "Uターン");
        assert_eq!(uncurl_quotes("\u{201C}here\u{2019}s a test\u{201D}"), "\"here's a test\"");
        assert_eq!(fix_line_breaks("a\r\nb\rc\u{2028}d\u{2029}e\u{85}f"), "a\nb\nc\nd\ne\nf");
        assert_eq!(remove_terminal_escapes("\x1b[36;44mI'm blue\x1b[0m"), "I'm blue");
        assert_eq!(remove_control_chars("a\u{0}b\tc\u{FEFF}d\u{1F}"), "ab\tcd");
        assert_eq!(fix_c1_controls("\u{93}hi\u{94}\u{81}"), "\u{201C}hi\u{201D}\u{81}");
    }

    #[test]
    fn fix_text_runs_to_a_fixed_point() {
        // Entity -> curly quote -> straight quote; ligature; NFC of e + combining acute.
        assert_eq!(fix_text("&ldquo;\u{FB01}ne&rdquo; cafe\u{301}"), "\"fine\" caf\u{E9}");
        // ŉ becomes ʼn, then the ʼ is uncurled in the next round.
        assert_eq!(fix_text("\u{149}"), "'n");
        // Entities repeat until nothing changes.
        assert_eq!(fix_text("&amp;amp;lt;"), "<");
    }

    #[test]
    fn html_is_left_alone_from_the_first_line_with_a_tag() {
        assert_eq!(fix_text("a &amp; b\n<p>&amp;\n&amp;"), "a & b\n<p>&amp;\n&amp;");
        assert_eq!(fix_text("x < y &amp; z"), "x < y &amp; z");
    }
}
