//! `clipstream synth`: procedural multi-shot videos with known cut frames and per-shot captions.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::out::outln;
use anyhow::Context;
use clap::Args;
use clipstream_media::synth::{SynthSpec, SynthVideo, write_dataset};

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output directory for `{name}.mp4` files, `ground_truth.jsonl`, and `requests.jsonl` (a curate input whose
    /// rows carry the per-shot captions and categories as timed `segments`).
    #[arg(long)]
    out: PathBuf,
    /// Number of videos.
    #[arg(long, default_value_t = 8)]
    videos: usize,
    /// Seed; the same seed renders the same videos (the encoded files may differ slightly, see the README).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Frame width and height in pixels (even; small sizes make fast test data).
    #[arg(long, default_value_t = SynthSpec::default().width)]
    width: u32,
    #[arg(long, default_value_t = SynthSpec::default().height)]
    height: u32,
    /// Frames per second.
    #[arg(long, default_value_t = SynthSpec::default().fps)]
    fps: u32,
    /// Probability that a shot (from the third on) retakes the shot before last (same caption, shapes nudged):
    /// near-duplicate clips within a video, for the false-negative experiment.
    #[arg(long, default_value_t = SynthSpec::default().repeat_ratio)]
    repeat_ratio: f64,
    /// Shots per video, drawn uniformly from `min_shots..=max_shots` (many shots make many clips per video, as
    /// the long videos of real datasets have).
    #[arg(long, default_value_t = SynthSpec::default().min_shots)]
    min_shots: u32,
    #[arg(long, default_value_t = SynthSpec::default().max_shots)]
    max_shots: u32,
    /// Videos rendered and encoded at once (default: the CPU cores); what the videos show does not depend on it.
    #[arg(long)]
    workers: Option<usize>,
}

impl SynthArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        anyhow::ensure!(
            1 <= self.min_shots && self.min_shots <= self.max_shots,
            "--min-shots {} and --max-shots {} must satisfy 1 <= min <= max",
            self.min_shots,
            self.max_shots
        );
        let spec = SynthSpec {
            seed: self.seed,
            videos: self.videos,
            width: self.width,
            height: self.height,
            fps: self.fps,
            repeat_ratio: self.repeat_ratio,
            min_shots: self.min_shots,
            max_shots: self.max_shots,
            ..SynthSpec::default()
        };
        let workers = self.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        anyhow::ensure!(workers >= 1, "--workers must be at least 1");
        let videos =
            write_dataset(&spec, &self.out, workers).with_context(|| format!("writing to {}", self.out.display()))?;
        let shots: usize = videos.iter().map(|v| v.shots.len()).sum();
        let requests = self.out.join("requests.jsonl");
        let lines: Vec<String> = videos.iter().map(|video| request_line(&self.out, video).to_string()).collect();
        std::fs::write(&requests, lines.join("\n") + "\n")
            .with_context(|| format!("writing {}", requests.display()))?;
        outln!(
            "wrote {} videos ({shots} shots), ground_truth.jsonl and requests.jsonl to {}",
            videos.len(),
            self.out.display()
        )?;
        Ok(ExitCode::SUCCESS)
    }
}

/// One curate request: the video's absolute path, its name as id, and its shots as timed segments.
fn request_line(dir: &std::path::Path, video: &SynthVideo) -> serde_json::Value {
    let fps = f64::from(video.fps.max(1));
    let path = std::path::absolute(dir.join(&video.path)).unwrap_or_else(|_| dir.join(&video.path));
    let segments: Vec<serde_json::Value> = video
        .shots
        .iter()
        .map(|shot| {
            serde_json::json!({
                "start_s": shot.start_frame as f64 / fps,
                "end_s": shot.end_frame as f64 / fps,
                "caption": shot.caption,
                "category": shot.category,
            })
        })
        .collect();
    serde_json::json!({"url": path.display().to_string(), "id": video.video, "segments": segments})
}
