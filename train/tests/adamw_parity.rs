//! AdamW against `torch.optim.AdamW` (betas 0.9/0.98, eps 1e-6, weight decay 0.2 on the decayed group, none on
//! the other) over 6 steps of fixed gradients and a changing learning rate, run in the same test; plus a state
//! save/restore round trip that continues identically.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use clipstream_models::weights;
use clipstream_train::optim::{AdamW, AdamWConfig};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

const REFERENCE: &str = r#"
import sys, torch
from safetensors.torch import save_file
torch.manual_seed(0)
w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
b = torch.randn(3, dtype=torch.float64, requires_grad=True)
out = {"w0": w.detach().clone(), "b0": b.detach().clone()}
opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.2}, {"params": [b], "weight_decay": 0.0}],
                        lr=1e-2, betas=(0.9, 0.98), eps=1e-6)
for step in range(6):
    gw, gb = torch.randn(4, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    out[f"gw{step}"], out[f"gb{step}"] = gw, gb
    for group in opt.param_groups:
        group["lr"] = 1e-2 * (step + 1) / 6
    w.grad, b.grad = gw.clone(), gb.clone()
    opt.step()
out["w"], out["b"] = w.detach(), b.detach()
save_file(out, sys.argv[1])
"#;

fn model() -> (VarStore, Tensor, Tensor) {
    let vs = VarStore::new(Device::Cpu);
    let root = vs.root();
    let w = root.var("proj", &[4, 3], tch::nn::Init::Const(0.0));
    let b = root.sub("layer").var("bias", &[3], tch::nn::Init::Const(0.0));
    (vs, w, b)
}

fn step(opt: &mut AdamW, w: &Tensor, b: &Tensor, gw: &Tensor, gb: &Tensor, lr: f64) {
    opt.zero_grad();
    let loss = (w * gw.to_kind(Kind::Float)).sum(Kind::Float) + (b * gb.to_kind(Kind::Float)).sum(Kind::Float);
    loss.backward();
    opt.step(lr);
}

#[test]
fn matches_torch_adamw() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("adamw.safetensors");
    let status = Command::new(root.join(".venv/bin/python")).arg("-c").arg(REFERENCE).arg(&file).status()?;
    anyhow::ensure!(status.success(), "the torch reference failed (run scripts/setup): {status}");
    let r: BTreeMap<String, Tensor> = weights::read(&file)?.into_iter().collect();

    let (vs, w, b) = model();
    tch::no_grad(|| {
        w.shallow_clone().copy_(&r["w0"].to_kind(Kind::Float));
        b.shallow_clone().copy_(&r["b0"].to_kind(Kind::Float));
    });
    let mut opt = AdamW::new(&vs, AdamWConfig::default());
    assert_eq!(opt.decayed(), vec!["proj"]);
    for s in 0..6 {
        if s == 3 {
            // Save and restore the state mid-way: the rest must continue identically.
            let state: BTreeMap<String, Tensor> = opt.state().into_iter().map(|(k, t)| (k, t.copy())).collect();
            opt = AdamW::new(&vs, AdamWConfig::default());
            opt.load_state(&state).map_err(anyhow::Error::msg)?;
            assert_eq!(opt.steps(), 3);
        }
        step(&mut opt, &w, &b, &r[&format!("gw{s}")], &r[&format!("gb{s}")], 1e-2 * (s + 1) as f64 / 6.0);
    }
    for (got, want) in [(&w, &r["w"]), (&b, &r["b"])] {
        let diff = (got.to_kind(Kind::Double) - want).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "max abs diff {diff}");
    }
    Ok(())
}
