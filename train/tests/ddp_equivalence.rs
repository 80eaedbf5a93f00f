//! Data-parallel equivalence on real processes over loopback (Gloo, fp32, CPU): 2 ranks with batch B each train
//! exactly like 1 process with batch 2B on the same data order: the same trainer step (`step::optimize`), the
//! same global same-video mask (ids shared across the ranks' halves), a trained text tower. The test binary
//! starts itself once per role. `scripts/bench-ddp` runs this comparison in release and prints its last line.
//! Knobs (for the bench): CLIPSTREAM_DDP_STEPS (20), CLIPSTREAM_DDP_BATCH (per rank, 4).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clipstream_models::Tokenizer;
use clipstream_schemas::config::TrainConfig;
use clipstream_train::ddp::DataParallel;
use clipstream_train::optim::{AdamW, AdamWConfig};
use clipstream_train::step::{Embedded, optimize};
use clipstream_train::trainer::{build_model, tokens};
use tch::{Device, Kind, Tensor};

const ROLE: &str = "CLIPSTREAM_DDP_ROLE";
const OUT: &str = "CLIPSTREAM_DDP_OUT";
const TEST: &str = "two_gloo_ranks_of_batch_b_train_like_one_process_of_batch_2b";

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config() -> TrainConfig {
    TrainConfig {
        arch: "viclip-tiny".into(),
        train_text: true,
        frames: 4,
        mask_ratio: 0.0,
        same_video_mask: true,
        dist_timeout_s: 60,
        dist_bucket_mb: 1,
        ..TrainConfig::default()
    }
}

/// One role: a rank of 2 (`WORLD_SIZE` set) training on its half of every global batch, or the reference
/// process training on all of it. Writes the per-step losses and the final parameters under `out`.
fn run_role(role: &str, out: &Path) {
    let (steps, b) = (knob("CLIPSTREAM_DDP_STEPS", 20), knob("CLIPSTREAM_DDP_BATCH", 4) as i64);
    let config = config();
    let mut joined = DataParallel::join(&config).expect("join");
    tch::manual_seed(0);
    let (vs, model) = build_model(&config, Device::Cpu).expect("model");
    let (rows, start) = match &mut joined {
        Some((dp, _)) => {
            dp.prepare(&vs).expect("broadcast and hooks");
            (b, b * dp.rank() as i64)
        }
        None => (2 * b, 0),
    };
    let mut dp = joined.map(|(dp, _)| dp);
    let mut optimizer = AdamW::new(&vs, AdamWConfig { weight_decay: config.weight_decay, ..AdamWConfig::default() });
    let tokenizer = Tokenizer::clip().expect("tokenizer");
    let (context, size) = (model.text.config().context_length as usize, model.vision.config().image_size);
    let words = ["red", "blue", "green", "circle", "square", "left", "right", "fast", "slow", "dot"];
    let mut losses = Vec::new();
    let started = Instant::now();
    for step in 0..steps as i64 {
        // The global batch of this step, the same in every process; each role takes its rows.
        tch::manual_seed(1000 + step);
        let frames = Tensor::randn([2 * b, config.frames as i64, 3, size, size], (Kind::Float, Device::Cpu));
        let captions: Vec<String> = (0..2 * b)
            .map(|i| {
                let at = |k: i64| words[((step * 7 + i * k) % words.len() as i64) as usize];
                format!("a {} {} moving {} {}", at(1), at(3), at(5), at(2))
            })
            .collect();
        // Groups of three rows share a video, across the ranks' halves too.
        let ids: Vec<i64> = (0..2 * b).map(|i| (step * 2 * b + i) / 3).collect();
        let mine = |t: &Tensor| t.narrow(0, start, rows);
        let video = model.vision.encode_video(&mine(&frames), 0.0, true).expect("video");
        let text_ids = tokens(&tokenizer, &captions[start as usize..(start + rows) as usize], context, Device::Cpu)
            .expect("tokens");
        let text = model.encode_text(&text_ids, true).expect("text");
        let batch = Embedded { video, text, mask_ids: Some(mine(&Tensor::from_slice(&ids))) };
        let lr = config.lr;
        let stepped =
            optimize(batch, &model.temperature(), &mut optimizer, (lr, config.grad_clip), dp.as_mut()).expect("step");
        losses.push(stepped.loss);
    }
    let seconds = started.elapsed().as_secs_f64();
    let comm = dp.as_mut().map_or(0.0, DataParallel::take_comm_seconds);
    let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::save_multi(&named, out.join(format!("{role}.ot"))).expect("save parameters");
    let record = serde_json::json!({"losses": losses, "seconds": seconds, "comm_seconds": comm, "rows": rows});
    std::fs::write(out.join(format!("{role}.json")), record.to_string()).expect("write losses");
}

fn spawn(role: &str, out: &Path, rank: Option<(usize, u16)>) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command.args(["--exact", TEST, "--nocapture", "--test-threads=1"]).env(ROLE, role).env(OUT, out);
    for name in ["RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"] {
        command.env_remove(name);
    }
    if let Some((rank, port)) = rank {
        command.env("RANK", rank.to_string()).env("WORLD_SIZE", "2").env("MASTER_ADDR", "127.0.0.1");
        command.env("MASTER_PORT", port.to_string());
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn role")
}

/// Waits for `child`, failing with its output if it fails or runs past `limit` (a hang guard).
fn finish(role: &str, mut child: Child, limit: Duration) {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{role} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    assert!(
        output.status.success(),
        "{role} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read(out: &Path, role: &str) -> (serde_json::Value, Vec<(String, Tensor)>) {
    let json = std::fs::read_to_string(out.join(format!("{role}.json"))).expect("losses");
    let params = Tensor::load_multi(out.join(format!("{role}.ot"))).expect("parameters");
    (serde_json::from_str(&json).expect("json"), params)
}

#[test]
fn two_gloo_ranks_of_batch_b_train_like_one_process_of_batch_2b() {
    if let Ok(role) = std::env::var(ROLE) {
        run_role(&role, &PathBuf::from(std::env::var(OUT).expect("out dir")));
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path();
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let limit = Duration::from_secs(600);
    let ranks = [spawn("rank0", out, Some((0, port))), spawn("rank1", out, Some((1, port)))];
    for (r, child) in ranks.into_iter().enumerate() {
        finish(&format!("rank {r}"), child, limit);
    }
    finish("reference", spawn("reference", out, None), limit);
    let (reference, reference_params) = read(out, "reference");
    let mut max_loss_diff = 0.0_f64;
    let mut max_param_diff = 0.0_f64;
    let reference_losses: Vec<f64> = serde_json::from_value(reference["losses"].clone()).expect("losses");
    for role in ["rank0", "rank1"] {
        let (record, params) = read(out, role);
        let losses: Vec<f64> = serde_json::from_value(record["losses"].clone()).expect("losses");
        assert_eq!(losses.len(), reference_losses.len());
        for (a, b) in losses.iter().zip(&reference_losses) {
            max_loss_diff = max_loss_diff.max((a - b).abs());
        }
        assert_eq!(params.len(), reference_params.len(), "the same parameters");
        for ((name, p), (other, q)) in params.iter().zip(&reference_params) {
            assert_eq!(name, other);
            max_param_diff = max_param_diff.max((p - q).abs().max().double_value(&[]));
        }
        println!(
            "{role}: {} rows/step, {:.3} s, {:.3} s in collectives",
            record["rows"], record["seconds"], record["comm_seconds"]
        );
    }
    println!("reference: {} rows/step, {:.3} s", reference["rows"], reference["seconds"]);
    let first = reference_losses.first().copied().unwrap_or(f64::NAN);
    let last = reference_losses.last().copied().unwrap_or(f64::NAN);
    println!("reference loss {first:.4} -> {last:.4}");
    println!(
        "ddp equivalence: max loss diff {max_loss_diff:.2e} over {} steps, max parameter diff {max_param_diff:.2e}, world 2",
        reference_losses.len()
    );
    assert!(last < first, "the run learns at all: {first} -> {last}");
    assert!(max_loss_diff < 1e-4, "losses differ by {max_loss_diff}");
    assert!(max_param_diff < 1e-4, "parameters differ by {max_param_diff}");
}
