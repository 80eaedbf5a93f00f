//! One immutable index segment: sorted, distinct 128-bit hashes in blocks of [`BLOCK_ENTRIES`], with the first
//! hash of every block (the fence table) and a Bloom filter ahead of them, so a reader fetches the head once and
//! then one block per lookup that the filter lets through.
//!
//! Layout (little-endian): a 64-byte header (`CSIDX001`, entries u64, block entries u32, blocks u32, Bloom words
//! u64, zeros), the fence table (blocks x 16 bytes), the Bloom words (x 8 bytes), then the hashes (x 16 bytes).

use bytes::Bytes;

use crate::error::StoreError;
use crate::index::bloom::Bloom;

/// Hashes per block: 4 KiB, one ranged GET.
pub const BLOCK_ENTRIES: usize = 256;
const MAGIC: &[u8; 8] = b"CSIDX001";
/// Bytes of the header.
pub const HEADER_BYTES: u64 = 64;

/// Encodes sorted, distinct hashes as a segment.
pub fn encode(hashes: &[u128]) -> Vec<u8> {
    debug_assert!(hashes.windows(2).all(|w| w[0] < w[1]), "segment hashes must be sorted and distinct");
    let blocks = hashes.len().div_ceil(BLOCK_ENTRIES);
    let mut bloom = Bloom::with_keys(hashes.len() as u64);
    hashes.iter().for_each(|&h| bloom.insert(h));
    let mut out = Vec::with_capacity(HEADER_BYTES as usize + blocks * 16 + bloom.words().len() * 8 + hashes.len() * 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(hashes.len() as u64).to_le_bytes());
    out.extend_from_slice(&(BLOCK_ENTRIES as u32).to_le_bytes());
    out.extend_from_slice(&(blocks as u32).to_le_bytes());
    out.extend_from_slice(&(bloom.words().len() as u64).to_le_bytes());
    out.resize(HEADER_BYTES as usize, 0);
    hashes.chunks(BLOCK_ENTRIES).for_each(|block| out.extend_from_slice(&block[0].to_le_bytes()));
    bloom.words().iter().for_each(|w| out.extend_from_slice(&w.to_le_bytes()));
    hashes.iter().for_each(|h| out.extend_from_slice(&h.to_le_bytes()));
    out
}

/// The sizes a header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub entries: u64,
    pub block_entries: u32,
    pub blocks: u32,
    pub bloom_words: u64,
}

impl Header {
    /// Parses the first [`HEADER_BYTES`] of segment `key`.
    pub fn parse(key: &str, bytes: &[u8]) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::BadIndex { key: key.to_string(), reason: what.to_string() };
        if bytes.len() < HEADER_BYTES as usize || &bytes[..8] != MAGIC {
            return Err(bad("not a clipstream index segment (magic CSIDX001)"));
        }
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default());
        let header =
            Self { entries: u64_at(8), block_entries: u32_at(16), blocks: u32_at(20), bloom_words: u64_at(24) };
        if header.block_entries == 0 || u64::from(header.blocks) != header.entries.div_ceil(header.block_entries.into())
        {
            return Err(bad("block count does not match the entry count"));
        }
        Ok(header)
    }

    /// Byte range of the fence table and the Bloom words (the head a reader keeps).
    pub fn head_range(&self) -> std::ops::Range<u64> {
        HEADER_BYTES..self.hashes_offset()
    }

    fn hashes_offset(&self) -> u64 {
        HEADER_BYTES + u64::from(self.blocks) * 16 + self.bloom_words * 8
    }

    /// Byte range of block `block`.
    pub fn block_range(&self, block: usize) -> std::ops::Range<u64> {
        let first = block as u64 * u64::from(self.block_entries);
        let last = (first + u64::from(self.block_entries)).min(self.entries);
        self.hashes_offset() + first * 16..self.hashes_offset() + last * 16
    }

    /// Total size of the segment.
    pub fn total_bytes(&self) -> u64 {
        self.hashes_offset() + self.entries * 16
    }
}

/// What a reader keeps of a segment: its header, fence table and Bloom filter.
#[derive(Debug, Clone)]
pub struct SegmentHead {
    pub key: String,
    pub header: Header,
    fences: Vec<u128>,
    bloom: Bloom,
}

impl SegmentHead {
    /// Parses the head bytes ([`Header::head_range`]) of segment `key`.
    pub fn parse(key: &str, header: Header, head: &[u8]) -> Result<Self, StoreError> {
        let fence_bytes = header.blocks as usize * 16;
        if head.len() as u64 != header.head_range().end - header.head_range().start {
            return Err(StoreError::BadIndex { key: key.to_string(), reason: "truncated head".to_string() });
        }
        let fences = head[..fence_bytes].chunks_exact(16).map(u128_le).collect();
        let words = head[fence_bytes..].chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().unwrap_or_default()));
        Ok(Self { key: key.to_string(), header, fences, bloom: Bloom::from_words(words.collect()) })
    }

    /// The block that would hold `hash`, if the Bloom filter does not rule it out.
    pub fn candidate_block(&self, hash: u128) -> Option<usize> {
        if self.header.entries == 0 || !self.bloom.may_contain(hash) {
            return None;
        }
        self.fences.partition_point(|&first| first <= hash).checked_sub(1)
    }

    /// Bytes this head holds in memory.
    pub fn memory_bytes(&self) -> usize {
        self.fences.len() * 16 + self.bloom.words().len() * 8
    }
}

/// Whether a fetched block holds `hash`.
pub fn block_contains(block: &[u8], hash: u128) -> bool {
    let count = block.len() / 16;
    let at = |i: usize| u128_le(&block[i * 16..i * 16 + 16]);
    let (mut low, mut high) = (0, count);
    while low < high {
        let mid = (low + high) / 2;
        match at(mid).cmp(&hash) {
            std::cmp::Ordering::Less => low = mid + 1,
            std::cmp::Ordering::Greater => high = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// Every hash of a whole segment (compaction reads small segments whole).
pub fn decode_all(key: &str, bytes: &Bytes) -> Result<Vec<u128>, StoreError> {
    let header = Header::parse(key, bytes)?;
    if bytes.len() as u64 != header.total_bytes() {
        return Err(StoreError::BadIndex {
            key: key.to_string(),
            reason: "size does not match its header".to_string(),
        });
    }
    let start = header.block_range(0).start as usize;
    Ok(bytes[start..].chunks_exact(16).map(u128_le).collect())
}

fn u128_le(bytes: &[u8]) -> u128 {
    u128::from_le_bytes(bytes.try_into().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::key_hash;

    fn sorted(n: usize) -> Vec<u128> {
        let mut hashes: Vec<u128> = (0..n).map(|i| key_hash(&format!("v{i}"))).collect();
        hashes.sort_unstable();
        hashes
    }

    fn lookup(bytes: &[u8], hash: u128) -> bool {
        let header = Header::parse("s", bytes).unwrap();
        let range = header.head_range();
        let head = SegmentHead::parse("s", header, &bytes[range.start as usize..range.end as usize]).unwrap();
        head.candidate_block(hash).is_some_and(|block| {
            let r = header.block_range(block);
            block_contains(&bytes[r.start as usize..r.end as usize], hash)
        })
    }

    #[test]
    fn every_hash_is_found_and_others_are_not() {
        for n in [0, 1, 255, 256, 257, 5_000] {
            let hashes = sorted(n);
            let bytes = encode(&hashes);
            assert!(hashes.iter().all(|&h| lookup(&bytes, h)), "n = {n}");
            assert!((0..2_000).all(|i| !lookup(&bytes, key_hash(&format!("absent{i}")))), "n = {n}");
            assert_eq!(decode_all("s", &Bytes::from(bytes.clone())).unwrap(), hashes);
            assert_eq!(Header::parse("s", &bytes).unwrap().total_bytes(), bytes.len() as u64);
        }
    }

    #[test]
    fn edges_of_the_hash_space() {
        let hashes = vec![0, 1, u128::MAX - 1, u128::MAX];
        let bytes = encode(&hashes);
        assert!(hashes.iter().all(|&h| lookup(&bytes, h)));
        assert!(!lookup(&bytes, 2));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(Header::parse("s", b"not an index").is_err());
        let mut bytes = encode(&sorted(300));
        bytes[20] = 9; // block count
        assert!(Header::parse("s", &bytes).is_err());
        let bytes = encode(&sorted(300));
        assert!(decode_all("s", &Bytes::from(bytes[..bytes.len() - 1].to_vec())).is_err());
    }
}
