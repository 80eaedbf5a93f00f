//! Embedding throughput of the score models: clips/s for an architecture at a frame count and a batch sweep, on
//! the CPU (fp32) or CUDA (bf16), with achieved TFLOP/s and MFU against a given peak. Random weights (throughput
//! does not depend on them). Prints one JSON object per configuration.
//!
//! `embed --arch viclip-l14 --frames 8 --batch 1,8,32 --device cuda --dtype bf16 --peak-tflops 989 --seconds 20`

use clipstream_benches::{batches, device, flag_values, number, timed_calls};
use clipstream_models::{Arch, VideoTextModel, flops};
use tch::{Device, Kind, Tensor};

struct Args {
    arch: String,
    frames: i64,
    batches: Vec<i64>,
    device: Device,
    kind: Kind,
    peak_tflops: f64,
    seconds: f64,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        arch: "viclip-b16".into(),
        frames: 8,
        batches: vec![1, 4],
        device: Device::Cpu,
        kind: Kind::Float,
        peak_tflops: 0.0,
        seconds: 10.0,
    };
    for (flag, value) in flag_values()? {
        match flag.as_str() {
            "--arch" => args.arch = value,
            "--frames" => args.frames = number(&flag, &value)? as i64,
            "--batch" => args.batches = batches(&flag, &value)?,
            "--device" => args.device = device(&value)?,
            "--dtype" => args.kind = if value == "bf16" { Kind::BFloat16 } else { Kind::Float },
            "--peak-tflops" => args.peak_tflops = number(&flag, &value)?,
            "--seconds" => args.seconds = number(&flag, &value)?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    let arch = Arch::by_name(&args.arch)?;
    let (vision, frame_mean) = match &arch {
        Arch::Viclip(c) => (c.vision, false),
        Arch::Clip(c) => (c.vision, true),
        Arch::Aesthetic => return Err("not a video model".into()),
    };
    let mut model = VideoTextModel::new(&arch, args.device)?;
    if args.kind != Kind::Float {
        model.var_store_mut().set_kind(args.kind);
    }
    let per_clip = flops::vision_forward(&vision, args.frames, 0.0, frame_mean);
    let size = model.image_size();
    for &batch in &args.batches {
        let input = Tensor::randn([batch, args.frames, 3, size, size], (args.kind, args.device));
        let (calls, elapsed) = timed_calls(args.device, args.seconds, 1, || model.embed_clips(&input).map(drop))?;
        let clips = calls as i64 * batch;
        let clips_per_s = clips as f64 / elapsed;
        let tflops = clips_per_s * per_clip / 1e12;
        let mfu = if args.peak_tflops > 0.0 { tflops / args.peak_tflops } else { f64::NAN };
        println!(
            "{}",
            serde_json::json!({
                "arch": args.arch, "frames": args.frames, "batch": batch, "device": format!("{:?}", args.device),
                "dtype": format!("{:?}", args.kind), "threads": tch::get_num_threads(), "clips": clips,
                "seconds": elapsed, "clips_per_s": clips_per_s, "gflops_per_clip": per_clip / 1e9,
                "tflops": tflops, "mfu": if mfu.is_nan() { serde_json::Value::Null } else { mfu.into() },
            })
        );
    }
    Ok(())
}
