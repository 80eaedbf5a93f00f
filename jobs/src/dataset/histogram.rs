//! `Histogram`: fixed-edge counts of one quantity, built while streaming (constant memory). Values outside the
//! edges are counted as `below`/`above`, missing values as `missing`; count, mean, min and max cover every value
//! seen, in range or not.

use serde::{Deserialize, Serialize};

/// Counts of a quantity in equal-width bins over `[lo, hi]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `bins + 1` bin edges; bin `i` is `[edges[i], edges[i+1])`, the last bin also holds `hi`.
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    pub below: u64,
    pub above: u64,
    /// Rows without a value (a missing score).
    pub missing: u64,
    pub count: u64,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    #[serde(skip)]
    sum: f64,
}

impl Histogram {
    /// `bins` equal bins from `lo` to `hi` (`hi > lo`, `bins >= 1`).
    pub fn linear(lo: f64, hi: f64, bins: usize) -> Self {
        let bins = bins.max(1);
        let width = (hi - lo) / bins as f64;
        let edges = (0..=bins).map(|i| if i == bins { hi } else { lo + width * i as f64 }).collect();
        Self {
            edges,
            counts: vec![0; bins],
            below: 0,
            above: 0,
            missing: 0,
            count: 0,
            mean: None,
            min: None,
            max: None,
            sum: 0.0,
        }
    }

    /// Bins centred on the integers `1..=max` (for counts such as clips per video).
    pub fn integers(max: u32) -> Self {
        Self::linear(0.5, f64::from(max.max(1)) + 0.5, max.max(1) as usize)
    }

    /// Adds a value; a non-finite value counts as missing.
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            self.missing += 1;
            return;
        }
        self.count += 1;
        self.sum += value;
        self.mean = Some(self.sum / self.count as f64);
        self.min = Some(self.min.map_or(value, |m| m.min(value)));
        self.max = Some(self.max.map_or(value, |m| m.max(value)));
        let (lo, hi) = (self.edges[0], self.edges[self.edges.len() - 1]);
        if value < lo {
            self.below += 1;
        } else if value > hi {
            self.above += 1;
        } else {
            let bins = self.counts.len();
            let bin = (((value - lo) / (hi - lo)) * bins as f64) as usize;
            self.counts[bin.min(bins - 1)] += 1;
        }
    }

    /// Adds a value that may be missing.
    pub fn add_opt(&mut self, value: Option<f64>) {
        match value {
            Some(v) => self.add(v),
            None => self.missing += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_edges_and_overflow() {
        let mut h = Histogram::linear(0.0, 10.0, 5);
        assert_eq!(h.edges, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        for v in [0.0, 1.99, 2.0, 9.99, 10.0, -1.0, 11.0] {
            h.add(v);
        }
        h.add_opt(None);
        h.add(f64::NAN);
        assert_eq!(h.counts, [2, 1, 0, 0, 2]);
        assert_eq!((h.below, h.above, h.missing, h.count), (1, 1, 2, 7));
        assert_eq!((h.min, h.max), (Some(-1.0), Some(11.0)));
        assert!((h.mean.unwrap_or_default() - 33.98 / 7.0).abs() < 1e-9);
    }

    #[test]
    fn integer_bins_hold_their_integer() {
        let mut h = Histogram::integers(4);
        for v in [1.0, 2.0, 2.0, 4.0, 5.0] {
            h.add(v);
        }
        assert_eq!((h.counts.clone(), h.above), (vec![1, 2, 0, 1], 1));
    }
}
