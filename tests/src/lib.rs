//! Test harness shared by the end-to-end tests: locating the binary, the Python tools and the real test videos,
//! and running commands with readable failures.

pub mod kafka;
pub mod services;
pub mod slow_http;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, bail};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `clipstream` binary built by `cargo test` (`$CLIPSTREAM_BIN` overrides).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("CLIPSTREAM_BIN") {
        return bin.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from);
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    target.join(profile).join("clipstream")
}

/// The Python interpreter with PySceneDetect, webdataset and pyarrow (`$CLIPSTREAM_PYTHON` or `.venv`).
pub fn python() -> anyhow::Result<PathBuf> {
    let python =
        std::env::var_os("CLIPSTREAM_PYTHON").map_or_else(|| repo_root().join(".venv/bin/python"), PathBuf::from);
    if !python.exists() {
        bail!("{} is missing: run scripts/setup (scripts/test does)", python.display());
    }
    Ok(python)
}

/// Folder of the real test videos (`$CLIPSTREAM_TESTDATA` or `.cache/testdata`).
pub fn testdata() -> PathBuf {
    std::env::var_os("CLIPSTREAM_TESTDATA").map_or_else(|| repo_root().join(".cache/testdata"), PathBuf::from)
}

/// One real test video by name; fails with a hint when the cache is empty.
pub fn real_video(name: &str) -> anyhow::Result<PathBuf> {
    let path = testdata().join(name);
    if !path.exists() {
        bail!("{} is missing: run scripts/fetch-testdata (scripts/test does)", path.display());
    }
    Ok(path)
}

/// Runs `command`, failing with its stderr unless it exits 0.
pub fn run_ok(command: &mut Command) -> anyhow::Result<Output> {
    let output = command.output().with_context(|| format!("starting {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} exited with {}\nstdout:\n{}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(output)
}

/// Every error record under `errors/` of a local output (none when the folder does not exist).
pub fn error_records(output: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut records = Vec::new();
    let Ok(entries) = std::fs::read_dir(output.join("errors")) else { return Ok(records) };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            for line in std::fs::read_to_string(&path)?.lines().filter(|l| !l.trim().is_empty()) {
                records.push(serde_json::from_str(line).with_context(|| format!("a record in {}", path.display()))?);
            }
        }
    }
    Ok(records)
}

/// Lets Kafka messages of `command` name local files under `root` (`fetch.local_roots`; untrusted requests may not
/// name local files elsewhere).
pub fn allow_local_files<'c>(command: &'c mut Command, root: &Path) -> &'c mut Command {
    command.env("CLIPSTREAM__FETCH__LOCAL_ROOTS", format!("[{:?}]", root.display().to_string()))
}

/// A `clipstream` command with quiet logs and no metrics port clash.
///
/// Panics with a hint when the binaries have not been built (scripts/test builds them).
pub fn clipstream() -> Command {
    let binary = binary();
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p clipstream-jobs -p clipstream-torch` (scripts/test does)",
        binary.display()
    );
    let mut command = Command::new(binary);
    command.env("RUST_LOG", "warn");
    command
}

/// Runs `clipstream synth` into `dir` and returns the parsed ground truth lines.
pub fn synth(dir: &Path, videos: usize, seed: u64) -> anyhow::Result<Vec<serde_json::Value>> {
    run_ok(
        clipstream().args(["synth", "--videos", &videos.to_string(), "--seed", &seed.to_string(), "--out"]).arg(dir),
    )?;
    let text = std::fs::read_to_string(dir.join("ground_truth.jsonl")).context("reading ground_truth.jsonl")?;
    text.lines().map(|line| serde_json::from_str(line).context("ground truth line")).collect()
}

/// Reads an output folder back with Python webdataset + pyarrow (tests/python/check_output.py); its JSON report.
pub fn read_back(output: &Path) -> anyhow::Result<serde_json::Value> {
    let script = repo_root().join("tests/python/check_output.py");
    let out = run_ok(Command::new(python()?).arg(script).arg(output))?;
    serde_json::from_slice(&out.stdout).context("checker output is JSON")
}

/// How many committed manifests of the output folder list each video key.
pub fn committed_counts(output: &Path) -> anyhow::Result<std::collections::BTreeMap<String, usize>> {
    let mut counts = std::collections::BTreeMap::new();
    let dir = output.join("manifests");
    if !dir.exists() {
        return Ok(counts);
    }
    for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let manifest: clipstream_schemas::ShardManifest =
            serde_json::from_slice(&std::fs::read(&path)?).with_context(|| format!("parsing {}", path.display()))?;
        for key in manifest.video_keys {
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    Ok(counts)
}
