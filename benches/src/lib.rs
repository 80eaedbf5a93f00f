//! Shared helpers of the benches: where the real test videos are cached (see `scripts/fetch-testdata`).

use std::path::PathBuf;

/// The folder `scripts/fetch-testdata` fills (`$CLIPSTREAM_TESTDATA` or `.cache/testdata` in the repository).
pub fn testdata_dir() -> PathBuf {
    std::env::var_os("CLIPSTREAM_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/testdata"))
}

/// The cached real videos present on this machine, sorted by name.
pub fn real_videos() -> Vec<PathBuf> {
    let mut videos: Vec<PathBuf> = std::fs::read_dir(testdata_dir())
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ["mp4", "mpg", "avi"].iter().any(|e| ext == *e)))
        .collect();
    videos.sort();
    videos
}

/// The `--flag value` pairs of an example's command line (cargo bench's own `--bench` left out).
pub fn flag_values() -> Result<Vec<(String, String)>, String> {
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut pairs = Vec::new();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        pairs.push((flag, value));
    }
    Ok(pairs)
}

/// `value` of `flag` as a number.
pub fn number(flag: &str, value: &str) -> Result<f64, String> {
    value.parse::<f64>().map_err(|e| format!("{flag} {value}: {e}"))
}

/// A comma-separated list of batch sizes.
pub fn batches(flag: &str, value: &str) -> Result<Vec<i64>, String> {
    value.split(',').map(|b| number(flag, b).map(|n| n as i64)).collect()
}

/// `cuda` or `cpu`; CUDA must be there when asked for.
pub fn device(value: &str) -> Result<tch::Device, String> {
    match value {
        "cuda" if tch::Cuda::is_available() => Ok(tch::Device::Cuda(0)),
        "cuda" => Err("CUDA is not available".into()),
        "cpu" => Ok(tch::Device::Cpu),
        other => Err(format!("--device {other}: cpu or cuda")),
    }
}

/// Calls `call` `warmup` times (kernels are chosen and memory pools grow on the first calls), then again until
/// `seconds` have passed, at least once, waiting for `device` after each call; returns the timed calls and their
/// seconds.
pub fn timed_calls<E>(
    device: tch::Device,
    seconds: f64,
    warmup: usize,
    mut call: impl FnMut() -> Result<(), E>,
) -> Result<(u64, f64), E> {
    let synchronize = || {
        if let tch::Device::Cuda(index) = device {
            tch::Cuda::synchronize(index as i64);
        }
    };
    for _ in 0..warmup {
        call()?;
        synchronize();
    }
    let (mut calls, started) = (0_u64, std::time::Instant::now());
    while started.elapsed().as_secs_f64() < seconds || calls == 0 {
        call()?;
        synchronize();
        calls += 1;
    }
    Ok((calls, started.elapsed().as_secs_f64()))
}
