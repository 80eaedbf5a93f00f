//! The line between the `clipstream` binary, which never loads libtorch, and `clipstream-torch` (crate
//! `clipstream-torch`), the same command line linked with the model code. Commands that run a model (train, eval,
//! convert, and curate or hydrate with a score model) hand over to `clipstream-torch` by `exec` with the same
//! arguments; everything else runs without paying libtorch's start-up (about 0.35 s and 450 MB of resident memory).
//!
//! `clipstream-torch` registers its model loader ([`register`]) before it parses the command line; the curate and
//! hydrate code asks [`load`] for the score stage's models and never names a tch type.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use clipstream_caption::{CaptionError, Captioner};
use clipstream_schemas::config::{ScoreConfig, TagsConfig};
use clipstream_schemas::{CuratedVideo, ErrorRecord};

/// Names the libtorch binary instead of the one next to `clipstream`.
pub const BINARY_ENV: &str = "CLIPSTREAM_TORCH";
/// Set on the handed-over process, so that a misconfigured [`BINARY_ENV`] cannot loop.
const HANDED_OVER_ENV: &str = "CLIPSTREAM_HANDED_OVER";
/// libgomp's wait policy (libtorch's CPU threads), read once when the library loads.
const OMP_WAIT_POLICY: &str = "OMP_WAIT_POLICY";
/// The libtorch binary's file name, next to `clipstream`.
const BINARY_NAME: &str = "clipstream-torch";
/// What needs libtorch in a curate or hydrate run, for the errors.
const SCORE_MODEL: &str = "a score model (score.similarity or score.aesthetic_weights)";

/// The model stages of a curate or hydrate run, loaded once per process and shared by its workers.
pub trait ModelStages: Send + Sync {
    /// Scores the clips of one video and applies the score filter (the score stage).
    fn score_video(&self, config: &ScoreConfig, video: CuratedVideo) -> Result<CuratedVideo, ErrorRecord>;

    /// Queues `video` for the process's score batcher (clips of all workers' videos pooled into model batches of
    /// `score.batch_size`, one model instance per device) and returns at once; `answer` gets the scored video.
    fn start_scoring(&self, video: CuratedVideo, answer: Box<dyn FnOnce(Result<CuratedVideo, ErrorRecord>) + Send>);

    /// A `tags` captioner on the score stage's similarity model.
    fn tags_captioner(&self, config: &TagsConfig, frames: usize) -> Result<Box<dyn Captioner>, CaptionError>;
}

/// Loads the models a score configuration asks for (at least one).
pub type Loader = fn(&ScoreConfig) -> anyhow::Result<Arc<dyn ModelStages>>;

static LOADER: OnceLock<Loader> = OnceLock::new();

/// Makes this process the one that runs models (called by `clipstream-torch` at start).
pub fn register(loader: Loader) {
    // A second registration keeps the first: there is one loader per binary.
    let _ = LOADER.set(loader);
}

/// Hands the command over to `clipstream-torch` (see [`handoff`]) when `config` runs a model and this binary has
/// none; commands call it before they start anything (a metrics listener, workers).
pub fn require(config: &ScoreConfig) -> anyhow::Result<()> {
    if config.enabled() && LOADER.get().is_none() {
        return Err(handoff(SCORE_MODEL));
    }
    Ok(())
}

/// The models of `config`: `None` when the score stage is off. In the `clipstream` binary a configuration with a
/// model hands the whole command over to `clipstream-torch` (this call does not return then).
pub fn load(config: &ScoreConfig) -> anyhow::Result<Option<Arc<dyn ModelStages>>> {
    if !config.enabled() {
        return Ok(None);
    }
    let Some(loader) = LOADER.get() else { return Err(handoff(SCORE_MODEL)) };
    loader(config).context("loading the score models").map(Some)
}

/// Replaces this process by `clipstream-torch` with the same arguments; returns only the reason it could not.
/// `what` names what needs libtorch, for the error.
pub fn handoff(what: &str) -> anyhow::Error {
    if std::env::var_os(HANDED_OVER_ENV).is_some() {
        return anyhow::anyhow!(
            "{what} needs libtorch, but this binary was already handed the command and has no models: {BINARY_ENV} \
             must name clipstream-torch"
        );
    }
    match binary() {
        Ok(binary) => exec(what, &binary),
        Err(error) => error.context(format!("{what} needs libtorch")),
    }
}

/// Execs `binary` with this process's arguments unless it is missing.
fn exec(what: &str, binary: &std::path::Path) -> anyhow::Error {
    if !binary.is_file() {
        return anyhow::anyhow!(
            "{what} needs libtorch, which is linked into {} (missing): build it with `cargo build --release -p \
             clipstream-torch`, or set {BINARY_ENV}",
            binary.display()
        );
    }
    tracing::debug!(binary = %binary.display(), "handing over to the libtorch binary");
    let mut command = std::process::Command::new(binary);
    command.arg0("clipstream").args(std::env::args_os().skip(1)).env(HANDED_OVER_ENV, "1");
    if std::env::var_os(OMP_WAIT_POLICY).is_none() {
        // libtorch's CPU threads sleep between parallel regions instead of spinning, so that the loader's decode
        // threads and the shard readers in the same process get the cores: CPU training 9% faster on 2 cores
        // (docs/benchmark.md). `OMP_WAIT_POLICY=active` brings the spinning back.
        command.env(OMP_WAIT_POLICY, "passive");
    }
    let error = command.exec();
    anyhow::anyhow!("{what} needs libtorch: starting {} failed: {error}", binary.display())
}

/// `$CLIPSTREAM_TORCH`, else `clipstream-torch` next to the running executable.
fn binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(BINARY_ENV) {
        return Ok(path.into());
    }
    let exe = std::env::current_exe().context("locating the running executable")?;
    Ok(exe.with_file_name(BINARY_NAME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_off_score_stage_needs_no_models() {
        let config = ScoreConfig::default();
        assert!(!config.enabled());
        assert!(load(&config).unwrap().is_none());
    }

    #[test]
    fn a_missing_libtorch_binary_is_a_clear_error() {
        let error = exec("clipstream train", std::path::Path::new("/nonexistent/clipstream-torch"));
        let message = error.to_string();
        assert!(message.contains("clipstream train needs libtorch"), "{message}");
        assert!(message.contains("cargo build --release -p clipstream-torch"), "{message}");
    }
}
