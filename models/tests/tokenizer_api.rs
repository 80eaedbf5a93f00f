//! The public behaviour of [`Tokenizer`]: special tokens, padding, truncation, decode round trips, errors, cache.

use clipstream_models::Tokenizer;
use clipstream_models::tokenizer::{
    CLIP_CONTEXT_LENGTH, END_OF_TEXT, Error, PAD, START_OF_TEXT, VICLIP_CONTEXT_LENGTH, VOCAB_SIZE,
};

fn sot() -> i64 {
    i64::from(START_OF_TEXT)
}

fn eot() -> i64 {
    i64::from(END_OF_TEXT)
}

#[test]
fn vocabulary_has_clip_size() -> anyhow::Result<()> {
    assert_eq!(Tokenizer::clip()?.vocab_size(), VOCAB_SIZE);
    Ok(())
}

#[test]
fn empty_and_blank_text_are_start_end_and_padding() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    for text in ["", "   ", "\n\t\u{3000}"] {
        let ids = tokenizer.tokenize(text, CLIP_CONTEXT_LENGTH)?;
        assert_eq!(ids.len(), CLIP_CONTEXT_LENGTH);
        assert_eq!(&ids[..2], &[sot(), eot()]);
        assert!(ids[2..].iter().all(|&id| id == i64::from(PAD)));
        assert!(tokenizer.encode(text).is_empty());
    }
    Ok(())
}

#[test]
fn known_caption_ids() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    // From the reference (tokenizer-cases.jsonl, case 0).
    assert_eq!(
        tokenizer.encode("A woman slices tomatoes in a kitchen."),
        vec![320, 2308, 28424, 13004, 530, 320, 4485, 269]
    );
    // Case and surrounding whitespace do not matter.
    assert_eq!(
        tokenizer.encode("  a WOMAN   slices tomatoes in a kitchen. "),
        tokenizer.encode("A woman slices tomatoes in a kitchen.")
    );
    Ok(())
}

#[test]
fn special_tokens_in_text_become_their_ids() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    let ids = tokenizer.encode("<|startoftext|>dog<|endoftext|>");
    assert_eq!(ids.first(), Some(&START_OF_TEXT));
    assert_eq!(ids.last(), Some(&END_OF_TEXT));
    assert_eq!(ids.len(), 3);
    Ok(())
}

#[test]
fn long_text_is_truncated_keeping_the_end_token() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    let text = "dog ".repeat(100);
    for context in [VICLIP_CONTEXT_LENGTH, CLIP_CONTEXT_LENGTH, 2, 1] {
        let ids = tokenizer.tokenize(&text, context)?;
        assert_eq!(ids.len(), context);
        assert_eq!(ids[context - 1], eot());
        if context > 1 {
            assert_eq!(ids[0], sot());
            let dog = i64::from(tokenizer.encode("dog")[0]);
            assert!(ids[1..context - 1].iter().all(|&id| id == dog));
        }
    }
    // Exactly filling the context is not truncation.
    let exact = "dog ".repeat(VICLIP_CONTEXT_LENGTH - 2);
    let ids = tokenizer.tokenize(&exact, VICLIP_CONTEXT_LENGTH)?;
    assert_eq!(ids, tokenizer.tokenize(&text, VICLIP_CONTEXT_LENGTH)?);
    Ok(())
}

#[test]
fn zero_context_length_is_an_error() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    assert!(matches!(tokenizer.tokenize("dog", 0), Err(Error::ZeroContextLength)));
    assert!(matches!(tokenizer.tokenize_batch(&["dog"], 0), Err(Error::ZeroContextLength)));
    Ok(())
}

#[test]
fn decode_round_trips_plain_captions() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    for caption in [
        "a woman slices tomatoes in a kitchen.",
        "two dogs play with a red ball on the beach, 4k",
        "man's hands playing piano (close-up)",
        "東京の夜景 🙂",
        "café naïve résumé",
    ] {
        let decoded = tokenizer.decode(&tokenizer.encode(caption))?;
        // Every word ends with `</w>` -> a space; punctuation is its own word.
        let normalised: String = decoded.split_whitespace().collect::<Vec<_>>().join("");
        let expected: String = caption.split_whitespace().collect::<Vec<_>>().join("");
        assert_eq!(normalised, expected, "{caption:?} -> {decoded:?}");
    }
    assert_eq!(tokenizer.decode(&tokenizer.encode("a dog runs"))?, "a dog runs ");
    assert_eq!(tokenizer.decode(&[START_OF_TEXT, END_OF_TEXT])?, "<|startoftext|><|endoftext|>");
    Ok(())
}

#[test]
fn decode_rejects_unknown_ids() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    let err = tokenizer.decode(&[320, 49408]).expect_err("49408 is outside the vocabulary");
    assert!(matches!(err, Error::UnknownId { id: 49408, vocab_size: 49408 }));
    assert!(err.to_string().contains("49408"));
    Ok(())
}

#[test]
fn cache_holds_words_and_does_not_change_results() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    let first = tokenizer.encode("the quick brown fox jumps over the lazy dog");
    let words = tokenizer.cached_words();
    assert_eq!(words, 8, "one entry per distinct word");
    assert_eq!(tokenizer.encode("the quick brown fox jumps over the lazy dog"), first);
    assert_eq!(tokenizer.cached_words(), words);
    assert_eq!(tokenizer.clone().encode("the quick brown fox jumps over the lazy dog"), first);
    Ok(())
}

#[test]
fn ftfy_and_html_cleaning_reach_the_ids() -> anyhow::Result<()> {
    let tokenizer = Tokenizer::clip()?;
    let same = |a: &str, b: &str| assert_eq!(tokenizer.encode(a), tokenizer.encode(b), "{a:?} vs {b:?}");
    same("\u{201C}\u{FB01}ne\u{201D}", "\"fine\"");
    same("ＬＯＵＤ　ＮＯＩＳＥＳ", "loud noises");
    same("fish &amp;amp; chips", "fish & chips");
    same("cafe\u{301}", "caf\u{E9}");
    same("a\u{1b}[31mred\u{1b}[0m b", "ared b");
    Ok(())
}
