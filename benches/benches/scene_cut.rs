//! Criterion bench of scene_cut on the real test videos (`scripts/fetch-testdata`): decode-inclusive detection
//! throughput in frames, single-threaded decode (per-core numbers). `scripts/bench-scenes` compares with PySceneDetect.

use std::time::Duration;

use clipstream_benches::real_videos;
use clipstream_media::scene::{DetectOptions, detect_scenes_with};
use clipstream_schemas::config::SceneConfig;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn scene_cut(c: &mut Criterion) {
    let config = SceneConfig::default();
    let options = DetectOptions { threads: 1, ..DetectOptions::default() };
    let mut group = c.benchmark_group("scene_cut");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    for video in real_videos() {
        let name = video.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Ok(first) = detect_scenes_with(&video, &config, options) else { continue };
        group.throughput(Throughput::Elements(first.frames));
        group.bench_function(name, |b| {
            b.iter(|| detect_scenes_with(&video, &config, options).map(|scenes| scenes.cuts.len()))
        });
    }
    group.finish();
}

criterion_group!(benches, scene_cut);
criterion_main!(benches);
