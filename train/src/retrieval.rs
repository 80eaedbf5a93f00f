//! Zero-shot retrieval metrics from a similarity matrix: text-to-video and video-to-text recall at 1/5/10 and the
//! median rank (1-based) of the matching item. Row i of `sim` is text i against every video; the match of text i
//! is video i (strict), or any video whose caption equals text i's (`same_caption_ranks`). The ceiling: what an
//! oracle that knows every clip's rendered attributes (its caption) reaches, given that clips sharing a caption are
//! indistinguishable to it.

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

/// Ranks (1-based) of the diagonal entry within each row of a square score matrix (1 + the entries scoring
/// strictly higher).
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

/// Ranks (1-based) of the best-scoring column of each row's group: row i matches every column j with
/// `groups[j] == groups[i]` (clips with the same caption), and only columns of other groups scoring higher count.
pub fn same_caption_ranks(scores: &Tensor, groups: &[i64]) -> Vec<i64> {
    let ids = Tensor::from_slice(groups);
    let same = ids.unsqueeze(1).eq_tensor(&ids.unsqueeze(0));
    let best = scores.masked_fill(&same.logical_not(), f64::NEG_INFINITY).amax(&[1i64][..], true);
    let better = scores.gt_tensor(&best).logical_and(&same.logical_not());
    let better = better.sum_dim_intlist(&[1i64][..], false, Kind::Int64);
    (0..groups.len() as i64).map(|i| better.int64_value(&[i]) + 1).collect()
}

/// How often the top-ranked clip of a missed text-to-video query had a caption that differs from the query's in
/// these words: `wanted` (the query's words the top clip's caption lacks) against `got` (the top caption's words
/// the query lacks). Tells which caption words a model does not yet see (motion, colour, pattern...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confusion {
    pub wanted: String,
    pub got: String,
    pub count: usize,
}

/// The `top` most frequent word differences between each missed query's caption and the caption of the clip it
/// ranked first (rows of `scores` are texts, columns clips, both in `captions` order); misses whose top clip has
/// the same caption are not counted (no model can tell those apart).
pub fn confusions(scores: &Tensor, captions: &[String], top: usize) -> Vec<Confusion> {
    let best = scores.argmax(1, false);
    let mut counts: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
    for (i, query) in captions.iter().enumerate() {
        let Some(got) = usize::try_from(best.int64_value(&[i as i64])).ok().and_then(|j| captions.get(j)) else {
            continue;
        };
        if got == query {
            continue;
        }
        let (wanted, got) = (word_difference(query, got), word_difference(got, query));
        *counts.entry((wanted, got)).or_default() += 1;
    }
    let mut sorted: Vec<Confusion> =
        counts.into_iter().map(|((wanted, got), count)| Confusion { wanted, got, count }).collect();
    sorted.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (&a.wanted, &a.got).cmp(&(&b.wanted, &b.got))));
    sorted.truncate(top);
    sorted
}

/// The words of `a` left after removing one occurrence of each word of `b`, in `a`'s order.
fn word_difference(a: &str, b: &str) -> String {
    let mut others: Vec<&str> = b.split_whitespace().collect();
    let mut left = Vec::new();
    for word in a.split_whitespace() {
        match others.iter().position(|&o| o == word) {
            Some(k) => {
                others.swap_remove(k);
            }
            None => left.push(word),
        }
    }
    left.join(" ")
}

/// The benchmark's own ceiling on a set of clips.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ceiling {
    /// Fraction of clips whose caption no other clip has.
    pub unique_captions: f64,
    /// Expected T2V R@1 of an oracle that knows every clip's caption and picks at random among clips sharing one:
    /// the mean of 1 / (clips with the same caption).
    pub t2v_r1: f64,
}

/// Caption group ids (first-seen order) and the ceiling of `captions`.
pub fn caption_groups(captions: &[String]) -> (Vec<i64>, Ceiling) {
    let mut ids = std::collections::HashMap::new();
    let groups: Vec<i64> = captions
        .iter()
        .map(|c| {
            let next = ids.len() as i64;
            *ids.entry(c.as_str()).or_insert(next)
        })
        .collect();
    let mut sizes = vec![0usize; ids.len()];
    groups.iter().for_each(|&g| sizes[g as usize] += 1);
    let n = groups.len().max(1) as f64;
    let unique = groups.iter().filter(|&&g| sizes[g as usize] == 1).count() as f64 / n;
    let oracle = groups.iter().map(|&g| 1.0 / sizes[g as usize] as f64).sum::<f64>() / n;
    (groups, Ceiling { unique_captions: unique, t2v_r1: oracle })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square score matrix from its rows.
    fn square(values: &[f32]) -> Tensor {
        let n = (values.len() as f64).sqrt() as i64;
        Tensor::from_slice(values).view([n, n])
    }

    #[test]
    fn ranks_and_recalls() {
        let scores = square(&[0.9, 0.1, 0.0, 0.5, 0.4, 0.6, 0.3, 0.2, 0.1]);
        assert_eq!(diagonal_ranks(&scores), vec![1, 3, 3]);
        let r = recall(&[1, 3, 2]);
        assert!((r.r1 - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((r.r5, r.r10, r.median_rank), (1.0, 1.0, 2.0));
        assert_eq!(recall(&[1, 2, 7, 12]).median_rank, 4.5);
    }

    #[test]
    fn same_caption_matches_count_and_the_ceiling_follows_the_duplicates() {
        let captions: Vec<String> = ["a", "b", "a", "c"].iter().map(|s| s.to_string()).collect();
        let (groups, ceiling) = caption_groups(&captions);
        assert_eq!(groups, vec![0, 1, 0, 2]);
        assert_eq!(ceiling.unique_captions, 0.5);
        assert_eq!(ceiling.t2v_r1, (0.5 + 1.0 + 0.5 + 1.0) / 4.0);
        // Text 0 ("a") scores video 2 (also "a") highest, then video 1: strictly rank 2, by caption rank 1.
        #[rustfmt::skip]
        let scores = square(&[
            0.5, 0.6, 0.9, 0.0,
            0.0, 0.1, 0.2, 0.3,
            0.9, 0.0, 0.1, 0.0,
            0.0, 0.0, 0.0, 1.0,
        ]);
        assert_eq!(diagonal_ranks(&scores), vec![3, 3, 2, 1]);
        assert_eq!(same_caption_ranks(&scores, &groups), vec![1, 3, 1, 1]);
    }

    #[test]
    fn confusions_count_the_words_a_miss_got_wrong() {
        let captions: Vec<String> =
            ["a red circle growing", "a red circle shrinking", "a blue star", "a red circle growing"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        // Text 0 ranks clip 1 first (growing -> shrinking), text 1 clip 0 (shrinking -> growing), text 2 is right,
        // text 3 ranks clip 0 first: the same caption, not counted.
        #[rustfmt::skip]
        let scores = square(&[
            0.1, 0.9, 0.0, 0.0,
            0.9, 0.1, 0.0, 0.0,
            0.0, 0.0, 0.9, 0.0,
            0.9, 0.0, 0.0, 0.1,
        ]);
        let found = confusions(&scores, &captions, 10);
        let pair = |w: &str, g: &str| Confusion { wanted: w.into(), got: g.into(), count: 1 };
        assert_eq!(found, vec![pair("growing", "shrinking"), pair("shrinking", "growing")]);
        assert_eq!(confusions(&scores, &captions, 1).len(), 1);
        assert_eq!(word_difference("a red and a red star", "a red star"), "and a red");
    }
}
