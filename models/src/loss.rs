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

/// The share of [`info_nce`] of a global batch of `n` rows that rows `offset..offset + b` contribute (a
/// data-parallel rank's rows): `video`/`text` are those rows, `all_video`/`all_text` all `n` rows (the rank's own
/// included), and the share is the rows' mean loss scaled by `b / n`, so the shares of all blocks sum to
/// `info_nce(all_video, all_text, ..)`. `ids` is (`[b]` ids of these rows, `[n]` ids of all rows): off-diagonal
/// pairs with equal ids are masked out of both softmaxes, across blocks too.
pub fn info_nce_share(
    (video, text): (&Tensor, &Tensor),
    (all_video, all_text): (&Tensor, &Tensor),
    temp: &Tensor,
    offset: i64,
    ids: Option<(&Tensor, &Tensor)>,
) -> Tensor {
    let (v, t) = (normalize(video), normalize(text));
    let (all_v, all_t) = (normalize(all_video), normalize(all_text));
    let (b, n) = (v.size()[0], all_v.size()[0]);
    let temp = temp.to_kind(v.kind());
    let mut video_to_text = v.matmul(&all_t.transpose(0, 1)) / &temp;
    let mut text_to_video = t.matmul(&all_v.transpose(0, 1)) / &temp;
    let device = video_to_text.device();
    let targets = Tensor::arange_start(offset, offset + b, (Kind::Int64, device));
    if let Some((mine, all)) = ids {
        let (mine, all) = (mine.to_device(device), all.to_device(device));
        let same = mine.unsqueeze(1).eq_tensor(&all.unsqueeze(0));
        let own = targets.unsqueeze(1).eq_tensor(&Tensor::arange(n, (Kind::Int64, device)).unsqueeze(0));
        let negatives_to_drop = same.logical_and(&own.logical_not());
        video_to_text = video_to_text.masked_fill(&negatives_to_drop, f64::NEG_INFINITY);
        text_to_video = text_to_video.masked_fill(&negatives_to_drop, f64::NEG_INFINITY);
    }
    let cross_entropy = |l: &Tensor| l.log_softmax(-1, l.kind()).nll_loss(&targets);
    (cross_entropy(&video_to_text) + cross_entropy(&text_to_video)) / 2.0 * (b as f64 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn block_shares_sum_to_the_global_loss_and_gradient() {
        tch::manual_seed(7);
        let (n, d) = (6, 5);
        let video = Tensor::randn([n, d], (Kind::Double, Device::Cpu)).set_requires_grad(true);
        let text = Tensor::randn([n, d], (Kind::Double, Device::Cpu)).set_requires_grad(true);
        let temp = Tensor::from(0.1_f64).set_requires_grad(true);
        let ids = Tensor::from_slice(&[0_i64, 1, 0, 2, 1, 3]);
        let whole = info_nce(&video, &text, &temp, Some(&ids));
        let grads = Tensor::run_backward(&[&whole], &[&video, &text, &temp], false, false);
        let mut total = 0.0;
        let mut summed: Vec<Tensor> = grads.iter().map(Tensor::zeros_like).collect();
        for (offset, b) in [(0_i64, 2_i64), (2, 3), (5, 1)] {
            let rows = |t: &Tensor| t.narrow(0, offset, b);
            let share = info_nce_share(
                (&rows(&video), &rows(&text)),
                (&video, &text),
                &temp,
                offset,
                Some((&rows(&ids), &ids)),
            );
            total += share.double_value(&[]);
            let block = Tensor::run_backward(&[&share], &[&video, &text, &temp], false, false);
            for (sum, g) in summed.iter_mut().zip(&block) {
                *sum += g;
            }
        }
        assert!((total - whole.double_value(&[])).abs() < 1e-12, "{total} vs {}", whole.double_value(&[]));
        for (sum, g) in summed.iter().zip(&grads) {
            assert!(sum.allclose(g, 1e-10, 1e-12, false), "gradient of the shares' sum == global gradient");
        }
    }
}
