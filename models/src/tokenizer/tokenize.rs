//! [`Tokenizer`]: clean, pre-tokenize, byte-encode, BPE; plus the padded, truncated `tokenize` of CLIP models.

use std::sync::{Arc, OnceLock};

use regex::Regex;

use super::bpe::{BpeCache, bpe};
use super::byte_map::byte_decode;
use super::clean::clean;
use super::error::Error;
use super::vocab::Vocab;

/// CLIP's merges file (MIT, from open_clip; see `models/assets/README.md`).
static CLIP_VOCAB_GZ: &[u8] = include_bytes!("../../assets/bpe_simple_vocab_16e6.txt.gz");

/// Id of `<|startoftext|>`.
pub const START_OF_TEXT: u32 = 49406;
/// Id of `<|endoftext|>`.
pub const END_OF_TEXT: u32 = 49407;
/// Id written after the end token up to the context length.
pub const PAD: u32 = 0;
/// Number of tokens in CLIP's vocabulary.
pub const VOCAB_SIZE: usize = 49408;
/// Context length of the CLIP text tower.
pub const CLIP_CONTEXT_LENGTH: usize = 77;
/// Context length of ViCLIP's text tower.
pub const VICLIP_CONTEXT_LENGTH: usize = 32;

/// CLIP's byte-level BPE tokenizer, equal in output to OpenAI CLIP's / open_clip's `SimpleTokenizer` on
/// well-formed text (see [`ftfy`](super::ftfy) for the one cleaning step not ported: mojibake repair).
///
/// Cheap to clone: the vocabulary is shared; each clone has its own word cache.
///
/// ```
/// use clipstream_models::Tokenizer;
///
/// let tokenizer = Tokenizer::clip()?;
/// let ids = tokenizer.tokenize("A dog runs on the beach.", 32)?;
/// assert_eq!(ids.len(), 32);
/// assert_eq!(ids[0], 49406);
/// assert_eq!(tokenizer.decode(&tokenizer.encode("a dog runs"))?, "a dog runs ");
/// # Ok::<(), clipstream_models::tokenizer::Error>(())
/// ```
#[derive(Debug)]
pub struct Tokenizer {
    vocab: Arc<Vocab>,
    pattern: Regex,
    cache: BpeCache,
}

impl Clone for Tokenizer {
    fn clone(&self) -> Self {
        Self { vocab: Arc::clone(&self.vocab), pattern: self.pattern.clone(), cache: BpeCache::default() }
    }
}

impl Tokenizer {
    /// The CLIP tokenizer with the embedded vocabulary, decompressed once per process on first use.
    pub fn clip() -> Result<Self, Error> {
        static CLIP: OnceLock<Arc<Vocab>> = OnceLock::new();
        let vocab = match CLIP.get() {
            Some(vocab) => Arc::clone(vocab),
            None => {
                let vocab = Arc::new(Vocab::from_gzip(CLIP_VOCAB_GZ)?);
                Arc::clone(CLIP.get_or_init(|| vocab))
            }
        };
        Ok(Self { vocab, pattern: super::pretokenize::pattern()?, cache: BpeCache::default() })
    }

    /// A tokenizer from another gzipped merges file in CLIP's format (header line, then `left right` lines; at
    /// least 48,894 of them).
    pub fn from_bpe_gz(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Self {
            vocab: Arc::new(Vocab::from_gzip(bytes)?),
            pattern: super::pretokenize::pattern()?,
            cache: BpeCache::default(),
        })
    }

    /// Number of tokens in the vocabulary (49,408 for CLIP).
    pub fn vocab_size(&self) -> usize {
        self.vocab.decoder.len()
    }

    /// The token ids of `text`, without start and end tokens (`SimpleTokenizer.encode`).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let cleaned = clean(text);
        let mut ids = Vec::new();
        for piece in self.pattern.find_iter(&cleaned) {
            let word = piece.as_str();
            match self.vocab.encoder.get(word) {
                Some(&id) if word == "<|startoftext|>" || word == "<|endoftext|>" => ids.push(id),
                _ => ids.extend(self.cache.get_or_insert(word, || bpe(&self.vocab, word.as_bytes()))),
            }
        }
        ids
    }

    /// `text` as CLIP's model input: start token, the ids of [`encode`](Self::encode), end token, zeros up to
    /// `context_length`. Longer sequences are cut to `context_length` with the end token as the last token.
    pub fn tokenize(&self, text: &str, context_length: usize) -> Result<Vec<i64>, Error> {
        if context_length == 0 {
            return Err(Error::ZeroContextLength);
        }
        let mut ids = Vec::with_capacity(context_length);
        ids.push(i64::from(START_OF_TEXT));
        ids.extend(self.encode(text).into_iter().map(i64::from));
        ids.push(i64::from(END_OF_TEXT));
        if ids.len() > context_length {
            ids.truncate(context_length);
            ids[context_length - 1] = i64::from(END_OF_TEXT);
        }
        ids.resize(context_length, i64::from(PAD));
        Ok(ids)
    }

    /// [`tokenize`](Self::tokenize) of every text, row-major in one buffer of `texts.len() * context_length` ids
    /// (the `[batch, context_length]` layout of a tensor).
    pub fn tokenize_batch<S: AsRef<str>>(&self, texts: &[S], context_length: usize) -> Result<Vec<i64>, Error> {
        let mut out = Vec::with_capacity(texts.len() * context_length);
        for text in texts {
            out.extend(self.tokenize(text.as_ref(), context_length)?);
        }
        Ok(out)
    }

    /// Text of token ids (`SimpleTokenizer.decode`): tokens joined, bytes restored, invalid UTF-8 replaced with
    /// U+FFFD, every `</w>` turned into a space. Start/end tokens come out as `<|startoftext|>`/`<|endoftext|>`;
    /// leave padding out (id 0 is `!`).
    pub fn decode(&self, ids: &[u32]) -> Result<String, Error> {
        let mut bytes = Vec::new();
        for &id in ids {
            let token = usize::try_from(id)
                .ok()
                .and_then(|i| self.vocab.decoder.get(i))
                .ok_or(Error::UnknownId { id, vocab_size: self.vocab.decoder.len() })?;
            bytes.extend(token.chars().filter_map(byte_decode));
        }
        Ok(String::from_utf8_lossy(&bytes).replace("</w>", " "))
    }

    /// Words in the BPE cache (for tests and metrics).
    pub fn cached_words(&self) -> usize {
        self.cache.len()
    }
}
