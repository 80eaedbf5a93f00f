//! The score stage's models as `clipstream_jobs::torch::ModelStages`: the curate and hydrate code of
//! `clipstream-jobs` runs them without naming a tch type.

use std::sync::Arc;

use anyhow::Context;
use clipstream_caption::{CaptionError, Captioner, TagsCaptioner};
use clipstream_jobs::torch::ModelStages;
use clipstream_schemas::config::{ScoreConfig, TagsConfig};
use clipstream_schemas::{CuratedVideo, ErrorRecord};
use clipstream_score::{Answer, ScoreBatcher, ScoreModels};

/// The models of every device, and the batcher whose threads run them.
struct Loaded {
    /// The first device's models: hydrate's per-video scoring and the `tags` captioner use them.
    first: ScoreModels,
    batcher: ScoreBatcher,
}

impl ModelStages for Loaded {
    fn score_video(&self, config: &ScoreConfig, video: CuratedVideo) -> Result<CuratedVideo, ErrorRecord> {
        clipstream_score::score_video(&self.first, config, video)
    }

    fn start_scoring(&self, video: CuratedVideo, answer: Answer) {
        self.batcher.submit(video, answer);
    }

    fn tags_captioner(&self, config: &TagsConfig, frames: usize) -> Result<Box<dyn Captioner>, CaptionError> {
        Ok(Box::new(TagsCaptioner::new(self.first.zero_shot()?, config, frames)?))
    }
}

/// Loads what `config` asks for, once per process: one instance per device of `score.devices`.
pub fn load(config: &ScoreConfig) -> anyhow::Result<Arc<dyn ModelStages>> {
    let instances = ScoreModels::load_all(config)?;
    let first = instances.first().cloned().context("score.devices names no device")?;
    let batcher = ScoreBatcher::start(instances, config).context("starting the score threads")?;
    Ok(Arc::new(Loaded { first, batcher }))
}
