//! The blocks a process read recently, bounded in bytes; the least recently used block goes first.

use std::collections::HashMap;

use bytes::Bytes;

/// (segment's place in the snapshot, block number) -> (block, last use); cleared when the snapshot is read again.
#[derive(Debug)]
pub struct BlockCache {
    capacity: usize,
    bytes: usize,
    clock: u64,
    blocks: HashMap<(usize, usize), (Bytes, u64)>,
}

impl BlockCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, bytes: 0, clock: 0, blocks: HashMap::new() }
    }

    pub fn get(&mut self, id: (usize, usize)) -> Option<Bytes> {
        self.clock += 1;
        let clock = self.clock;
        self.blocks.get_mut(&id).map(|(block, used)| {
            *used = clock;
            block.clone()
        })
    }

    pub fn insert(&mut self, id: (usize, usize), block: Bytes) {
        self.clock += 1;
        self.bytes += block.len();
        if let Some((old, _)) = self.blocks.insert(id, (block, self.clock)) {
            self.bytes -= old.len();
        }
        while self.bytes > self.capacity && self.blocks.len() > 1 {
            let Some(oldest) = self.blocks.iter().min_by_key(|(_, (_, used))| *used).map(|(id, _)| *id) else { break };
            if let Some((gone, _)) = self.blocks.remove(&oldest) {
                self.bytes -= gone.len();
            }
        }
    }

    /// Forgets everything (after the index was read again).
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_recently_used_blocks_within_capacity() {
        let mut cache = BlockCache::new(8);
        cache.insert((1, 0), Bytes::from_static(b"aaaa"));
        cache.insert((1, 1), Bytes::from_static(b"bbbb"));
        assert!(cache.get((1, 0)).is_some());
        cache.insert((1, 2), Bytes::from_static(b"cccc"));
        assert!(cache.get((1, 1)).is_none(), "least recently used goes first");
        assert_eq!(cache.get((1, 0)).unwrap(), Bytes::from_static(b"aaaa"));
        assert!(cache.get((1, 2)).is_some());
        cache.clear();
        assert!(cache.get((1, 0)).is_none());
    }
}
