//! Prints clipstream's scene cuts of videos as JSON, shaped like `scripts/pyscenedetect_cuts.py`'s output, with the
//! decode-inclusive speed (the fastest of `--repeat` runs, taking turns with the decode-only runs): `cargo run
//! --release -p clipstream-media --example scenes -- [--threads N] [--repeat N] [--swscale] [--scores]
//! [--threshold T] [--min-scene-len N] VIDEO...`.
//! Each entry also holds `decode_cpu_s`/`decode_wall_s`: the same video only decoded (same decoder, same threads,
//! frames discarded), the physical limit of a bit-exact detector; `kernels` is the SIMD level the detector ran.

use std::path::PathBuf;
use std::time::Instant;

use std::ops::ControlFlow;

use clipstream_media::VideoDecoder;
use clipstream_media::scene::{ColorPath, DetectOptions, detect_scenes_with};
use clipstream_schemas::config::SceneConfig;

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 ticks per second).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The fastest wall and CPU seconds of the runs of one piece of work.
struct Best {
    wall: f64,
    cpu: f64,
}

impl Best {
    fn new() -> Self {
        Self { wall: f64::INFINITY, cpu: f64::INFINITY }
    }

    /// Runs `work` once, keeping its time if it is the fastest so far.
    fn time<T>(
        &mut self,
        work: impl FnOnce() -> Result<T, clipstream_media::MediaError>,
    ) -> Result<T, clipstream_media::MediaError> {
        let (wall0, cpu0) = (Instant::now(), cpu_seconds());
        let result = work()?;
        self.wall = self.wall.min(wall0.elapsed().as_secs_f64());
        self.cpu = self.cpu.min(cpu_seconds() - cpu0);
        Ok(result)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = SceneConfig::default();
    let mut options = DetectOptions { threads: 1, color: ColorPath::Sampled, ..DetectOptions::default() };
    let mut with_scores = false;
    let mut repeat = 1usize;
    let mut videos = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--threads" => options.threads = value()?.parse()?,
            "--repeat" => repeat = value()?.parse::<usize>()?.max(1),
            "--threshold" => config.threshold = value()?.parse()?,
            "--min-scene-len" => config.min_scene_len = value()?.parse()?,
            "--swscale" => options.color = ColorPath::Swscale,
            "--scores" => with_scores = true,
            _ => videos.push(PathBuf::from(arg)),
        }
    }
    let mut out = serde_json::Map::new();
    for video in videos {
        // Detection and decoding alone take turns, so a machine whose speed drifts slows both alike.
        let (mut detect, mut decode) = (Best::new(), Best::new());
        let (mut scenes, mut format) = (None, None);
        for _ in 0..repeat {
            scenes = Some(detect.time(|| detect_scenes_with(&video, &config, options))?);
            format = Some(decode.time(|| {
                let mut decoder = VideoDecoder::open(&video, options.threads)?;
                decoder.for_each_frame(|_| ControlFlow::Continue(()))?;
                Ok(decoder.format())
            })?);
        }
        let (scenes, format) = (scenes.expect("ran at least once"), format.expect("ran at least once"));
        let (wall, cpu, decode_wall, decode_cpu) = (detect.wall, detect.cpu, decode.wall, decode.cpu);
        let mut entry = serde_json::json!({
            "cut_frames": scenes.cut_frames,
            "fps": scenes.fps,
            "frames": scenes.frames,
            "wall_s": wall,
            "cpu_s": cpu,
            "decode_wall_s": decode_wall,
            "decode_cpu_s": decode_cpu,
            "format": format!("{format:?}"),
            "kernels": format!("{:?}", clipstream_media::scene::simd::level()),
        });
        if with_scores {
            entry["scores"] = serde_json::json!(scenes.scores);
        }
        out.insert(video.display().to_string(), entry);
    }
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}
