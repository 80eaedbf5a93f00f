//! GPT-2/CLIP's reversible byte-to-unicode map (`bytes_to_unicode`): every byte becomes a printable character so
//! BPE never sees whitespace or control characters.

/// The 256 byte characters in the reference's order (`list(bytes_to_unicode().values())`): printable Latin-1 bytes
/// first, then the rest mapped to U+0100 onwards. Token id `i < 256` is `ORDER[i]`'s character.
pub(crate) fn byte_order() -> [(u8, char); 256] {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    let mut out = [(0u8, '\0'); 256];
    let mut i = 0;
    for b in 0..=255u8 {
        if printable(b) {
            out[i] = (b, char::from(b));
            i += 1;
        }
    }
    let mut n = 0u32;
    for b in 0..=255u8 {
        if !printable(b) {
            out[i] = (b, char::from_u32(256 + n).unwrap_or('\u{FFFD}'));
            i += 1;
            n += 1;
        }
    }
    out
}

/// Byte -> character table, indexed by byte.
#[cfg(test)]
pub(crate) fn byte_encoder() -> [char; 256] {
    let mut table = ['\0'; 256];
    for (b, c) in byte_order() {
        table[usize::from(b)] = c;
    }
    table
}

/// Character -> byte, the inverse of [`byte_encoder`]; `None` for a character that is no byte character.
pub(crate) fn byte_decode(c: char) -> Option<u8> {
    let cp = u32::from(c);
    match cp {
        0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF => u8::try_from(cp).ok(),
        0x100..=0x143 => {
            // The n-th non-printable byte, in byte order.
            let n = cp - 0x100;
            let mut seen = 0;
            for b in 0..=255u8 {
                let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
                if !printable {
                    if seen == n {
                        return Some(b);
                    }
                    seen += 1;
                }
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_is_a_bijection_with_known_points() {
        let enc = byte_encoder();
        assert_eq!(enc[usize::from(b'a')], 'a');
        assert_eq!(enc[0], '\u{100}');
        assert_eq!(enc[usize::from(b' ')], '\u{120}');
        assert_eq!(enc[0xAD], '\u{143}');
        for b in 0..=255u8 {
            assert_eq!(byte_decode(enc[usize::from(b)]), Some(b));
        }
        assert_eq!(byte_decode('\u{144}'), None);
        let order = byte_order();
        assert_eq!(order[0], (b'!', '!'));
        assert_eq!(order[188], (0, '\u{100}'));
    }
}
