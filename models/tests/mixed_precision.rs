//! bf16 mixed precision (the trainer's CUDA path, run here on CPU where libtorch also has bf16 kernels): the
//! parameters stay fp32, the matrix products really run in bf16 (the outputs differ from fp32 by bf16 rounding,
//! not by zero), and embeddings, loss and every parameter's gradient agree with the fp32 computation within
//! bf16 precision.

use clipstream_models::Arch;
use clipstream_models::loss::info_nce;
use clipstream_models::viclip::Viclip;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

struct Pass {
    video: Tensor,
    text: Tensor,
    loss: f64,
    grads: Vec<(String, Tensor)>,
}

fn pass(vs: &VarStore, model: &Viclip, video: &Tensor, ids: &Tensor) -> Pass {
    for var in vs.variables().values() {
        let mut grad = var.grad();
        if grad.defined() {
            let _ = grad.zero_();
        }
    }
    let v = model.encode_video(video, false).expect("a valid video");
    let t = model.encode_text(ids, true).expect("valid ids");
    let loss = info_nce(&v, &t, &model.temperature(), None);
    loss.backward();
    let mut grads: Vec<(String, Tensor)> = vs.variables().into_iter().map(|(n, var)| (n, var.grad().copy())).collect();
    grads.sort_by(|a, b| a.0.cmp(&b.0));
    Pass {
        video: v.detach().to_kind(Kind::Float),
        text: t.detach().to_kind(Kind::Float),
        loss: loss.double_value(&[]),
        grads,
    }
}

fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn relative(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).norm().double_value(&[]) / b.norm().double_value(&[]).max(1e-12)
}

#[test]
fn bf16_compute_matches_fp32_within_bf16_precision() {
    tch::manual_seed(7);
    let Ok(Arch::Viclip(mut config)) = Arch::by_name("viclip-tiny") else { panic!("viclip-tiny is a ViCLIP") };
    config.freeze_text = false;
    let vs = VarStore::new(Device::Cpu);
    let mut model = Viclip::new(&vs.root(), config);
    let size = config.vision.image_size;
    let video = Tensor::randn([6, 4, 3, size, size], (Kind::Float, Device::Cpu));
    let ids = Tensor::randint(1000, [6, 32], (Kind::Int64, Device::Cpu));

    let full = pass(&vs, &model, &video, &ids);
    model.set_compute_kind(Some(Kind::BFloat16));
    let mixed = pass(&vs, &model, &video, &ids);

    assert!(vs.variables().values().all(|v| v.kind() == Kind::Float), "parameters stay fp32");
    let video_diff = max_abs(&mixed.video, &full.video);
    assert!(video_diff > 0.0, "bf16 products round differently from fp32");
    assert!(relative(&mixed.video, &full.video) < 3e-2, "video embeddings {}", relative(&mixed.video, &full.video));
    assert!(relative(&mixed.text, &full.text) < 3e-2, "text embeddings {}", relative(&mixed.text, &full.text));
    assert!((mixed.loss - full.loss).abs() < 2e-2 * full.loss.abs().max(1.0), "loss {} vs {}", mixed.loss, full.loss);
    for ((name, g16), (_, g32)) in mixed.grads.iter().zip(&full.grads) {
        assert_eq!(g16.kind(), Kind::Float, "{name}: fp32 gradient");
        if g32.norm().double_value(&[]) < 1e-6 {
            continue;
        }
        let cosine = (g16 * g32).sum(Kind::Double).double_value(&[])
            / (g16.norm().double_value(&[]) * g32.norm().double_value(&[]));
        assert!(cosine > 0.98, "{name}: gradient cosine {cosine}");
    }
}
