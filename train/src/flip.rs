//! The caption of a horizontally flipped clip: its left/right words swapped ("moving left to right" becomes
//! "moving right to left"), so the flip augmentation does not teach the model the opposite of the text. Whole
//! words only, any case, the word's capitalisation kept. "left" in the sense of "went away" is swapped too: a
//! caption cannot tell the two apart without parsing.

/// The words that name a side and their mirror images (lowercase; both directions are looked up).
const MIRRORED: &[(&str, &str)] = &[
    ("left", "right"),
    ("leftward", "rightward"),
    ("leftwards", "rightwards"),
    ("leftmost", "rightmost"),
    ("lefthand", "righthand"),
];

/// The mirror image of a lowercase word, if it names a side.
fn mirror(word: &str) -> Option<&'static str> {
    MIRRORED.iter().find_map(|&(a, b)| {
        if word == a {
            Some(b)
        } else if word == b {
            Some(a)
        } else {
            None
        }
    })
}

/// `replacement` in the capitalisation of `word`: all caps, first letter capital, or lowercase.
fn with_case_of(word: &str, replacement: &str) -> String {
    let letters = || word.chars().filter(|c| c.is_alphabetic());
    if word.chars().count() > 1 && letters().all(char::is_uppercase) {
        replacement.to_uppercase()
    } else if word.chars().next().is_some_and(char::is_uppercase) {
        let mut chars = replacement.chars();
        chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
    } else {
        replacement.to_string()
    }
}

/// `caption` as it reads for the mirrored clip.
pub fn swap_sides(caption: &str) -> String {
    let mut out = String::with_capacity(caption.len() + 8);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match mirror(&word.to_lowercase()) {
            Some(mirrored) => out.push_str(&with_case_of(word, mirrored)),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in caption.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn sides_swap_and_everything_else_stays() {
        assert_eq!(swap_sides("a red circle moving left to right"), "a red circle moving right to left");
        assert_eq!(swap_sides("Left hand, RIGHT foot; rightwards."), "Right hand, LEFT foot; leftwards.");
        assert_eq!(swap_sides("the leftmost car turns right-hand"), "the rightmost car turns left-hand");
        assert_eq!(swap_sides("bright lights, copyright, lefty"), "bright lights, copyright, lefty");
        assert_eq!(swap_sides(""), "");
    }

    /// Random captions from words that do and do not name a side (each with its expected mirror image), joined by
    /// assorted separators: every side word is swapped in place, nothing else changes, and swapping twice is the
    /// identity.
    #[test]
    fn swapping_touches_only_side_words_and_is_an_involution() {
        let words = [
            ("left", "right"),
            ("Right", "Left"),
            ("LEFT", "RIGHT"),
            ("rightward", "leftward"),
            ("Leftwards", "Rightwards"),
            ("leftmost", "rightmost"),
            ("righthand", "lefthand"),
            ("bright", "bright"),
            ("copyright", "copyright"),
            ("lefty", "lefty"),
            ("a", "a"),
            ("Über", "Über"),
            ("42", "42"),
        ];
        let separators = [" ", ", ", "-", " (", ") ", "\n", "'"];
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        for _ in 0..500 {
            let (mut caption, mut expected) = (String::new(), String::new());
            for _ in 0..rng.random_range(0..12) {
                let (word, mirrored) = words[rng.random_range(0..words.len())];
                let separator = separators[rng.random_range(0..separators.len())];
                caption.push_str(&format!("{word}{separator}"));
                expected.push_str(&format!("{mirrored}{separator}"));
            }
            let swapped = swap_sides(&caption);
            assert_eq!(swapped, expected, "{caption:?}");
            assert_eq!(swap_sides(&swapped), caption, "{caption:?}");
        }
    }
}
