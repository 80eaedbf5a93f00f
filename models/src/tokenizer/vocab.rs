//! CLIP's vocabulary and merge ranks, read from `bpe_simple_vocab_16e6.txt.gz` the way the reference does: the
//! first 48,894 merges after the header line; ids = 256 byte characters, the same with `</w>`, one token per merge,
//! then `<|startoftext|>` and `<|endoftext|>` (49,408 in all).

use std::collections::HashMap;
use std::io::Read;

use flate2::read::GzDecoder;

use super::byte_map::byte_order;
use super::error::Error;

/// Merges CLIP reads: `49152 - 256 - 2`.
pub(crate) const MERGES: usize = 49152 - 256 - 2;

/// The token table and the merge ranks.
#[derive(Debug)]
pub(crate) struct Vocab {
    /// Token string -> id (a string listed twice keeps its last id, as Python's `dict(zip(...))`).
    pub(crate) encoder: HashMap<String, u32>,
    /// Id -> token string.
    pub(crate) decoder: Vec<String>,
    /// `(left id, right id)` -> `(rank, id of the merged token)`.
    pub(crate) ranks: HashMap<(u32, u32), (u32, u32)>,
    /// Id of each byte's character, indexed by byte.
    pub(crate) byte_ids: [u32; 256],
    /// Id of each byte's character followed by `</w>` (a word's last byte), indexed by byte.
    pub(crate) byte_end_ids: [u32; 256],
}

impl Vocab {
    /// Decompresses and parses a gzipped merges file.
    pub(crate) fn from_gzip(bytes: &[u8]) -> Result<Self, Error> {
        let mut raw = Vec::new();
        GzDecoder::new(bytes).read_to_end(&mut raw).map_err(Error::VocabRead)?;
        let text = String::from_utf8(raw).map_err(Error::VocabUtf8)?;
        Self::from_merges(&text)
    }

    /// Parses the text of a merges file (header line, then one `left right` pair per line).
    pub(crate) fn from_merges(text: &str) -> Result<Self, Error> {
        let lines: Vec<&str> = text.split('\n').skip(1).take(MERGES).collect();
        if lines.len() < MERGES {
            return Err(Error::VocabTooShort { found: lines.len(), expected: MERGES });
        }
        let mut merges = Vec::with_capacity(MERGES);
        for (i, line) in lines.iter().enumerate() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                [left, right] => merges.push((*left, *right)),
                _ => {
                    return Err(Error::VocabLine {
                        line: i + 2,
                        reason: format!("expected two symbols, found {} in {line:?}", parts.len()),
                    });
                }
            }
        }

        let order = byte_order();
        let mut decoder: Vec<String> = order.iter().map(|(_, c)| c.to_string()).collect();
        decoder.extend(order.iter().map(|(_, c)| format!("{c}</w>")));
        decoder.extend(merges.iter().map(|(l, r)| format!("{l}{r}")));
        decoder.push("<|startoftext|>".to_owned());
        decoder.push("<|endoftext|>".to_owned());
        let mut encoder = HashMap::with_capacity(decoder.len());
        for (id, token) in decoder.iter().enumerate() {
            encoder.insert(token.clone(), u32::try_from(id).unwrap_or(u32::MAX));
        }

        let mut ranks = HashMap::with_capacity(MERGES);
        for (rank, (left, right)) in merges.iter().enumerate() {
            let id = |s: &str| {
                encoder.get(s).copied().ok_or_else(|| Error::VocabLine {
                    line: rank + 2,
                    reason: format!("symbol {s:?} is not in the vocabulary"),
                })
            };
            let merged = id(&format!("{left}{right}"))?;
            ranks.insert((id(left)?, id(right)?), (u32::try_from(rank).unwrap_or(u32::MAX), merged));
        }

        let mut byte_ids = [0u32; 256];
        let mut byte_end_ids = [0u32; 256];
        for (b, c) in order {
            byte_ids[usize::from(b)] = encoder.get(&c.to_string()).copied().unwrap_or_default();
            byte_end_ids[usize::from(b)] = encoder.get(&format!("{c}</w>")).copied().unwrap_or_default();
        }
        Ok(Self { encoder, decoder, ranks, byte_ids, byte_end_ids })
    }
}
