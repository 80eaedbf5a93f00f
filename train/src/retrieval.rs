//! Zero-shot retrieval metrics from a similarity matrix: text-to-video and video-to-text recall at 1/5/10 and the
//! median rank (1-based) of the matching item. Row i of `sim` is text i against every video; the match of text i
//! is video i.

use serde::Serialize;
use tch::{Kind, Tensor};

/// Recall at 1, 5, 10 (fractions) and the median rank of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Recall {
    pub r1: f64,
    pub r5: f64,
    pub r10: f64,
    pub median_rank: f64,
}

/// Ranks (1-based) of the diagonal entry within each row of a square score matrix (ties count against it).
pub fn diagonal_ranks(scores: &Tensor) -> Vec<i64> {
    let n = scores.size()[0];
    let diagonal = scores.diagonal(0, 0, 1).unsqueeze(1);
    let better = scores.gt_tensor(&diagonal).sum_dim_intlist(&[1i64][..], false, Kind::Int64);
    (0..n).map(|i| better.int64_value(&[i]) + 1).collect()
}

/// The recalls and median rank of `ranks`.
pub fn recall(ranks: &[i64]) -> Recall {
    let n = ranks.len().max(1) as f64;
    let at = |k: i64| ranks.iter().filter(|&&r| r <= k).count() as f64 / n;
    let mut sorted = ranks.to_vec();
    sorted.sort_unstable();
    let median = match sorted.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => sorted[len / 2] as f64,
        len => (sorted[len / 2 - 1] + sorted[len / 2]) as f64 / 2.0,
    };
    Recall { r1: at(1), r5: at(5), r10: at(10), median_rank: median }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_recalls() {
        let scores = Tensor::from_slice(&[0.9_f32, 0.1, 0.0, 0.5, 0.4, 0.6, 0.3, 0.2, 0.1]).view([3, 3]);
        assert_eq!(diagonal_ranks(&scores), vec![1, 3, 3]);
        let r = recall(&[1, 3, 2]);
        assert!((r.r1 - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((r.r5, r.r10, r.median_rank), (1.0, 1.0, 2.0));
        assert_eq!(recall(&[1, 2, 7, 12]).median_rank, 4.5);
    }
}
