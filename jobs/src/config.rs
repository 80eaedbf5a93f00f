//! Loading the layered configuration for a job: embedded defaults, `--config FILE`, `CLIPSTREAM__*` environment
//! variables, then `--set section.key=value` flags.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use clipstream_schemas::Config;

/// Flags shared by every command that reads the curate configuration.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// TOML config file (see `clipstream check-config --print-defaults`).
    #[arg(long, env = "CLIPSTREAM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Override one setting, e.g. `--set scene.threshold=30` (repeatable; wins over file and environment).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub sets: Vec<String>,
}

impl ConfigArgs {
    /// The validated configuration.
    pub fn load(&self) -> anyhow::Result<Config> {
        let text = match &self.config {
            Some(path) => {
                Some(std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?)
            }
            None => None,
        };
        clipstream_schemas::config::load(text.as_deref(), std::env::vars(), &self.sets).with_context(|| {
            match &self.config {
                Some(path) => format!("configuration from {}", path.display()),
                None => "configuration".to_string(),
            }
        })
    }
}
