//! `clipstream hydrate`: released InternVid-style metadata (YouTube ids + timestamps) to shards, fetching each
//! video once and cutting the listed clips.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::{Args, ValueEnum};
use clipstream_schemas::config::CutMode;

use crate::config::ConfigArgs;
use crate::dataset::hydrate::{HydrateOptions, LocatorOptions, run};

/// How clips are cut (overrides `cut.mode`; hydrate defaults to precise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HydrateCut {
    /// Re-encode exactly the listed frames.
    Precise,
    /// Stream copy from the keyframe before each clip (fast; may start early).
    Keyframe,
    /// No clip files, frames only.
    None,
}

#[derive(Debug, Args)]
pub struct HydrateArgs {
    /// Released-style metadata: jsonl (one InternVid row per line) or parquet with the same columns.
    #[arg(long, short = 'i')]
    input: PathBuf,
    /// Output root: a directory, file://, s3://bucket/prefix, gs://..., az://...
    #[arg(long, short = 'o')]
    output: String,
    /// Folder holding the videos as `{YoutubeID}.{mp4,webm,mkv,...}`.
    #[arg(long)]
    video_root: Option<PathBuf>,
    /// URL or path with `{id}`, e.g. `https://mirror.example/{id}.mp4` or `s3://bucket/videos/{id}.mp4`.
    #[arg(long)]
    url_template: Option<String>,
    /// Download ids not found otherwise from YouTube with yt-dlp (the default when neither --video-root nor
    /// --url-template is given).
    #[arg(long)]
    youtube: bool,
    /// The yt-dlp program.
    #[arg(long, default_value = "yt-dlp")]
    yt_dlp: String,
    #[arg(long, value_enum, default_value_t = HydrateCut::Precise)]
    cut: HydrateCut,
    /// Worker threads (videos processed at once).
    #[arg(short = 'w', long, default_value_t = 2)]
    workers: usize,
    /// Input MiB per group-by bucket: the grouping pass holds about this much in memory at once.
    #[arg(long, default_value_t = 256)]
    group_bucket_mib: u64,
    /// Recompute `sim_score` and `aesthetic_score` with the score stage (the config's [score] section: models,
    /// frames, thresholds) instead of keeping the listed scores; the listed caption is the text scored.
    #[arg(long)]
    rescore: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

impl HydrateArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let mut config = self.config.load()?;
        if self.rescore {
            crate::torch::require(&config.score)?;
        }
        config.cut.mode = match self.cut {
            HydrateCut::Precise => CutMode::Precise,
            HydrateCut::Keyframe => CutMode::Keyframe,
            HydrateCut::None => CutMode::None,
        };
        let options = HydrateOptions {
            input: self.input.clone(),
            output: self.output,
            config,
            locate: LocatorOptions {
                video_root: self.video_root,
                url_template: self.url_template,
                youtube: self.youtube,
            },
            ytdlp: self.yt_dlp,
            workers: self.workers,
            bucket_bytes: self.group_bucket_mib.max(1) << 20,
            rescore: self.rescore,
        };
        let summary = run(options).with_context(|| format!("hydrating {}", self.input.display()))?;
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
        Ok(ExitCode::SUCCESS)
    }
}
