//! Embedding throughput of the score models: clips/s for an architecture at a frame count and a batch sweep, on
//! the CPU (fp32) or CUDA (bf16), with achieved TFLOP/s and MFU against a given peak. Random weights (throughput
//! does not depend on them). Prints one JSON object per configuration.
//!
//! `embed --arch viclip-l14 --frames 8 --batch 1,8,32 --device cuda --dtype bf16 --peak-tflops 989 --seconds 20`

use std::time::Instant;

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
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<f64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--arch" => args.arch = value,
            "--frames" => args.frames = number(&value)? as i64,
            "--batch" => {
                args.batches = value.split(',').map(|b| number(b).map(|n| n as i64)).collect::<Result<_, _>>()?
            }
            "--device" => args.device = if value == "cuda" { Device::Cuda(0) } else { Device::Cpu },
            "--dtype" => args.kind = if value == "bf16" { Kind::BFloat16 } else { Kind::Float },
            "--peak-tflops" => args.peak_tflops = number(&value)?,
            "--seconds" => args.seconds = number(&value)?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    if args.device != Device::Cpu && !tch::Cuda::is_available() {
        return Err("CUDA is not available".into());
    }
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
        let _ = model.embed_clips(&input)?;
        synchronize(args.device);
        let (mut clips, started) = (0_i64, Instant::now());
        while started.elapsed().as_secs_f64() < args.seconds || clips == 0 {
            let _ = model.embed_clips(&input)?;
            synchronize(args.device);
            clips += batch;
        }
        let elapsed = started.elapsed().as_secs_f64();
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

fn synchronize(device: Device) {
    if let Device::Cuda(index) = device {
        tch::Cuda::synchronize(index as i64);
    }
}
