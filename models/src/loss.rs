//! The symmetric InfoNCE loss of CLIP/ViCLIP over L2-normalised embeddings with a learned temperature, optionally
//! removing same-video pairs from the negatives (clips of one video are false negatives of each other).

use tch::{Kind, Tensor};

use crate::nn::normalize;

/// `(CE(v t^T / temp, I) + CE(t v^T / temp, I)) / 2` over a batch of matching (video, text) rows. With
/// `video_ids` ([B] int64), off-diagonal pairs from the same video are masked out of both softmaxes.
pub fn info_nce(video: &Tensor, text: &Tensor, temp: &Tensor, video_ids: Option<&Tensor>) -> Tensor {
    let (v, t) = (normalize(video), normalize(text));
    let similarity = v.matmul(&t.transpose(0, 1));
    let mut logits = &similarity / temp.to_kind(similarity.kind());
    let b = logits.size()[0];
    if let Some(ids) = video_ids {
        let ids = ids.to_device(logits.device());
        let same = ids.unsqueeze(1).eq_tensor(&ids.unsqueeze(0));
        let eye = Tensor::eye(b, (Kind::Bool, logits.device()));
        let negatives_to_drop = same.logical_and(&eye.logical_not());
        logits = logits.masked_fill(&negatives_to_drop, f64::NEG_INFINITY);
    }
    let targets = Tensor::arange(b, (Kind::Int64, logits.device()));
    let cross_entropy = |l: &Tensor| l.log_softmax(-1, l.kind()).nll_loss(&targets);
    let forward = cross_entropy(&logits);
    let backward = cross_entropy(&logits.transpose(0, 1));
    (forward + backward) / 2.0
}
