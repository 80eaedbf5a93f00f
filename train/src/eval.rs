//! Zero-shot retrieval of a checkpoint on held-out shards: every captioned clip's video (eval transform) and
//! caption are embedded; text-to-video and video-to-text R@1/5/10 and median rank over the whole set; zero-shot
//! classification over the clips' categories.

use clipstream_models::Tokenizer;
use clipstream_models::nn::normalize;
use clipstream_models::preprocess::{FrameTransform, Resize};
use clipstream_store::Output;
use serde::Serialize;
use tch::{Device, Kind, Tensor};

use super::checkpoint;
use super::classify::{Classification, classify, prompt};
use super::retrieval::{
    Ceiling, Confusion, Recall, caption_groups, confusions, diagonal_ranks, recall, same_caption_ranks,
};
use super::trainer::{build_model, copy_into, tokens};
use crate::error::TrainError;
use clipstream_store::read::ShardReader;

/// The retrieval report.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub checkpoint: String,
    pub step: u64,
    pub data: String,
    pub clips: usize,
    pub videos: usize,
    pub t2v: Recall,
    pub v2t: Recall,
    /// Text-to-video where any clip with the query's caption counts as a match.
    pub t2v_same_caption: Recall,
    /// What an oracle that knows every clip's caption reaches on these clips.
    pub ceiling: Ceiling,
    /// The most frequent word differences between a missed text-to-video query and the clip it ranked first.
    pub confusions: Vec<Confusion>,
    /// Zero-shot classification over the clips' categories (absent when fewer than 2 categories are present).
    pub classification: Option<Classification>,
}

/// Evaluates the checkpoint in `dir` of `checkpoints` ("" = the latest) on the shards of `data`, at most `limit`
/// clips (0 = all), `batch` clips per model call.
pub fn evaluate(
    checkpoints: &str,
    dir: &str,
    data: &str,
    limit: usize,
    batch: usize,
) -> Result<EvalReport, TrainError> {
    let store = Output::open(checkpoints)?;
    let loaded = if dir.is_empty() {
        checkpoint::load_latest(&store)?
            .ok_or_else(|| TrainError::NoCheckpoint { checkpoints: checkpoints.to_string() })?
    } else {
        checkpoint::load_dir(&store, dir)?
    };
    let device = Device::cuda_if_available();
    let (vs, model) = build_model(&loaded.state.config, device)?;
    copy_into(&vs, &loaded.model)?;
    let frames = loaded.state.config.frames;
    let size = model.vision.config().image_size;
    let transform = FrameTransform::new(size as usize, frames, Resize::VICLIP);
    let tokenizer = Tokenizer::clip()?;
    let context = model.text.config().context_length as usize;
    let (mut videos, mut texts, mut keys) = (Vec::new(), Vec::new(), std::collections::BTreeSet::new());
    let mut categories: Vec<Option<String>> = Vec::new();
    let mut pending: Vec<(Vec<f32>, String)> = Vec::new();
    let reader = ShardReader::committed(Output::open(data)?)?;
    let flush = |pending: &mut Vec<(Vec<f32>, String)>, videos: &mut Vec<Tensor>, texts: &mut Vec<Tensor>| {
        if pending.is_empty() {
            return Ok::<(), TrainError>(());
        }
        let n = pending.len() as i64;
        let pixels: Vec<f32> = pending.iter().flat_map(|(p, _)| p.iter().copied()).collect();
        let captions: Vec<String> = pending.iter().map(|(_, c)| c.clone()).collect();
        let input = Tensor::from_slice(&pixels).view([n, frames as i64, 3, size, size]).to_device(device);
        tch::no_grad(|| -> Result<(), TrainError> {
            videos.push(normalize(&model.encode_video(&input, false)?).to_device(Device::Cpu));
            let ids = tokens(&tokenizer, &captions, context, device)?;
            texts.push(normalize(&model.encode_text(&ids, false)?).to_device(Device::Cpu));
            Ok(())
        })?;
        pending.clear();
        Ok(())
    };
    let mut clips = 0;
    let mut captions = Vec::new();
    for sample in reader {
        let sample = sample?;
        let Ok(pixels) = transform.eval(&sample.frames) else {
            tracing::warn!(clip = %sample.key, "frames could not be decoded; left out of the evaluation");
            continue;
        };
        keys.insert(sample.video_key.clone());
        categories.push(sample.category);
        captions.push(sample.caption.clone());
        pending.push((pixels, sample.caption));
        clips += 1;
        if pending.len() >= batch.max(1) {
            flush(&mut pending, &mut videos, &mut texts)?;
        }
        if limit > 0 && clips >= limit {
            break;
        }
    }
    flush(&mut pending, &mut videos, &mut texts)?;
    if clips < 2 {
        return Err(TrainError::TooFewClips(data.to_string()));
    }
    let (v, t) = (Tensor::cat(&videos, 0).to_kind(Kind::Float), Tensor::cat(&texts, 0).to_kind(Kind::Float));
    let t2v = t.matmul(&v.transpose(0, 1));
    let (groups, ceiling) = caption_groups(&captions);
    let classes: Vec<String> =
        categories.iter().flatten().cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let classification = if classes.len() >= 2 {
        let labelled: Vec<(i64, i64)> = categories
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.as_ref().and_then(|c| classes.iter().position(|k| k == c)).map(|k| (i as i64, k as i64))
            })
            .collect();
        let rows = Tensor::from_slice(&labelled.iter().map(|(i, _)| *i).collect::<Vec<_>>());
        let labels: Vec<i64> = labelled.iter().map(|(_, k)| *k).collect();
        let prompts: Vec<String> = classes.iter().map(|c| prompt(c)).collect();
        let ids = tokens(&tokenizer, &prompts, context, device)?;
        let prompt_embeddings = tch::no_grad(|| model.encode_text(&ids, false))?;
        let prompt_embeddings = normalize(&prompt_embeddings).to_device(Device::Cpu);
        Some(classify(&v.index_select(0, &rows), &prompt_embeddings.to_kind(Kind::Float), &labels, classes))
    } else {
        None
    };
    Ok(EvalReport {
        checkpoint: format!("{checkpoints} step {}", loaded.state.step),
        step: loaded.state.step,
        data: data.to_string(),
        clips,
        videos: keys.len(),
        t2v: recall(&diagonal_ranks(&t2v)),
        v2t: recall(&diagonal_ranks(&t2v.transpose(0, 1))),
        t2v_same_caption: recall(&same_caption_ranks(&t2v, &groups)),
        ceiling,
        confusions: confusions(&t2v, &captions, 12),
        classification,
    })
}
