"""Self-check of scripts/convert_checkpoint.py on fake checkpoints of every kind; exits non-zero on failure.

- openai-clip: a tiny open_clip CLIP in fp16, TorchScript-scripted with OpenAI's extra `input_resolution`,
  `context_length`, `vocab_size` entries (dropped), and the same as a plain pickled state dict (fallback path);
- open-clip: a `module.`-prefixed state dict (.pth), a training checkpoint {'epoch', 'state_dict'} and a
  .safetensors file, also converted to bf16;
- viclip: models/tests/fixtures/viclip/tiny-viclip.safetensors as {'model': {'module.' + name: ...}, 'epoch': 3}
  plus one name outside the layout (kept, warned about); the result must equal the fixture;
- aesthetic: the LAION 768-1024-128-64-16-1 MLP's state dict;
- refusals: a pickle that needs arbitrary unpickling (without --trust-pickle) and an unknown --kind.

Usage: .venv/bin/python scripts/convert_checkpoint_test.py   (a few seconds)
"""
import contextlib
import io
import os
import subprocess
import sys
import tempfile

import open_clip
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_checkpoint import convert  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VICLIP_FIXTURE = os.path.join(ROOT, "models", "tests", "fixtures", "viclip", "tiny-viclip.safetensors")


def tiny_clip():
    torch.manual_seed(0)
    return open_clip.model.CLIP(
        embed_dim=16,
        vision_cfg=dict(image_size=56, patch_size=14, width=32, layers=2, head_width=8),
        text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=4, layers=2),
        quick_gelu=True,
    ).eval()


def assert_same(got, want, dtype=torch.float32):
    assert sorted(got) == sorted(want), f"names differ: {sorted(set(got) ^ set(want))}"
    for name, tensor in want.items():
        expected = tensor.to(dtype) if tensor.is_floating_point() else tensor
        assert got[name].dtype == expected.dtype, f"{name}: {got[name].dtype} != {expected.dtype}"
        assert torch.equal(got[name], expected), f"{name}: values differ"
        assert got[name].is_contiguous(), name


def run(kind, src, dst, dtype="fp32", expect_warning=None):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        convert(kind, src, dst, dtype)
    if expect_warning is not None:
        assert expect_warning in stderr.getvalue(), f"no warning {expect_warning!r} in {stderr.getvalue()!r}"
    else:
        assert "warning" not in stderr.getvalue(), stderr.getvalue()
    return load_file(dst)


def check_openai_clip(tmp):
    model = tiny_clip().half()
    want = model.state_dict()
    for name, value in [("input_resolution", 56), ("context_length", 77), ("vocab_size", 49408)]:
        if hasattr(model, name):
            delattr(model, name)  # open_clip keeps them as plain ints; OpenAI's archives as state-dict entries
        model.register_buffer(name, torch.tensor(value))
    jit_path = os.path.join(tmp, "ViT-tiny.pt")
    torch.jit.save(torch.jit.script(model), jit_path)
    assert_same(run("openai-clip", jit_path, os.path.join(tmp, "openai.safetensors")), want)
    plain_path = os.path.join(tmp, "plain.pt")
    torch.save(model.state_dict(), plain_path)
    assert_same(run("openai-clip", plain_path, os.path.join(tmp, "openai-plain.safetensors"), "fp16"), want,
                torch.float16)


def check_open_clip(tmp):
    want = tiny_clip().state_dict()
    pth = os.path.join(tmp, "open_clip.pth")
    torch.save({"module." + k: v for k, v in want.items()}, pth)
    assert_same(run("open-clip", pth, os.path.join(tmp, "oc.safetensors")), want)
    ckpt = os.path.join(tmp, "epoch_3.pt")
    torch.save({"epoch": 3, "name": "run", "state_dict": {"module." + k: v for k, v in want.items()}}, ckpt)
    assert_same(run("open-clip", ckpt, os.path.join(tmp, "oc-bf16.safetensors"), "bf16"), want, torch.bfloat16)
    st = os.path.join(tmp, "open_clip_model.safetensors")
    save_file({k: v.contiguous() for k, v in want.items()}, st)
    assert_same(run("open-clip", st, os.path.join(tmp, "oc-st.safetensors")), want)


def check_viclip(tmp):
    want = load_file(VICLIP_FIXTURE)
    wrapped = {"module." + k: v for k, v in want.items()}
    wrapped["module.extra_head.weight"] = torch.ones(2, 2)
    pth = os.path.join(tmp, "ViClip-tiny.pth")
    torch.save({"model": wrapped, "epoch": 3}, pth)
    got = run("viclip", pth, os.path.join(tmp, "viclip.safetensors"), expect_warning="extra_head")
    assert torch.equal(got.pop("extra_head.weight"), torch.ones(2, 2))
    assert_same(got, want)


def check_aesthetic(tmp):
    torch.manual_seed(1)
    layers = torch.nn.Sequential(
        torch.nn.Linear(768, 1024), torch.nn.Dropout(0.2), torch.nn.Linear(1024, 128), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 64), torch.nn.Dropout(0.1), torch.nn.Linear(64, 16), torch.nn.Linear(16, 1))
    want = {"layers." + k: v for k, v in layers.state_dict().items()}
    pth = os.path.join(tmp, "sac+logos+ava1-l14-linearMSE.pth")
    torch.save(want, pth)
    assert_same(run("aesthetic", pth, os.path.join(tmp, "aesthetic.safetensors")), want)


class Opaque:
    """Not loadable with weights_only=True."""


def check_refusals(tmp):
    path = os.path.join(tmp, "opaque.pth")
    torch.save({"model": {"w": torch.zeros(1)}, "args": Opaque()}, path)
    script = os.path.join(ROOT, "scripts", "convert_checkpoint.py")
    out = os.path.join(tmp, "x.safetensors")
    for args, message in [(["--kind", "viclip", path, out], "--trust-pickle"), (["--kind", "nope", path, out],
                                                                                  "invalid choice")]:
        proc = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
        assert proc.returncode != 0 and message in proc.stderr, (args, proc.returncode, proc.stderr)
    proc = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "openai-clip" in proc.stdout, proc.stderr


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for check in (check_openai_clip, check_open_clip, check_viclip, check_aesthetic, check_refusals):
            with contextlib.redirect_stdout(io.StringIO()):
                check(tmp)
            print(f"ok  {check.__name__}")
    print("convert_checkpoint.py: all checks passed")


if __name__ == "__main__":
    main()
