"""Converts public CLIP / ViCLIP / aesthetic-predictor checkpoints to safetensors for clipstream's tch models.

clipstream does not download weights; if you have one of these files, convert it once and point clipstream at the
.safetensors file. Parameter names are kept as the original code names them (clipstream's models use the same
names); only wrappers are removed.

Kinds:
  openai-clip  OpenAI CLIP `.pt` files (ViT-B-32.pt, ViT-L-14.pt, ...): TorchScript archives, read with
               torch.jit.load(map_location='cpu').state_dict(); a plain state dict is accepted too. The
               non-weight entries `input_resolution`, `context_length` and `vocab_size` are dropped.
               For openai-clip and open-clip, causal `attn_mask` buffers (rebuilt by the model, never in
               open_clip's state dict, but listed by TorchScript archives) are dropped too.
  open-clip    open_clip checkpoints (.bin/.pt/.pth/.safetensors, e.g. open_clip_pytorch_model.bin or a training
               checkpoint's `state_dict`), names as `open_clip.create_model(...).state_dict()`.
  viclip       released ViCLIP checkpoints (ViClip-InternVid-10M-FLT.pth, ...): the `model` dict if present, else
               the file's dict. Layout `vision_encoder.*`, `text_encoder.*`, `temp` (models/tests/fixtures/viclip/
               keys-viclip-{l,b}.txt); other top-level names are kept and reported as a warning.
  aesthetic    LAION improved-aesthetic-predictor MLP (e.g. sac+logos+ava1-l14-linearMSE.pth): `layers.{0,2,4,6,7}`
               `.weight/.bias`, Linear 768 -> 1024 -> 128 -> 64 -> 16 -> 1 (dropout between the first four).

For every kind: a leading `module.` (DataParallel/DDP) is stripped from all names, a wrapping `state_dict` dict is
unwrapped, non-tensor entries are dropped (and listed), floating-point tensors are cast to --dtype (default fp32;
integer tensors are kept), every tensor is written contiguous. Pickle files are read with `weights_only=True`;
a file that needs arbitrary unpickling is refused unless --trust-pickle is given (only for files you trust).

Usage: .venv/bin/python scripts/convert_checkpoint.py --kind openai-clip ViT-B-32.pt clip-vit-b32.safetensors
Self-check: .venv/bin/python scripts/convert_checkpoint_test.py
"""
import argparse
import os
import sys

import torch
from safetensors.torch import load_file, save_file

KINDS = ("openai-clip", "open-clip", "viclip", "aesthetic")
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
OPENAI_EXTRAS = ("input_resolution", "context_length", "vocab_size")
VICLIP_PREFIXES = ("vision_encoder", "text_encoder", "temp")
AESTHETIC_SHAPES = {"layers.0.weight": [1024, 768], "layers.0.bias": [1024], "layers.2.weight": [128, 1024],
                    "layers.2.bias": [128], "layers.4.weight": [64, 128], "layers.4.bias": [64],
                    "layers.6.weight": [16, 64], "layers.6.bias": [16], "layers.7.weight": [1, 16],
                    "layers.7.bias": [1]}


def warn(message):
    print(f"warning: {message}", file=sys.stderr)


def torch_load(path, trust_pickle):
    try:
        return torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except Exception as e:  # weights_only refuses arbitrary pickles with an UnpicklingError
        if trust_pickle:
            raise
        raise SystemExit(f"{path}: cannot be read with torch.load(weights_only=True) ({type(e).__name__}: "
                         f"{str(e).splitlines()[0]}); if you trust the file, add --trust-pickle")


def load(path, kind, trust_pickle):
    """The raw state dict of `path` for `kind`, wrappers removed."""
    if path.endswith(".safetensors"):
        return load_file(path)
    if kind == "openai-clip":
        try:
            return torch.jit.load(path, map_location="cpu").state_dict()
        except RuntimeError:  # not a TorchScript archive: a plain (pickled) state dict
            pass
    obj = torch_load(path, trust_pickle)
    if kind == "viclip" and isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise SystemExit(f"{path}: expected a state dict, found {type(obj).__name__}")
    return obj


def check_layout(kind, tensors):
    """Warns about names/shapes that do not fit `kind` (the tensors are kept anyway)."""
    if kind == "viclip":
        unexpected = sorted({k.split(".")[0] for k in tensors} - set(VICLIP_PREFIXES))
        if unexpected:
            warn(f"top-level names outside the ViCLIP layout {VICLIP_PREFIXES}: {unexpected} (kept)")
    elif kind == "aesthetic":
        shapes = {k: list(v.shape) for k, v in tensors.items()}
        if shapes != AESTHETIC_SHAPES:
            warn(f"not the 768-1024-128-64-16-1 aesthetic MLP: {shapes}")
    elif not any(k.startswith("visual.") for k in tensors) or "token_embedding.weight" not in tensors:
        warn("no visual.* or token_embedding.weight: is this a CLIP checkpoint?")


def convert(kind, src, dst, dtype="fp32", trust_pickle=False):
    """Converts `src` to the safetensors file `dst`; returns the written tensors."""
    raw = load(src, kind, trust_pickle)
    tensors, dropped = {}, []
    for name, value in raw.items():
        name = name.removeprefix("module.")
        constant = kind in ("openai-clip", "open-clip") and name.split(".")[-1] == "attn_mask"
        if (kind == "openai-clip" and name in OPENAI_EXTRAS) or constant or not isinstance(value, torch.Tensor):
            dropped.append(name)
            continue
        value = value.detach().to("cpu")
        if value.is_floating_point():
            value = value.to(DTYPES[dtype])
        tensors[name] = value.contiguous().clone()  # own storage: safetensors refuses shared tensors
    if dropped:
        print(f"dropped non-weight entries: {dropped}")
    check_layout(kind, tensors)
    save_file(tensors, dst, metadata={"format": "pt", "kind": kind, "source": os.path.basename(src)})
    params = sum(t.numel() for t in tensors.values())
    print(f"{src} -> {dst}: {len(tensors)} tensors, {params:,} parameters ({dtype})")
    return tensors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", required=True, choices=KINDS, help="checkpoint family")
    parser.add_argument("input", help="checkpoint file (.pt/.pth/.bin/.safetensors)")
    parser.add_argument("output", help="output .safetensors file")
    parser.add_argument("--dtype", default="fp32", choices=DTYPES, help="floating-point dtype (default fp32)")
    parser.add_argument("--trust-pickle", action="store_true",
                        help="allow full unpickling (weights_only=False), which runs code from the file: "
                             "trusted files only")
    args = parser.parse_args(argv)
    convert(args.kind, args.input, args.output, args.dtype, args.trust_pickle)


if __name__ == "__main__":
    main()
