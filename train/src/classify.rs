//! Zero-shot classification: each clip's video embedding against the embeddings of one prompt per class
//! ("a {class}"), classes being the distinct `category` labels of the evaluated clips; top-1, top-5 and their mean
//! ("AVG", as reported for ViCLIP).

use serde::Serialize;
use tch::{Kind, Tensor};

/// Accuracy of zero-shot classification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub classes: Vec<String>,
    pub clips: usize,
    pub top1: f64,
    pub top5: f64,
    /// Mean of top-1 and top-5.
    pub avg: f64,
}

/// The prompt of one class.
pub fn prompt(class: &str) -> String {
    format!("a {class}")
}

/// Scores `videos` [N, D] (normalised) against `prompts` [C, D] (normalised; row c is `classes[c]`), with each
/// clip's true class index in `labels`.
pub fn classify(videos: &Tensor, prompts: &Tensor, labels: &[i64], classes: Vec<String>) -> Classification {
    let scores = videos.matmul(&prompts.transpose(0, 1));
    let k = 5.min(classes.len() as i64);
    let (_, top) = scores.topk(k, 1, true, true);
    let truth = Tensor::from_slice(labels).unsqueeze(1);
    let hits = top.eq_tensor(&truth).to_kind(Kind::Float);
    let n = labels.len().max(1) as f64;
    let top1 = hits.select(1, 0).sum(Kind::Float).double_value(&[]) / n;
    let top5 = hits.sum(Kind::Float).double_value(&[]) / n;
    Classification { classes, clips: labels.len(), top1, top5, avg: (top1 + top5) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top1_and_top5() {
        let eye = Tensor::eye(6, (Kind::Float, tch::Device::Cpu));
        let last = Tensor::from_slice(&[-1.0_f32, 0.5, 0.4, 0.3, 0.2, 0.9]).unsqueeze(0);
        let videos = Tensor::cat(&[eye.narrow(0, 0, 5), last], 0);
        let classes: Vec<String> = (0..6).map(|c| c.to_string()).collect();
        let c = classify(&videos, &eye, &[0, 1, 2, 3, 4, 0], classes);
        assert!((c.top1 - 5.0 / 6.0).abs() < 1e-9);
        assert!((c.top5 - 5.0 / 6.0).abs() < 1e-9, "class 5 ranks last for the last clip: {c:?}");
        assert_eq!(prompt("circle"), "a circle");
    }
}
