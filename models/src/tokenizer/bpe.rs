//! The BPE merge loop of the reference (`SimpleTokenizer.bpe`) on token ids, and a bounded cache of merged words.

use std::collections::HashMap;
use std::sync::Mutex;

use super::vocab::Vocab;

/// Merges one pre-token's bytes into token ids: start from one symbol per byte (the last one with `</w>`), then
/// repeatedly merge every occurrence of the adjacent pair with the lowest rank until no pair has a rank.
pub(crate) fn bpe(vocab: &Vocab, bytes: &[u8]) -> Vec<u32> {
    let Some((&last, init)) = bytes.split_last() else {
        return Vec::new();
    };
    let mut word: Vec<u32> = init.iter().map(|&b| vocab.byte_ids[usize::from(b)]).collect();
    word.push(vocab.byte_end_ids[usize::from(last)]);
    while word.len() > 1 {
        let best = word
            .windows(2)
            .filter_map(|pair| {
                vocab.ranks.get(&(pair[0], pair[1])).map(|&(rank, merged)| (rank, pair[0], pair[1], merged))
            })
            .min_by_key(|&(rank, ..)| rank);
        let Some((_, first, second, merged)) = best else {
            break;
        };
        let mut next = Vec::with_capacity(word.len());
        let mut i = 0;
        while i < word.len() {
            if word[i] == first && i + 1 < word.len() && word[i + 1] == second {
                next.push(merged);
                i += 2;
            } else {
                next.push(word[i]);
                i += 1;
            }
        }
        word = next;
    }
    word
}

/// Most words the cache keeps; it is emptied when full (the reference's cache grows without bound).
const CACHE_CAPACITY: usize = 100_000;

/// A thread-safe cache from pre-token to its BPE ids.
#[derive(Debug, Default)]
pub(crate) struct BpeCache {
    words: Mutex<HashMap<String, Vec<u32>>>,
}

impl BpeCache {
    /// The cached ids of `word`, computing and storing them with `compute` on a miss.
    pub(crate) fn get_or_insert(&self, word: &str, compute: impl FnOnce() -> Vec<u32>) -> Vec<u32> {
        if let Some(ids) = self.lock().get(word) {
            return ids.clone();
        }
        let ids = compute();
        let mut words = self.lock();
        if words.len() >= CACHE_CAPACITY {
            words.clear();
        }
        words.insert(word.to_owned(), ids.clone());
        ids
    }

    /// Words in the cache.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u32>>> {
        // A panic while holding the lock cannot leave the map inconsistent (inserts are single calls).
        self.words.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
