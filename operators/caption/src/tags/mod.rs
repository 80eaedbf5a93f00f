//! The `tags` captioner (zero-shot, Tag2Text-like): the clip is embedded by a joint image-text model (coarse: the
//! middle frame as an image; fine: the stored frames as a clip) and the caption is composed greedily from the
//! vocabulary: the best object ("a circle"), then the best attribute for it ("a red circle"), then the best action
//! ("a red circle rotating"), each ranked by cosine similarity of the filled template. Text embeddings are cached.
//! The model comes from outside ([`ZeroShot`]; the score crate lends its similarity model), so this crate needs no
//! model runtime.

mod vocabulary;

use std::borrow::Cow;
use std::collections::HashMap;

use clipstream_schemas::ClipPayload;
use clipstream_schemas::config::TagsConfig;

use crate::captioner::{Captioner, coarse_frame, read};
use crate::error::CaptionError;
pub use vocabulary::{Vocabulary, fill};

/// What the tags captioner needs of a joint image-text model: L2-normalised embeddings of one space.
pub trait ZeroShot: Send {
    /// One embedding per JPEG image.
    fn embed_images(&self, jpegs: &[&[u8]]) -> Vec<Result<Vec<f32>, CaptionError>>;
    /// One embedding per clip, from `frames` uniform frames of its stored JPEGs.
    fn embed_clips(&self, clips: &[&[Vec<u8>]], frames: usize) -> Vec<Result<Vec<f32>, CaptionError>>;
    /// One embedding per text.
    fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CaptionError>;
}

pub struct TagsCaptioner<M> {
    model: M,
    vocabulary: Vocabulary,
    template: String,
    frames: usize,
    cache: HashMap<String, Vec<f32>>,
}

impl<M: ZeroShot> TagsCaptioner<M> {
    /// Captions with `model`; `frames` uniform stored frames make a fine-scale clip.
    pub fn new(model: M, config: &TagsConfig, frames: usize) -> Result<Self, CaptionError> {
        let vocabulary = Vocabulary::load(&config.vocabulary).map_err(CaptionError::Setup)?;
        if !config.template.contains("{object}") {
            return Err(CaptionError::Setup(format!("caption.tags.template {:?} has no {{object}}", config.template)));
        }
        Ok(Self { model, vocabulary, template: config.template.clone(), frames: frames.max(1), cache: HashMap::new() })
    }

    /// The index of the candidate closest to `query`, embedding only the candidates not cached.
    fn best(&mut self, query: &[f32], candidates: &[String]) -> Result<usize, CaptionError> {
        let missing: Vec<String> = candidates.iter().filter(|t| !self.cache.contains_key(*t)).cloned().collect();
        if !missing.is_empty() {
            let embedded = self.model.embed_texts(&missing)?;
            self.cache.extend(missing.into_iter().zip(embedded));
        }
        let score = |text: &String| self.cache[text].iter().zip(query).map(|(a, b)| a * b).sum::<f32>();
        let best = candidates
            .iter()
            .map(score)
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, s)| if s > best.1 { (i, s) } else { best });
        Ok(best.0)
    }

    /// The best object, then the best attribute for it, then the best action; every vocabulary list is non-empty
    /// ([`Vocabulary::load`]), so the indices are in range.
    fn compose(&mut self, query: &[f32]) -> Result<String, CaptionError> {
        let template = self.template.clone();
        let objects: Vec<String> = self.vocabulary.objects.iter().map(|o| fill(&template, "", o, "")).collect();
        let object = self.best(query, &objects)?;
        let object = self.vocabulary.objects[object].clone();
        let attributes: Vec<String> =
            self.vocabulary.attributes.iter().map(|a| fill(&template, a, &object, "")).collect();
        let attribute = self.best(query, &attributes)?;
        let attribute = self.vocabulary.attributes[attribute].clone();
        let mut actions: Vec<String> =
            self.vocabulary.actions.iter().map(|act| fill(&template, &attribute, &object, act)).collect();
        let action = self.best(query, &actions)?;
        Ok(actions.swap_remove(action))
    }

    fn compose_all(&mut self, queries: Vec<Result<Vec<f32>, CaptionError>>) -> Vec<Result<String, CaptionError>> {
        queries.into_iter().map(|query| query.and_then(|q| self.compose(&q))).collect()
    }
}

impl<M: ZeroShot> Captioner for TagsCaptioner<M> {
    fn backend(&self) -> &'static str {
        "tags"
    }

    fn coarse(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
        // A chunk of clips at a time, so a long video's frames are never all read back into memory at once.
        let mut queries = Vec::with_capacity(clips.len());
        for chunk in clips.chunks(CLIPS_PER_READ) {
            let frames: Vec<Result<Cow<'_, [u8]>, CaptionError>> =
                chunk.iter().map(|clip| coarse_frame(clip).ok_or(CaptionError::NoFrames).and_then(read)).collect();
            let present: Vec<&[u8]> = frames.iter().flatten().map(AsRef::as_ref).collect();
            let mut embedded = self.model.embed_images(&present).into_iter();
            for frame in frames {
                queries.push(frame.and_then(|_| embedded.next().unwrap_or(Err(CaptionError::NoFrames))));
            }
        }
        self.compose_all(queries)
    }

    fn fine(&mut self, clips: &[&ClipPayload]) -> Vec<Result<String, CaptionError>> {
        let mut queries = Vec::with_capacity(clips.len());
        for chunk in clips.chunks(CLIPS_PER_READ) {
            let stored: Vec<Result<Vec<Vec<u8>>, CaptionError>> = chunk
                .iter()
                .map(|clip| clip.frames_jpeg.iter().map(|jpeg| read(jpeg).map(Cow::into_owned)).collect())
                .collect();
            let readable: Vec<&[Vec<u8>]> = stored.iter().flatten().map(Vec::as_slice).collect();
            let mut embedded = self.model.embed_clips(&readable, self.frames).into_iter();
            for frames in stored {
                queries.push(frames.and_then(|_| embedded.next().unwrap_or(Err(CaptionError::NoFrames))));
            }
        }
        self.compose_all(queries)
    }
}

/// Clips whose frames are read back (from the spill file) and embedded together.
const CLIPS_PER_READ: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    /// A model whose space has one axis per word of the built-in vocabulary it knows: an image or clip embeds as
    /// the words its JPEG bytes spell (comma separated), a text as the words it contains.
    struct Words(Vec<&'static str>);

    impl Words {
        fn embed(&self, text: &str) -> Vec<f32> {
            let mut v: Vec<f32> = self.0.iter().map(|w| f32::from(text.split([' ', ',']).any(|t| t == *w))).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
            v.iter_mut().for_each(|x| *x /= norm);
            v
        }
    }

    impl ZeroShot for Words {
        fn embed_images(&self, jpegs: &[&[u8]]) -> Vec<Result<Vec<f32>, CaptionError>> {
            jpegs.iter().map(|j| Ok(self.embed(&String::from_utf8_lossy(j)))).collect()
        }

        fn embed_clips(&self, clips: &[&[Vec<u8>]], _frames: usize) -> Vec<Result<Vec<f32>, CaptionError>> {
            clips
                .iter()
                .map(|frames| match frames.first() {
                    Some(first) => Ok(self.embed(&String::from_utf8_lossy(first))),
                    None => Err(CaptionError::NoFrames),
                })
                .collect()
        }

        fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CaptionError> {
            Ok(texts.iter().map(|t| self.embed(t)).collect())
        }
    }

    fn clip(middle: &str, frames: &[&str]) -> ClipPayload {
        let mut clip = crate::fixtures::video(1).clips.remove(0);
        clip.middle_jpeg = middle.as_bytes().to_vec().into();
        clip.frames_jpeg = frames.iter().map(|f| f.as_bytes().to_vec().into()).collect();
        clip
    }

    #[test]
    fn captions_compose_the_best_object_attribute_and_action() {
        let words = Words(vec!["circle", "square", "red", "blue", "rotating", "jumping"]);
        let mut tags = TagsCaptioner::new(words, &TagsConfig::default(), 4).expect("built-in vocabulary");
        let a = clip("red,circle,rotating", &["blue,square,jumping"]);
        let empty = clip("", &[]);
        let coarse = tags.coarse(&[&a, &empty]);
        assert_eq!(coarse[0].as_deref().ok(), Some("a red circle rotating"));
        assert!(matches!(coarse[1], Err(CaptionError::NoFrames)));
        let fine = tags.fine(&[&a, &empty]);
        assert_eq!(fine[0].as_deref().ok(), Some("a blue square jumping"));
        assert!(matches!(fine[1], Err(CaptionError::NoFrames)));
        let config = TagsConfig { template: "a {attribute} thing".into(), ..TagsConfig::default() };
        assert!(TagsCaptioner::new(Words(vec![]), &config, 4).is_err(), "a template needs {{object}}");
    }
}
