//! A Bloom filter over index hashes, so that a lookup of a new video (the common case) reads no block. Bits per
//! key and probes are fixed (10 and 7: ~1% false positives); positions come from the hash's two halves
//! (Kirsch-Mitzenmacher), which SHA-256 makes independent.

/// Bits per stored key.
pub const BITS_PER_KEY: u64 = 10;
/// Probes per key.
pub const PROBES: u32 = 7;

/// The filter: `words.len() * 64` bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bloom {
    words: Vec<u64>,
}

impl Bloom {
    /// A filter sized for `keys` keys (at least one word).
    pub fn with_keys(keys: u64) -> Self {
        Self { words: vec![0; (keys * BITS_PER_KEY).div_ceil(64).max(1) as usize] }
    }

    /// The filter of stored words.
    pub fn from_words(words: Vec<u64>) -> Self {
        Self { words }
    }

    pub fn words(&self) -> &[u64] {
        &self.words
    }

    pub fn insert(&mut self, hash: u128) {
        for bit in self.positions(hash) {
            self.words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    /// False means surely absent.
    pub fn may_contain(&self, hash: u128) -> bool {
        self.positions(hash).all(|bit| self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }

    fn positions(&self, hash: u128) -> impl Iterator<Item = u64> + use<> {
        let bits = self.words.len() as u64 * 64;
        let (low, high) = (hash as u64, ((hash >> 64) as u64) | 1);
        (0..u64::from(PROBES)).map(move |i| low.wrapping_add(i.wrapping_mul(high)) % bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::key_hash;

    #[test]
    fn holds_every_key_and_few_others() {
        let mut bloom = Bloom::with_keys(10_000);
        (0..10_000).for_each(|i| bloom.insert(key_hash(&format!("in-{i}"))));
        assert!((0..10_000).all(|i| bloom.may_contain(key_hash(&format!("in-{i}")))));
        let false_positives = (0..10_000).filter(|i| bloom.may_contain(key_hash(&format!("out-{i}")))).count();
        assert!(false_positives < 300, "{false_positives} false positives of 10,000 (expected ~1%)");
        assert_eq!(Bloom::from_words(bloom.words().to_vec()), bloom);
    }
}
