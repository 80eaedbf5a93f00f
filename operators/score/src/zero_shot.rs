//! The similarity model lent to the `tags` captioner (`clipstream_caption::ZeroShot`): embeddings of images, clips
//! and texts as plain vectors, the shared model locked once per call, each image or clip call counted as a `tags`
//! model call.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use clipstream_caption::{CaptionError, ZeroShot};
use clipstream_models::preprocess::FrameError;
use tch::{Device, Kind, Tensor};

use crate::metrics;
use crate::models::{ScoreModels, Similarity, lock};
use crate::pixels;

/// The process's similarity model, as the tags captioner sees it.
pub struct SharedSimilarity(Arc<Mutex<Similarity>>);

impl ScoreModels {
    /// The similarity model for the tags captioner; an error when none is loaded.
    pub fn zero_shot(&self) -> Result<SharedSimilarity, CaptionError> {
        self.similarity.clone().map(SharedSimilarity).ok_or_else(|| {
            CaptionError::Setup("the tags captioner needs the score model (score.similarity and score.weights)".into())
        })
    }
}

fn frames_error(error: FrameError) -> CaptionError {
    match error {
        FrameError::NoFrames => CaptionError::NoFrames,
        other => CaptionError::Model(other.to_string()),
    }
}

/// A model that refused its input, as a caption failure.
fn model_error(error: tch::TchError) -> CaptionError {
    CaptionError::Model(error.to_string())
}

/// The floats of an embedding tensor.
fn floats(embedding: &Tensor) -> Result<Vec<f32>, CaptionError> {
    let flat = embedding.to_device(Device::Cpu).to_kind(Kind::Float).flatten(0, -1);
    Vec::<f32>::try_from(&flat).map_err(model_error)
}

impl ZeroShot for SharedSimilarity {
    fn embed_images(&self, jpegs: &[&[u8]]) -> Vec<Result<Vec<f32>, CaptionError>> {
        let model = lock(&self.0);
        let started = Instant::now();
        let size = model.model.image_size();
        let embedded = jpegs
            .iter()
            .map(|jpeg| {
                let input = pixels::image(jpeg, size).map_err(frames_error)?;
                floats(&model.model.embed_images(&input).map_err(model_error)?.get(0))
            })
            .collect();
        metrics::observe_call("tags", jpegs.len(), started.elapsed());
        embedded
    }

    fn embed_clips(&self, clips: &[&[Vec<u8>]], frames: usize) -> Vec<Result<Vec<f32>, CaptionError>> {
        let model = lock(&self.0);
        let started = Instant::now();
        let (input, device) = (model.model.eval_input(), model.model.device());
        let embedded = clips
            .iter()
            .map(|stored| {
                let input = pixels::clip_frames(stored, frames, input, device).map_err(frames_error)?;
                floats(&model.model.embed_clips(&input.unsqueeze(0)).map_err(model_error)?.get(0))
            })
            .collect();
        metrics::observe_call("tags", clips.len(), started.elapsed());
        embedded
    }

    fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CaptionError> {
        let model = lock(&self.0);
        let context = model.model.context_length();
        let ids = model.tokenizer.tokenize_batch(texts, context).map_err(|e| CaptionError::Model(e.to_string()))?;
        let ids = Tensor::from_slice(&ids).view([texts.len() as i64, context as i64]);
        let embedded = model.model.embed_texts(&ids).map_err(model_error)?;
        (0..texts.len() as i64).map(|row| floats(&embedded.get(row))).collect()
    }
}
