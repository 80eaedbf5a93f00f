//! Embeddings of the frozen text tower, computed once per distinct caption and kept for the `capacity` most
//! recently used captions, so memory stays flat over millions of captions.

use std::collections::{BTreeMap, HashMap};

use clipstream_models::Tokenizer;
use clipstream_models::viclip::Viclip;
use tch::{Device, Kind, Tensor};

use crate::error::TrainError;
use crate::trainer::tokens;

/// A least-recently-used map from caption to embedding.
pub struct TextCache {
    capacity: usize,
    /// Caption -> (embedding, tick of its last use).
    entries: HashMap<String, (Tensor, u64)>,
    /// Tick of last use -> caption, oldest first.
    order: BTreeMap<u64, String>,
    tick: u64,
}

impl TextCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), entries: HashMap::new(), order: BTreeMap::new(), tick: 0 }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The embedding of `caption` if cached, marking it used.
    fn get(&mut self, caption: &str) -> Option<Tensor> {
        let (embedding, last) = self.entries.get_mut(caption)?;
        self.order.remove(last);
        self.tick += 1;
        *last = self.tick;
        self.order.insert(self.tick, caption.to_string());
        Some(embedding.shallow_clone())
    }

    /// Caches `embedding` of `caption`, dropping the least recently used entries past the capacity.
    fn insert(&mut self, caption: String, embedding: Tensor) {
        self.tick += 1;
        if let Some((_, last)) = self.entries.insert(caption.clone(), (embedding, self.tick)) {
            self.order.remove(&last);
        }
        self.order.insert(self.tick, caption);
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            self.entries.remove(&oldest);
        }
    }

    /// Embeddings [B, D] of `captions`, embedding the ones not cached in one call of the text tower.
    pub fn embed(
        &mut self,
        model: &Viclip,
        tokenizer: &Tokenizer,
        captions: &[String],
        context: usize,
        device: Device,
    ) -> Result<Tensor, TrainError> {
        let mut rows: Vec<Option<Tensor>> = captions.iter().map(|c| self.get(c)).collect();
        let mut seen = std::collections::HashSet::new();
        let missing: Vec<String> = captions
            .iter()
            .zip(&rows)
            .filter(|(c, row)| row.is_none() && seen.insert(c.as_str()))
            .map(|(c, _)| c.clone())
            .collect();
        if !missing.is_empty() {
            let ids = tokens(tokenizer, &missing, context, device)?;
            let embedded = tch::no_grad(|| model.encode_text(&ids, false))?.to_kind(Kind::Float);
            let fresh: HashMap<&str, Tensor> =
                missing.iter().enumerate().map(|(i, c)| (c.as_str(), embedded.get(i as i64))).collect();
            for (row, caption) in rows.iter_mut().zip(captions) {
                if row.is_none() {
                    *row = fresh.get(caption.as_str()).map(Tensor::shallow_clone);
                }
            }
            for (caption, embedding) in fresh {
                self.insert(caption.to_string(), embedding);
            }
        }
        let rows: Vec<Tensor> = rows.into_iter().flatten().collect();
        Ok(Tensor::stack(&rows, 0))
    }
}

#[cfg(test)]
mod tests {
    use clipstream_models::Arch;
    use tch::nn::VarStore;

    use super::*;

    fn cached(cache: &TextCache) -> Vec<String> {
        cache.order.values().cloned().collect()
    }

    #[test]
    fn the_least_recently_used_caption_goes_first() {
        let mut cache = TextCache::new(2);
        cache.insert("a".into(), Tensor::from(1.0));
        cache.insert("b".into(), Tensor::from(2.0));
        assert!(cache.get("a").is_some(), "a is used again");
        cache.insert("c".into(), Tensor::from(3.0));
        assert_eq!(cached(&cache), vec!["a", "c"]);
        assert!(cache.get("b").is_none());
        assert_eq!(cache.get("a").map(|t| t.double_value(&[])), Some(1.0));
        cache.insert("a".into(), Tensor::from(4.0));
        assert_eq!((cache.len(), cache.entries.len(), cache.order.len()), (2, 2, 2));
        assert_eq!(cache.get("a").map(|t| t.double_value(&[])), Some(4.0));
    }

    #[test]
    fn embeddings_equal_the_text_tower_and_the_cache_stays_bounded() {
        let Ok(Arch::Viclip(arch)) = Arch::by_name("viclip-tiny") else { panic!("viclip-tiny") };
        let vs = VarStore::new(Device::Cpu);
        let model = Viclip::new(&vs.root(), arch);
        let tokenizer = Tokenizer::clip().unwrap();
        let mut cache = TextCache::new(3);
        let captions: Vec<String> = ["a red circle", "a blue star", "a red circle", "a green square", "a dog"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let got = cache.embed(&model, &tokenizer, &captions, 32, Device::Cpu).unwrap();
        let ids = tokens(&tokenizer, &captions, 32, Device::Cpu).unwrap();
        let want = tch::no_grad(|| model.encode_text(&ids, false)).unwrap();
        assert!(got.allclose(&want, 1e-5, 1e-6, false));
        assert_eq!(cache.len(), 3, "four distinct captions, capacity 3");
        let again = cache.embed(&model, &tokenizer, &captions[..2], 32, Device::Cpu).unwrap();
        assert!(again.allclose(&want.narrow(0, 0, 2), 1e-5, 1e-6, false));
    }
}
