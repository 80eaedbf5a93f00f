//! One optimisation step from a batch's embeddings: symmetric InfoNCE (optionally without same-id negatives),
//! backward, gradient clipping, AdamW. In a data-parallel run the loss is over the global batch: each rank
//! gathers all ranks' embeddings, computes its rows' share of the global loss against all of them (gradient
//! through its own rows directly, and through the gathered copies as leaves whose gradients are summed over
//! ranks and handed back to the rows' owner), and the parameter gradients are summed over ranks. The result
//! equals one rank training on the concatenated batch (docs/distributed.md).

use clipstream_models::loss::{info_nce, info_nce_share};
use tch::Tensor;

use crate::ddp::DataParallel;
use crate::error::TrainError;
use crate::optim::AdamW;

/// A batch's embeddings on this rank: `[b, D]` video and text rows (text without a gradient when its tower is
/// frozen), and per row the ids whose equal pairs are masked out of the negatives.
#[derive(Debug)]
pub struct Embedded {
    pub video: Tensor,
    pub text: Tensor,
    pub mask_ids: Option<Tensor>,
}

/// What a step did.
#[derive(Debug, Clone, Copy)]
pub struct Stepped {
    /// The loss of the (global) batch.
    pub loss: f64,
    pub grad_norm: f64,
}

/// Loss, backward, (cross-rank sums,) clipping and the AdamW update at `lr`.
pub fn optimize(
    batch: Embedded,
    temp: &Tensor,
    optimizer: &mut AdamW,
    (lr, grad_clip): (f64, f64),
    dp: Option<&mut DataParallel>,
) -> Result<Stepped, TrainError> {
    optimizer.zero_grad();
    let loss = match dp {
        None => {
            let loss = info_nce(&batch.video, &batch.text, temp, batch.mask_ids.as_ref());
            loss.backward();
            loss.double_value(&[])
        }
        Some(dp) => global_backward(batch, temp, dp)?,
    };
    let grad_norm = optimizer.clip_grad_norm(grad_clip);
    optimizer.step(lr);
    Ok(Stepped { loss, grad_norm })
}

/// The data-parallel backward: leaves the summed gradient of the global loss in every rank's parameters and
/// returns the global loss.
fn global_backward(batch: Embedded, temp: &Tensor, dp: &mut DataParallel) -> Result<f64, TrainError> {
    let device = batch.video.device();
    let b = batch.video.size()[0];
    let video = dp.gather_rows(&batch.video)?;
    let text = dp.gather_rows(&batch.text)?;
    let ids = match &batch.mask_ids {
        Some(mine) => {
            let mine = mine.to_device(device);
            let all = dp.gather_rows(&mine)?.all;
            Some((mine, all))
        }
        None => None,
    };
    let text_learns = batch.text.requires_grad();
    let leaf = |t: &Tensor, learns: bool| t.detach().set_requires_grad(learns);
    let (my_video, all_video) = (leaf(&batch.video, true), leaf(&video.all, true));
    let (my_text, all_text) = (leaf(&batch.text, text_learns), leaf(&text.all, text_learns));
    let share = info_nce_share(
        (&my_video, &my_text),
        (&all_video, &all_text),
        temp,
        video.offset,
        ids.as_ref().map(|(mine, all)| (mine, all)),
    );
    share.backward();
    // Each rank's rows were negatives (and positives) of every rank's share: their gradient is the sum over ranks
    // of the gathered copies' gradients, plus this rank's direct one.
    let mut rows_grad = |mine: &Tensor, all: &Tensor| -> Result<Tensor, TrainError> {
        let mut keys = all.grad().contiguous();
        dp.sum(&mut keys)?;
        Ok(keys.narrow(0, video.offset, b) + mine.grad())
    };
    let mut surrogate = (&batch.video * rows_grad(&my_video, &all_video)?).sum(batch.video.kind());
    if text_learns {
        surrogate += (&batch.text * rows_grad(&my_text, &all_text)?).sum(batch.text.kind());
    }
    surrogate.backward();
    dp.sum_gradients()?;
    dp.sum_scalar(share.double_value(&[]), device)
}
