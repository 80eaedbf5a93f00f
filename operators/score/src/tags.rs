//! The `tags` captioner (zero-shot, Tag2Text-like): the clip is embedded with the score model (coarse: the middle
//! frame as an image; fine: the stored frames as a clip) and the caption is composed greedily from the vocabulary:
//! the best object ("a circle"), then the best attribute for it ("a red circle"), then the best action ("a red
//! circle rotating"), each ranked by cosine similarity of the filled template. Text embeddings are cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clipstream_caption::captioner::coarse_frame;
use clipstream_caption::{CaptionError, Captioner};
use clipstream_schemas::ClipPayload;
use clipstream_schemas::config::TagsConfig;
use tch::{Device, Tensor};

use crate::metrics;
use crate::models::{ScoreModels, Similarity, lock};
use crate::pixels;
use crate::vocabulary::{Vocabulary, fill};
use clipstream_models::preprocess::FrameError;

pub struct TagsCaptioner {
    model: Arc<Mutex<Similarity>>,
    vocabulary: Vocabulary,
    template: String,
    frames: usize,
    cache: HashMap<String, Tensor>,
}

impl TagsCaptioner {
    /// Uses the similarity model of `models`; `frames` uniform stored frames make a fine-scale clip.
    pub fn new(models: &ScoreModels, config: &TagsConfig, frames: usize) -> Result<Self, CaptionError> {
        let model = models.similarity.clone().ok_or_else(|| {
            CaptionError::Setup("the tags captioner needs the score model (score.similarity and score.weights)".into())
        })?;
        let vocabulary = Vocabulary::load(&config.vocabulary).map_err(CaptionError::Setup)?;
        if !config.template.contains("{object}") {
            return Err(CaptionError::Setup(format!("caption.tags.template {:?} has no {{object}}", config.template)));
        }
        Ok(Self { model, vocabulary, template: config.template.clone(), frames: frames.max(1), cache: HashMap::new() })
    }

    /// Normalised embeddings [N, D] (CPU) of `texts`, computing only those not cached.
    fn embed(&mut self, model: &Similarity, texts: &[String]) -> Result<Tensor, CaptionError> {
        let context = model.model.context_length();
        let missing: Vec<&String> = texts.iter().filter(|t| !self.cache.contains_key(*t)).collect();
        if !missing.is_empty() {
            let ids =
                model.tokenizer.tokenize_batch(&missing, context).map_err(|e| CaptionError::Model(e.to_string()))?;
            let ids = Tensor::from_slice(&ids).view([missing.len() as i64, context as i64]);
            let embedded = model.model.embed_texts(&ids).map_err(model_error)?.to_device(Device::Cpu);
            for (row, text) in missing.into_iter().enumerate() {
                self.cache.insert(text.clone(), embedded.get(row as i64));
            }
        }
        let rows: Vec<Tensor> = texts.iter().map(|t| self.cache[t].shallow_clone()).collect();
        Ok(Tensor::stack(&rows, 0))
    }

    /// The candidate closest to `query` [D].
    fn best(&mut self, model: &Similarity, query: &Tensor, candidates: Vec<String>) -> Result<String, CaptionError> {
        let scores = self.embed(model, &candidates)?.matmul(query);
        let best = scores.argmax(0, false).int64_value(&[]) as usize;
        Ok(candidates.into_iter().nth(best).unwrap_or_default())
    }

    fn compose(&mut self, model: &Similarity, query: &Tensor) -> Result<String, CaptionError> {
        let template = self.template.clone();
        let objects = self.vocabulary.objects.iter().map(|o| fill(&template, "", o, "")).collect();
        let object_text = self.best(model, query, objects)?;
        let object = self.vocabulary.objects.iter().find(|o| fill(&template, "", o, "") == object_text).cloned();
        let object = object.unwrap_or_default();
        let attributes = self.vocabulary.attributes.iter().map(|a| fill(&template, a, &object, "")).collect();
        let with_attribute = self.best(model, query, attributes)?;
        let attribute = self.vocabulary.attributes.iter().find(|a| fill(&template, a, &object, "") == with_attribute);
        let attribute = attribute.cloned().unwrap_or_default();
        let actions = self.vocabulary.actions.iter().map(|act| fill(&template, &attribute, &object, act)).collect();
        self.best(model, query, actions)
    }

    fn caption_all(
        &mut self,
        clips: &[&ClipPayload],
        embed: impl Fn(&Similarity, &ClipPayload) -> Result<Tensor, CaptionError>,
    ) -> Vec<Result<String, CaptionError>> {
        let model = Arc::clone(&self.model);
        let model = lock(&model);
        let started = Instant::now();
        let captions = clips
            .iter()
            .map(|clip| embed(&model, clip).and_then(|query| self.compose(&model, &query.to_device(Device::Cpu))))
            .collect();
        metrics::observe_call("tags", clips.len(), started.elapsed());
        captions
    }
}

fn frames_error(error: FrameError) -> CaptionError {
    match error {
        FrameError::NoFrames => CaptionError::NoFrames,
        other => CaptionError::Model(other.to_string()),
    }
}

impl Captioner for TagsCaptioner {
    fn backend(&self) -> &'static str {
        "tags"
    }

    fn coarse(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
        self.caption_all(clips, |model, clip| {
            let jpeg = coarse_frame(clip).ok_or(CaptionError::NoFrames)?;
            let input = pixels::image(jpeg, model.model.image_size()).map_err(frames_error)?;
            Ok(model.model.embed_images(&input).map_err(model_error)?.get(0))
        })
    }

    fn fine(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
        let frames = self.frames;
        self.caption_all(clips, move |model, clip| {
            let input = pixels::clip_frames(&clip.frames_jpeg, frames, model.model.image_size(), model.model.device())
                .map_err(frames_error)?;
            Ok(model.model.embed_clips(&input.unsqueeze(0)).map_err(model_error)?.get(0))
        })
    }
}

/// A model that refused its input, as a caption failure.
fn model_error(error: tch::TchError) -> CaptionError {
    CaptionError::Model(error.to_string())
}
