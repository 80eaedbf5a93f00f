//! The 128-bit hash the index stores instead of keys: the first 16 bytes of SHA-256, big-endian. Stable across
//! versions and platforms (it is part of the stored format); two of 10M keys collide with probability ~1e-25.

/// The index hash of a video key or id.
pub fn key_hash(key: &str) -> u128 {
    clipstream_schemas::hash::sha256_u128(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_the_sha256_prefix() {
        // sha256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
        assert_eq!(key_hash("abc"), 0xba7816bf_8f01cfea_414140de_5dae2223);
        assert_ne!(key_hash("a"), key_hash("b"));
    }
}
