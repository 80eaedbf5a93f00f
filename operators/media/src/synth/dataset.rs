//! `write_dataset`: renders and encodes every video of a synthetic dataset and writes its ground truth.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::encode::{Mp4Settings, Mp4Writer};
use crate::error::MediaError;
use crate::synth::plan::{VideoPlan, plan_video};
use crate::synth::render::Renderer;
use crate::synth::spec::SynthSpec;
use crate::synth::truth::SynthVideo;

/// Name of the ground-truth file in the dataset directory: one JSON [`SynthVideo`] per line.
pub const GROUND_TRUTH_FILE: &str = "ground_truth.jsonl";

/// Renders `plan` into an H.264 mp4 at `path` with the spec's crf and preset.
pub fn write_video(plan: &VideoPlan, spec: &SynthSpec, path: &Path) -> Result<(), MediaError> {
    let fps = i32::try_from(plan.truth.fps).map_err(|_| MediaError::Invalid(format!("fps {}", plan.truth.fps)))?;
    let settings =
        Mp4Settings { crf: spec.crf, preset: spec.preset.clone(), ..Mp4Settings::new(plan.width, plan.height, fps) };
    let mut writer = Mp4Writer::create(path, &settings)?;
    let mut renderer = Renderer::new(plan);
    let mut rgb = Vec::new();
    for frame in 0..plan.truth.frames {
        renderer.render(frame, &mut rgb);
        writer.write_rgb24(&rgb, plan.width, plan.height)?;
    }
    writer.finish()?;
    Ok(())
}

/// Writes `out_dir/{name}.mp4` for every video of `spec` and `out_dir/ground_truth.jsonl`; returns the ground
/// truth in video order. Videos are rendered and encoded on `workers` threads (at least one), each taking the next
/// video not yet started; what a video shows depends only on the spec and its index, not on the number of workers.
pub fn write_dataset(spec: &SynthSpec, out_dir: &Path, workers: usize) -> Result<Vec<SynthVideo>, MediaError> {
    std::fs::create_dir_all(out_dir).map_err(|source| MediaError::Io { path: out_dir.to_path_buf(), source })?;
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || -> Result<Vec<(usize, SynthVideo)>, MediaError> {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= spec.videos {
                break;
            }
            let plan = plan_video(spec, index);
            if let Err(e) = write_video(&plan, spec, &out_dir.join(&plan.truth.path)) {
                failed.store(true, Ordering::Relaxed);
                return Err(e);
            }
            done.push((index, plan.truth));
        }
        Ok(done)
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.clamp(1, spec.videos.max(1))).map(|_| scope.spawn(work)).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut videos = Vec::with_capacity(spec.videos);
    for result in results {
        videos.extend(result?);
    }
    videos.sort_by_key(|(index, _)| *index);
    let videos: Vec<SynthVideo> = videos.into_iter().map(|(_, video)| video).collect();
    let path = out_dir.join(GROUND_TRUTH_FILE);
    let io = |source| MediaError::Io { path: path.clone(), source };
    let mut lines = Vec::new();
    for video in &videos {
        serde_json::to_writer(&mut lines, video).map_err(|e| MediaError::Invalid(format!("ground truth: {e}")))?;
        lines.push(b'\n');
    }
    let mut file = std::fs::File::create(&path).map_err(io)?;
    file.write_all(&lines).map_err(io)?;
    Ok(videos)
}
