//! `clipstream train` as a data-parallel run of 2 local processes (Gloo on loopback, torchrun's variables): rank 0
//! writes the log and the checkpoints, the global batch holds both ranks' clips and never two clips of one video
//! (each rank reads its own shards, and a video's clips are in one shard), both ranks resume at the checkpoint
//! step, the gradient sums start during the backward pass, and a rank that dies makes the other exit with a clear
//! error instead of hanging.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use clipstream_tests::{clipstream, run_ok};
use serde_json::Value;

const CLIPS_PER_SHARD: usize = 6;

fn curated(dir: &Path) -> anyhow::Result<String> {
    let input = dir.join("videos");
    run_ok(
        clipstream()
            .args(["synth", "--videos", "12", "--seed", "5", "--width", "160", "--height", "120", "--fps", "10"])
            .arg("--out")
            .arg(&input),
    )?;
    let output = dir.join("data");
    run_ok(
        clipstream()
            .args(["curate", "-w", "1", "--set", &format!("sink.max_shard_clips={CLIPS_PER_SHARD}"), "--input"])
            .arg(input.join("requests.jsonl"))
            .arg("--output")
            .arg(&output),
    )?;
    Ok(output.display().to_string())
}

struct Run<'a> {
    data: &'a str,
    checkpoints: &'a Path,
    port: u16,
    steps: u64,
    resume: bool,
    timeout_s: u64,
}

impl Run<'_> {
    fn rank(&self, rank: usize, log: &Path) -> anyhow::Result<Child> {
        let mut command: Command = clipstream();
        command.args(["train", "--data", self.data, "--frames", "4", "--batch-size", "4", "--train-text"]);
        command.args(["--steps", &self.steps.to_string(), "--set", "train.unmasked_steps=2"]);
        command.args(["--set", "train.warmup=2", "--set", "train.checkpoint_every=5"]);
        command.args(["--set", &format!("train.dist_timeout_s={}", self.timeout_s)]);
        command.arg("--checkpoints").arg(self.checkpoints).arg("--log").arg(log);
        if self.resume {
            command.arg("--resume");
        }
        command.env("RANK", rank.to_string()).env("WORLD_SIZE", "2").env("LOCAL_RANK", rank.to_string());
        command.env("MASTER_ADDR", "127.0.0.1").env("MASTER_PORT", self.port.to_string());
        Ok(command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?)
    }

    /// Both ranks to the end; their summaries.
    fn both(&self, logs: [&Path; 2]) -> anyhow::Result<[Value; 2]> {
        let children = [self.rank(0, logs[0])?, self.rank(1, logs[1])?];
        let mut summaries = Vec::new();
        for (rank, child) in children.into_iter().enumerate() {
            let (ok, stdout, stderr) = finish(child, Duration::from_secs(300))?;
            anyhow::ensure!(ok, "rank {rank} failed:\n{stdout}\n{stderr}");
            summaries.push(serde_json::from_str(&stdout).with_context(|| format!("rank {rank} summary: {stdout}"))?);
        }
        Ok([summaries.remove(0), summaries.remove(0)])
    }
}

/// Waits at most `limit` (a hang guard); (success, stdout, stderr).
fn finish(mut child: Child, limit: Duration) -> anyhow::Result<(bool, String, String)> {
    let started = Instant::now();
    while child.try_wait()?.is_none() {
        if started.elapsed() > limit {
            child.kill()?;
            anyhow::bail!("still running after {limit:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output()?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok((output.status.success(), text(&output.stdout), text(&output.stderr)))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn log_lines(path: &Path) -> anyhow::Result<Vec<Value>> {
    std::fs::read_to_string(path)?.lines().map(|l| serde_json::from_str(l).context("log line")).collect()
}

#[test]
fn two_ranks_train_together_resume_and_fail_cleanly() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = curated(dir.path())?;
    let shards = std::fs::read_dir(Path::new(&data).join("manifests"))?.count();
    assert!(shards >= 4, "several shards to share: {shards}");
    let checkpoints = dir.path().join("checkpoints");
    let logs: [PathBuf; 2] = [dir.path().join("rank0.jsonl"), dir.path().join("rank1.jsonl")];
    let run =
        Run { data: &data, checkpoints: &checkpoints, port: free_port()?, steps: 8, resume: false, timeout_s: 60 };
    let [zero, one] = run.both([&logs[0], &logs[1]])?;
    assert_eq!((zero["rank"].clone(), zero["world"].clone()), (Value::from(0), Value::from(2)));
    assert_eq!((one["rank"].clone(), one["steps"].clone()), (Value::from(1), Value::from(10)));
    assert_eq!(zero["last_loss"], one["last_loss"], "every rank logs the same global loss");
    assert!(zero["checkpoint"].is_string() && one["checkpoint"].is_null(), "rank 0 writes the checkpoints");
    assert!(!logs[1].exists(), "rank 0 writes the log");
    let lines = log_lines(&logs[0])?;
    assert_eq!(lines.len(), 10);
    for line in &lines {
        let (batch, global) =
            (line["batch"].as_u64().context("batch")?, line["global_batch"].as_u64().context("global")?);
        assert!(global > batch && global <= 8, "both ranks' clips are the negatives: {line}");
        assert_eq!(line["same_video_pairs"], 0, "clip-per-video holds over the global batch: {line}");
        assert!(line["buckets"].as_u64().is_some_and(|b| b >= 1), "gradients summed in buckets: {line}");
        if line["step"].as_u64() > Some(1) {
            assert_eq!(line["buckets_early"], line["buckets"], "every bucket starts during the backward pass: {line}");
        }
    }

    // Both ranks resume from rank 0's last checkpoint (step 10) and go on to 14.
    let resumed: [PathBuf; 2] = [dir.path().join("resumed0.jsonl"), dir.path().join("resumed1.jsonl")];
    let again = Run { port: free_port()?, steps: 12, resume: true, ..run };
    let [zero, _] = again.both([&resumed[0], &resumed[1]])?;
    assert_eq!(zero["steps"], 14);
    let lines = log_lines(&resumed[0])?;
    assert_eq!(lines.first().map(|l| l["step"].clone()), Some(Value::from(11)), "continues after the checkpoint");
    assert_eq!(lines.len(), 4);

    // Rank 1 dies after the first step: rank 0 stops with an error naming the failed collective, within its
    // timeout (not a hang).
    let dying = Run { checkpoints: &dir.path().join("dying"), port: free_port()?, steps: 1000, timeout_s: 20, ..again };
    let dying = Run { resume: false, ..dying };
    let survivor_log = dir.path().join("survivor.jsonl");
    let survivor = dying.rank(0, &survivor_log)?;
    let mut victim = dying.rank(1, &dir.path().join("victim.jsonl"))?;
    let started = Instant::now();
    while log_lines(&survivor_log).map_or(true, |l| l.is_empty()) {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "no step within 2 minutes");
        std::thread::sleep(Duration::from_millis(100));
    }
    victim.kill()?;
    victim.wait()?;
    let (ok, _, stderr) = finish(survivor, Duration::from_secs(120))?;
    assert!(!ok, "the survivor fails");
    assert!(stderr.contains("failed on rank 0"), "a clear error: {stderr}");
    Ok(())
}
