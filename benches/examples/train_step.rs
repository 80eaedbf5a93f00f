//! Training throughput of ViCLIP: samples/s of the trainer's own step (the video tower's forward with token
//! masking, frozen-text embeddings as the trainer's text cache hands them out, symmetric InfoNCE with the learned
//! temperature, backward, gradient clipping, AdamW) for an architecture at a frame count, masking ratio, precision
//! and a batch sweep, with achieved TFLOP/s and MFU against a given peak. A step's FLOPs are 3x the video tower's
//! forward FLOPs at that masking ratio (forward + backward). Random weights and inputs (throughput does not depend
//! on them). Frames start in host memory as fp32, as the trainer's loader gives them (`--input host`, the
//! trainer's path), or already on the device (`--input device`, the model and optimiser alone). Prints one JSON
//! object per batch size.
//!
//! `train_step --arch viclip-b16 --frames 8 --mask 0.9 --batch 64,128 --device cuda --precision bf16
//!  --peak-tflops 989 --seconds 10`

use clipstream_benches::{batches, device, flag_values, number, timed_calls};
use clipstream_models::{Arch, flops};
use clipstream_schemas::config::{Precision, TrainConfig};
use clipstream_train::optim::{AdamW, AdamWConfig};
use clipstream_train::step::{Embedded, optimize};
use clipstream_train::trainer::build_model;
use tch::{Device, Kind, Tensor};

struct Args {
    arch: String,
    frames: i64,
    mask: f64,
    batches: Vec<i64>,
    device: Device,
    precision: Precision,
    on_device: bool,
    peak_tflops: f64,
    seconds: f64,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        arch: "viclip-b16".into(),
        frames: 8,
        mask: 0.9,
        batches: vec![8],
        device: Device::Cpu,
        precision: Precision::Fp32,
        on_device: false,
        peak_tflops: 0.0,
        seconds: 10.0,
    };
    for (flag, value) in flag_values()? {
        match flag.as_str() {
            "--arch" => args.arch = value,
            "--frames" => args.frames = number(&flag, &value)? as i64,
            "--mask" => args.mask = number(&flag, &value)?,
            "--batch" => args.batches = batches(&flag, &value)?,
            "--device" => args.device = device(&value)?,
            "--precision" => {
                args.precision = match value.as_str() {
                    "bf16" => Precision::Bf16,
                    "fp32" => Precision::Fp32,
                    other => return Err(format!("--precision {other}: bf16 or fp32")),
                }
            }
            "--input" => {
                args.on_device = match value.as_str() {
                    "device" => true,
                    "host" => false,
                    other => return Err(format!("--input {other}: host or device")),
                }
            }
            "--peak-tflops" => args.peak_tflops = number(&flag, &value)?,
            "--seconds" => args.seconds = number(&flag, &value)?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    let Arch::Viclip(arch) = Arch::by_name(&args.arch)? else {
        return Err(format!("{} is not ViCLIP", args.arch).into());
    };
    let config = TrainConfig {
        arch: args.arch.clone(),
        mask_ratio: args.mask,
        precision: args.precision,
        ..TrainConfig::default()
    };
    tch::manual_seed(0);
    let (vs, model) = build_model(&config, args.device)?;
    let mut optimizer = AdamW::new(&vs, AdamWConfig { weight_decay: config.weight_decay, ..AdamWConfig::default() });
    let per_sample = 3.0 * flops::vision_forward(&arch.vision, args.frames, args.mask, false);
    let size = arch.vision.image_size;
    let context = arch.text.context_length;
    for &batch in &args.batches {
        let frames = Tensor::randn([batch, args.frames, 3, size, size], (Kind::Float, Device::Cpu));
        let frames = if args.on_device { frames.to_device(args.device) } else { frames };
        let ids = Tensor::randint(arch.text.vocab_size, [batch, context], (Kind::Int64, args.device));
        let text = tch::no_grad(|| model.encode_text(&ids, false))?;
        // The loss is read back every step, as the trainer does (which waits for the device).
        let step = || -> Result<(), Box<dyn std::error::Error>> {
            let video = model.vision.encode_video(&frames.to_device(args.device), args.mask, true)?;
            let embedded = Embedded { video, text: text.shallow_clone(), mask_ids: None };
            let temp = model.temperature();
            optimize(embedded, &temp, &mut optimizer, (config.lr, config.grad_clip), None)?;
            Ok(())
        };
        let (steps, elapsed) = timed_calls(args.device, args.seconds, 2, step)?;
        let samples = steps as i64 * batch;
        let samples_per_s = samples as f64 / elapsed;
        let tflops = samples_per_s * per_sample / 1e12;
        let mfu = (args.peak_tflops > 0.0).then(|| tflops / args.peak_tflops);
        println!(
            "{}",
            serde_json::json!({
                "arch": args.arch, "frames": args.frames, "mask": args.mask, "batch": batch,
                "device": format!("{:?}", args.device), "precision": format!("{:?}", args.precision).to_lowercase(),
                "input": if args.on_device { "device" } else { "host" }, "threads": tch::get_num_threads(),
                "samples": samples, "seconds": elapsed, "samples_per_s": samples_per_s,
                "gflops_per_sample": per_sample / 1e9, "tflops": tflops, "mfu": mfu,
            })
        );
    }
    Ok(())
}
