//! The score stage's models as `clipstream_jobs::torch::ModelStages`: the curate and hydrate code of
//! `clipstream-jobs` runs them without naming a tch type.

use std::sync::Arc;

use clipstream_caption::{CaptionError, Captioner, TagsCaptioner};
use clipstream_jobs::torch::ModelStages;
use clipstream_schemas::config::{ScoreConfig, TagsConfig};
use clipstream_schemas::{CuratedVideo, ErrorRecord};
use clipstream_score::ScoreModels;

struct Loaded(ScoreModels);

impl ModelStages for Loaded {
    fn score_video(&self, config: &ScoreConfig, video: CuratedVideo) -> Result<CuratedVideo, ErrorRecord> {
        clipstream_score::score_video(&self.0, config, video)
    }

    fn score_videos(&self, config: &ScoreConfig, videos: Vec<CuratedVideo>) -> Vec<Result<CuratedVideo, ErrorRecord>> {
        clipstream_score::score_videos(&self.0, config, videos)
    }

    fn tags_captioner(&self, config: &TagsConfig, frames: usize) -> Result<Box<dyn Captioner>, CaptionError> {
        Ok(Box::new(TagsCaptioner::new(self.0.zero_shot()?, config, frames)?))
    }
}

/// Loads what `config` asks for, once per process.
pub fn load(config: &ScoreConfig) -> anyhow::Result<Arc<dyn ModelStages>> {
    Ok(Arc::new(Loaded(ScoreModels::load(config)?)))
}
