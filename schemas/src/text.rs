//! `cut_at_char`: a prefix of a string of at most so many bytes that never splits a character — the one way records
//! and dead letters keep a bounded prefix of untrusted text.

/// `text` cut to at most `max_bytes` bytes, on a character boundary.
pub fn cut_at_char(text: &str, max_bytes: usize) -> &str {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_splits_a_character() {
        assert_eq!(cut_at_char("short", 10), "short");
        assert_eq!(cut_at_char("ééé", 3), "é");
        assert_eq!(cut_at_char("ééé", 1), "");
        assert_eq!(cut_at_char("abc", 0), "");
    }
}
