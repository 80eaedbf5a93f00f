//! HTML character references, decoded exactly as the reference does: [`unescape`] is Python's `html.unescape`
//! (legacy names without `;`, longest-prefix match, the HTML5 numeric replacement rules) and [`ftfy_unescape`] is
//! ftfy's stricter `unescape_html` (only `&name;` forms, plus upper-cased Latin names such as `&EACUTE;`).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::html_entities::HTML5;

/// Looks a name up in the HTML5 table (`name` includes its `;` when it has one).
fn html5(name: &str) -> Option<&'static str> {
    HTML5.binary_search_by(|(n, _)| (*n).cmp(name)).ok().map(|i| HTML5[i].1)
}

/// Python's `html._invalid_charrefs`: numeric references that the HTML5 spec remaps (Windows-1252 for 0x80..0x9F).
fn invalid_charref(num: u32) -> Option<&'static str> {
    Some(match num {
        0x00 => "\u{FFFD}",
        0x0D => "\r",
        0x80 => "\u{20AC}",
        0x81 => "\u{81}",
        0x82 => "\u{201A}",
        0x83 => "\u{0192}",
        0x84 => "\u{201E}",
        0x85 => "\u{2026}",
        0x86 => "\u{2020}",
        0x87 => "\u{2021}",
        0x88 => "\u{02C6}",
        0x89 => "\u{2030}",
        0x8A => "\u{0160}",
        0x8B => "\u{2039}",
        0x8C => "\u{0152}",
        0x8D => "\u{8D}",
        0x8E => "\u{017D}",
        0x8F => "\u{8F}",
        0x90 => "\u{90}",
        0x91 => "\u{2018}",
        0x92 => "\u{2019}",
        0x93 => "\u{201C}",
        0x94 => "\u{201D}",
        0x95 => "\u{2022}",
        0x96 => "\u{2013}",
        0x97 => "\u{2014}",
        0x98 => "\u{02DC}",
        0x99 => "\u{2122}",
        0x9A => "\u{0161}",
        0x9B => "\u{203A}",
        0x9C => "\u{0153}",
        0x9D => "\u{9D}",
        0x9E => "\u{017E}",
        0x9F => "\u{0178}",
        _ => return None,
    })
}

/// Python's `html._invalid_codepoints`: numeric references that decode to nothing.
fn invalid_codepoint(num: u32) -> bool {
    matches!(num, 0x1..=0x8 | 0xB | 0xE..=0x1F | 0x7F..=0x9F | 0xFDD0..=0xFDEF)
        || (num <= 0x10FFFF && num & 0xFFFF >= 0xFFFE)
}

/// The text of a numeric reference `&#num;`.
fn numeric(num: u32, out: &mut String) {
    if let Some(s) = invalid_charref(num) {
        out.push_str(s);
    } else if (0xD800..=0xDFFF).contains(&num) || num > 0x10FFFF {
        out.push('\u{FFFD}');
    } else if !invalid_codepoint(num) {
        out.push(char::from_u32(num).unwrap_or('\u{FFFD}'));
    }
}

/// Parses digits in `radix` with saturation (the reference's big integers all end up `> 0x10FFFF`).
fn parse_saturating(digits: &str, radix: u32) -> u32 {
    digits.chars().filter_map(|c| c.to_digit(radix)).fold(0u32, |acc, d| acc.saturating_mul(radix).saturating_add(d))
}

/// Tries Python's `_charref` regex at `after` (the text after a `&`); on a match appends the replacement and
/// returns the number of bytes consumed.
fn charref(after: &str, out: &mut String) -> Option<usize> {
    let bytes = after.as_bytes();
    if let Some(rest) = after.strip_prefix('#') {
        let (radix, start) = match rest.as_bytes().first() {
            Some(b'x' | b'X') => (16, 2),
            _ => (10, 1),
        };
        let digits_len = after[start..]
            .bytes()
            .take_while(|b| if radix == 16 { b.is_ascii_hexdigit() } else { b.is_ascii_digit() })
            .count();
        if digits_len == 0 {
            // `&#x` without hex digits: the decimal and named alternatives cannot match either.
            return None;
        }
        let end = start + digits_len;
        numeric(parse_saturating(&after[start..end], radix), out);
        return Some(if bytes.get(end) == Some(&b';') { end + 1 } else { end });
    }
    // `[^\t\n\f <&#;]{1,32};?`
    let mut end = 0;
    let mut count = 0;
    for (i, c) in after.char_indices() {
        if count == 32 || matches!(c, '\t' | '\n' | '\x0C' | ' ' | '<' | '&' | '#' | ';') {
            break;
        }
        end = i + c.len_utf8();
        count += 1;
    }
    if count == 0 {
        return None;
    }
    if bytes.get(end) == Some(&b';') {
        end += 1;
    }
    let name = &after[..end];
    if let Some(value) = html5(name) {
        out.push_str(value);
        return Some(end);
    }
    // Longest prefix of 2.. (len - 1) characters that is a name.
    let boundaries: Vec<usize> = name.char_indices().map(|(i, _)| i).skip(2).collect();
    for &cut in boundaries.iter().rev() {
        if let Some(value) = html5(&name[..cut]) {
            out.push_str(value);
            out.push_str(&name[cut..]);
            return Some(end);
        }
    }
    out.push('&');
    out.push_str(name);
    Some(end)
}

/// Python's `html.unescape`: decodes every named and numeric character reference the way HTML5 parsers do.
pub fn unescape(text: &str) -> String {
    replace_references(text, charref)
}

/// Copies `text`, handing the text after each `&` to `reference`, which writes a replacement into `out` and returns
/// how many bytes after the `&` it consumed, or returns `None` to keep the `&` as written.
fn replace_references(text: &str, mut reference: impl FnMut(&str, &mut String) -> Option<usize>) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match reference(after, &mut out) {
            Some(consumed) => rest = &after[consumed..],
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// ftfy's entity table: `&name;` for every HTML5 name with a semicolon, plus the upper-cased form of all-lowercase
/// names whose upper-cased form `html.unescape` leaves alone (decoding to the upper-cased character).
fn ftfy_entities() -> &'static HashMap<String, String> {
    static TABLE: OnceLock<HashMap<String, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        for &(name, value) in HTML5 {
            if !name.ends_with(';') {
                continue;
            }
            table.insert(format!("&{name}"), value.to_owned());
            if name == name.to_lowercase() {
                let upper = format!("&{}", name.to_uppercase());
                if unescape(&upper) == upper {
                    table.insert(upper, value.to_uppercase());
                }
            }
        }
        table
    })
}

/// ftfy's `unescape_html`: replaces `&#?[0-9A-Za-z]{1,24};` when it is a known entity (an HTML5 name with `;`,
/// or the upper-cased form of an all-lowercase one) or a numeric reference that `html.unescape` decodes
/// completely; everything else stays as written.
pub fn ftfy_unescape(text: &str) -> String {
    replace_references(text, |after, out| {
        let b = after.as_bytes();
        let start = usize::from(b.first() == Some(&b'#'));
        let run = b[start..].iter().take(25).take_while(|c| c.is_ascii_alphanumeric()).count();
        if !(1..=24).contains(&run) || b.get(start + run) != Some(&b';') {
            return None;
        }
        let entity = format!("&{}", &after[..start + run + 1]);
        if let Some(value) = ftfy_entities().get(&entity) {
            out.push_str(value);
        } else if start == 1 {
            let decoded = unescape(&entity);
            out.push_str(if decoded.contains(';') { &entity } else { &decoded });
        } else {
            out.push_str(&entity);
        }
        Some(start + run + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_unescape_cases() {
        assert_eq!(unescape("&amp; &lt;b&gt;"), "& <b>");
        assert_eq!(unescape("&amp;amp;"), "&amp;");
        assert_eq!(unescape("fish &amp chips"), "fish & chips");
        assert_eq!(unescape("&ampxyz"), "&xyz");
        assert_eq!(unescape("&notit;"), "\u{AC}it;");
        assert_eq!(unescape("&nosuch; & &#;"), "&nosuch; & &#;");
        assert_eq!(
            unescape("&#65;&#x42;&#X43&#0;&#x80;&#1;&#xD800;&#99999999999;"),
            "ABC\u{FFFD}\u{20AC}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(unescape("&#xffff;x"), "x");
        assert_eq!(unescape("&hearts;"), "\u{2665}");
    }

    #[test]
    fn ftfy_unescape_is_strict() {
        assert_eq!(ftfy_unescape("&lt;tag&gt;"), "<tag>");
        assert_eq!(ftfy_unescape("P&EACUTE;REZ"), "P\u{C9}REZ");
        assert_eq!(ftfy_unescape("BUNDESSTRA&SZLIG;E"), "BUNDESSTRASSE");
        assert_eq!(ftfy_unescape("&ntilde; &Ntilde; &NTILDE; &nTILDE;"), "\u{F1} \u{D1} \u{D1} &nTILDE;");
        assert_eq!(ftfy_unescape("this&not that &amp"), "this&not that &amp");
        assert_eq!(ftfy_unescape("&#65; &#abc;"), "A &#abc;");
    }
}
