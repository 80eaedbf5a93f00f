//! The stable hashes of clipstream, in one place. Each is part of some behaviour that must not change between
//! versions, platforms or runs (routing, seeded sampling, stored index formats), so none uses `std`'s unspecified
//! hasher: FNV-1a where speed matters and keys are trusted, SHA-256 where collisions must be negligible.

use sha2::{Digest, Sha256};

/// 64-bit FNV-1a of `bytes` (routing a video to its worker).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// The splitmix64 finaliser: spreads the bits of `z` (seeded sampling on top of [`fnv1a64`]).
pub fn splitmix64(z: u64) -> u64 {
    let z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The first 8 bytes of [`sha256`] of `parts`, little-endian.
pub fn sha256_u64(parts: &[&[u8]]) -> u64 {
    let digest = sha256(parts);
    u64::from_le_bytes(digest[..8].try_into().expect("a SHA-256 digest has 32 bytes"))
}

/// The first 16 bytes of [`sha256`] of `bytes`, big-endian (the settled index stores these).
pub fn sha256_u128(bytes: &[u8]) -> u128 {
    let digest = sha256(&[bytes]);
    u128::from_be_bytes(digest[..16].try_into().expect("a SHA-256 digest has 32 bytes"))
}

/// A 64-bit key of a video id (per-video counters hold this instead of the id string). Two ids of a dataset of
/// 10^7 videos collide with probability ~3e-6.
pub fn id_hash(id: &str) -> u64 {
    sha256_u64(&[id.as_bytes()])
}

/// A number uniform in the open interval (0, 1) for `(seed, clip)`: it depends only on them, never on the order
/// clips are read in.
pub fn uniform(seed: u64, clip: &str) -> f64 {
    let bits = sha256_u64(&[&seed.to_le_bytes(), clip.as_bytes()]) >> 11;
    (bits as f64 + 0.5) / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        // FNV-1a test vectors (draft-eastlake-fnv): "" and "a".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        // sha256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
        assert_eq!(sha256_u128(b"abc"), 0xba7816bf_8f01cfea_414140de_5dae2223);
        assert_eq!(sha256_u64(&[b"ab", b"c"]), u64::from_le_bytes([0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea]));
        // splitmix64 of state 0 advanced once (Vigna's reference generator's first output for seed 0).
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn uniform_is_stable_open_and_spread() {
        assert_eq!(uniform(7, "a_0001"), uniform(7, "a_0001"));
        assert_ne!(uniform(7, "a_0001"), uniform(8, "a_0001"));
        let draws: Vec<f64> = (0..20_000).map(|i| uniform(1, &format!("clip{i}"))).collect();
        assert!(draws.iter().all(|u| *u > 0.0 && *u < 1.0));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let below_tenth = draws.iter().filter(|u| **u < 0.1).count() as f64 / draws.len() as f64;
        assert!((below_tenth - 0.1).abs() < 0.01, "{below_tenth}");
    }

    #[test]
    fn id_hash_is_stable() {
        assert_eq!(id_hash("video"), id_hash("video"));
        assert_ne!(id_hash("video"), id_hash("video2"));
    }
}
