//! `Reservoir`: weighted sampling of `n` items without replacement in one streaming pass (Efraimidis & Spirakis,
//! "Weighted random sampling with a reservoir", 2006): each item gets the key `u^(1/w)` with `u` uniform in (0, 1)
//! and `w` its weight, and the `n` largest keys win. This is the same distribution as drawing `n` times in a row,
//! each time proportionally to the weights of the items left. Keys are kept as `ln(u) / w` (same order, no
//! underflow for tiny weights). Memory: the `n` items kept.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

struct Entry<T> {
    key: f64,
    /// Breaks ties between equal keys so the result never depends on arrival order.
    id: String,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.total_cmp(&other.key).then_with(|| self.id.cmp(&other.id))
    }
}

/// The `capacity` items with the largest keys seen so far.
pub struct Reservoir<T> {
    capacity: usize,
    heap: BinaryHeap<Reverse<Entry<T>>>,
}

/// The reservoir key of an item with uniform draw `u` in (0, 1) and weight `weight` > 0.
pub fn reservoir_key(u: f64, weight: f64) -> f64 {
    u.ln() / weight
}

impl<T> Reservoir<T> {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, heap: BinaryHeap::with_capacity(capacity.min(1 << 20) + 1) }
    }

    /// Whether an item with `key` would be kept now (check before building an expensive item).
    pub fn accepts(&self, key: f64) -> bool {
        if self.heap.len() < self.capacity {
            return self.capacity > 0;
        }
        self.heap.peek().is_some_and(|Reverse(min)| key >= min.key)
    }

    /// Offers an item named `id` with `key`.
    pub fn offer(&mut self, key: f64, id: String, item: T) {
        if !self.accepts(key) {
            return;
        }
        self.heap.push(Reverse(Entry { key, id, item }));
        if self.heap.len() > self.capacity {
            self.heap.pop();
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The kept items, largest key first.
    pub fn into_items(self) -> Vec<T> {
        let mut entries: Vec<Entry<T>> = self.heap.into_iter().map(|Reverse(e)| e).collect();
        entries.sort_by(|a, b| b.cmp(a));
        entries.into_iter().map(|e| e.item).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipstream_schemas::hash::uniform;

    #[test]
    fn keeps_the_largest_keys_whatever_the_order() {
        let keys = [0.3, -1.0, 2.5, 0.7, 2.5, -0.2];
        let mut forward = Reservoir::new(3);
        let mut backward = Reservoir::new(3);
        for (i, key) in keys.iter().enumerate() {
            forward.offer(*key, format!("i{i}"), i);
        }
        for (i, key) in keys.iter().enumerate().rev() {
            backward.offer(*key, format!("i{i}"), i);
        }
        assert_eq!(forward.into_items(), [4, 2, 3]);
        assert_eq!(backward.into_items(), [4, 2, 3]);
        let mut none = Reservoir::new(0);
        none.offer(1.0, "x".into(), 1);
        assert!(none.is_empty());
    }

    /// Successive sampling: `n` draws, each proportional to the weights of the items not drawn yet.
    fn successive(weights: &[f64], n: usize, draw: &mut impl FnMut() -> f64) -> Vec<usize> {
        let mut left: Vec<usize> = (0..weights.len()).collect();
        let mut chosen = Vec::new();
        for _ in 0..n {
            let total: f64 = left.iter().map(|&i| weights[i]).sum();
            let mut target = draw() * total;
            let position = left
                .iter()
                .position(|&i| {
                    target -= weights[i];
                    target <= 0.0
                })
                .unwrap_or(left.len() - 1);
            chosen.push(left.remove(position));
        }
        chosen
    }

    #[test]
    fn inclusion_matches_successive_sampling() {
        let weights = [1.0, 1.0, 2.0, 4.0, 8.0, 0.5, 0.25, 3.0];
        let (n, trials) = (3, 20_000);
        let mut reservoir_hits = [0u32; 8];
        let mut direct_hits = [0u32; 8];
        let mut counter = 0u64;
        let mut draw = || {
            counter += 1;
            uniform(u64::MAX, &counter.to_string())
        };
        for trial in 0..trials {
            let mut reservoir = Reservoir::new(n);
            for (i, w) in weights.iter().enumerate() {
                reservoir.offer(reservoir_key(uniform(trial, &i.to_string()), *w), i.to_string(), i);
            }
            reservoir.into_items().into_iter().for_each(|i| reservoir_hits[i] += 1);
            successive(&weights, n, &mut draw).into_iter().for_each(|i| direct_hits[i] += 1);
        }
        for i in 0..weights.len() {
            let (a, b) = (f64::from(reservoir_hits[i]) / trials as f64, f64::from(direct_hits[i]) / trials as f64);
            // Two independent estimates of p: their difference has sd <= sqrt(2 * 0.25 / trials) ~ 0.005.
            assert!((a - b).abs() < 0.02, "item {i}: reservoir {a:.3} vs successive draws {b:.3}");
        }
    }
}
