"""Reference fixtures for clipstream's tch CLIP towers, made by open_clip (open_clip_torch 3.3) itself.

For each model, randomly initialised with a fixed seed and then perturbed so that no parameter is trivially 0 or 1
(layer-norm weights 1 + 0.1 N(0,1), every bias 0.02-0.1 N(0,1), embeddings and projections N(0, width^-0.5), a
random logit scale), in eval mode, fp32, CPU:

  clip-tiny      open_clip.model.CLIP(embed_dim=16, vision 56 px / patch 14 / width 32 / 2 layers / 4 heads,
                 text context 77 / vocab 49408 / width 32 / 2 layers / 4 heads), nn.GELU (exact, erf)
  clip-vit-b32   open_clip.create_model('ViT-B-32-quickgelu', pretrained=None): OpenAI's ViT-B/32 layout, QuickGELU

it writes to OUTDIR:

  {name}.safetensors     the state dict exactly as open_clip names it, contiguous fp32 (metadata
                         "open_clip_config": the model config as JSON)
  {name}-keys.txt        `name<TAB>[shape]<TAB>dtype` per state-dict entry (the format of fixtures/viclip/keys-*.txt)
  {name}-io.safetensors  `image` [2,3,S,S] fp32 (seeded normal), `text` [3,77] int64 (open_clip.tokenize of
                         CAPTIONS), `image_embeds` = encode_image(image) and `text_embeds` = encode_text(text)
                         (unnormalised), `logits_per_image` [2,3] = logit_scale.exp() * normalize(image_embeds)
                         @ normalize(text_embeds).T

and prints the semantics a port must match. Runs in a few seconds (ViT-B/32 is ~600 MB on disk).

Usage: .venv/bin/python scripts/clip_fixtures.py OUTDIR
"""
import argparse
import json
import math
import os
import time

import open_clip
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

SEED = 20261125
CAPTIONS = [
    "a dog runs on the beach",
    "A woman slices tomatoes in a kitchen, close-up, 4K!",
    "two kids play guitar & sing in the rain at night while a crowd of people watches them",
]
TINY = dict(
    embed_dim=16,
    vision_cfg=dict(image_size=56, patch_size=14, width=32, layers=2, head_width=8, mlp_ratio=4),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=4, layers=2),
    quick_gelu=False,
)


def build(name):
    torch.manual_seed(SEED)
    if name == "clip-tiny":
        model, config = open_clip.model.CLIP(**TINY), TINY
    else:
        model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None)
        config = open_clip.get_model_config("ViT-B-32-quickgelu")
    perturb(model)
    return model.eval().float(), config


@torch.no_grad()
def perturb(model):
    """Moves every parameter away from open_clip's trivial initial values (ones, zeros, tiny stds)."""
    for module in model.modules():
        if isinstance(module, torch.nn.LayerNorm):
            module.weight.copy_(1 + 0.1 * torch.randn_like(module.weight))
            module.bias.copy_(0.1 * torch.randn_like(module.bias))
    for name, p in model.named_parameters():
        if name.endswith("bias") and "ln" not in name:
            p.copy_(0.02 * torch.randn_like(p))
    vis, width = model.visual, model.visual.class_embedding.shape[0]
    for p in (vis.class_embedding, vis.positional_embedding, vis.proj):
        p.copy_(torch.randn_like(p) * width**-0.5)
    text_width = model.token_embedding.weight.shape[1]
    model.positional_embedding.copy_(0.02 * torch.randn_like(model.positional_embedding))
    model.text_projection.copy_(torch.randn_like(model.text_projection) * text_width**-0.5)
    model.logit_scale.fill_(math.log(1 / 0.07) + 0.5 * torch.randn(()).item())


def describe(name, model):
    vis = model.visual
    block = vis.transformer.resblocks[0]
    act = type(block.mlp.gelu).__name__
    if act == "GELU":
        act += f"(approximate={block.mlp.gelu.approximate!r})"
    notes = {
        "activation (both towers)": f"{act} (quick_gelu={act == 'QuickGELU'})",
        "layer norm": f"{type(block.ln_1).__module__}.{type(block.ln_1).__name__} eps={block.ln_1.eps}",
        "vision pool": f"pool_type={vis.pool_type!r} final_ln_after_pool={vis.final_ln_after_pool} "
                       f"attn_pool={vis.attn_pool is not None} -> ln_post on all tokens, then token 0, then @ proj",
        "vision extras": f"ln_pre={type(vis.ln_pre).__name__} conv1.bias={vis.conv1.bias is not None} "
                         f"patch_dropout={type(vis.patch_dropout).__name__}",
        "text pool": f"text_pool_type={model.text_pool_type!r} (features at text.argmax(-1), i.e. the end token), "
                     "ln_final on all tokens before pooling",
        "text_projection": f"{type(model.text_projection).__name__} {tuple(model.text_projection.shape)} (x @ P)",
        "layer scale": f"ls_1={type(block.ls_1).__name__} ls_2={type(block.ls_2).__name__}",
        "attention": f"nn.MultiheadAttention batch_first={block.attn.batch_first} (in_proj_weight packs q,k,v); "
                     f"text causal attn_mask buffer {tuple(model.attn_mask.shape)} (-inf above the diagonal, "
                     "non-persistent), no padding mask",
        "logit_scale": f"{model.logit_scale.item():.6f} (exp {model.logit_scale.exp().item():.4f}), "
                       f"logit_bias={model.logit_bias}",
    }
    print(f"{name}:")
    for key, value in notes.items():
        print(f"  {key}: {value}")


def save_model(out, name, model, config):
    state = model.state_dict()
    params = {n for n, _ in model.named_parameters()}
    buffers = sorted(set(state) - params)
    print(f"  state-dict buffers (not parameters, dropped): {buffers or 'none'}; non-persistent buffers (never in "
          f"the state dict): {sorted(n for n, _ in model.named_buffers() if n not in state)}")
    tensors = {k: v.detach().float().contiguous() for k, v in state.items() if k in params}
    save_file(tensors, os.path.join(out, f"{name}.safetensors"), metadata={"open_clip_config": json.dumps(config)})
    with open(os.path.join(out, f"{name}-keys.txt"), "w") as f:
        for k, v in tensors.items():
            f.write(f"{k}\t{list(v.shape)}\t{str(v.dtype).removeprefix('torch.')}\n")
    return sum(v.numel() for v in tensors.values()), len(tensors)


@torch.no_grad()
def save_io(out, name, model):
    size = model.visual.image_size[0]
    image = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(SEED + 1))
    text = open_clip.tokenize(CAPTIONS, context_length=77)
    image_embeds = model.encode_image(image)
    text_embeds = model.encode_text(text)
    logits = model.logit_scale.exp() * F.normalize(image_embeds, dim=-1) @ F.normalize(text_embeds, dim=-1).T
    reference, _ = model.get_logits(image, text)
    assert torch.allclose(logits, reference, atol=1e-5), "logits differ from open_clip's get_logits"
    tensors = {"image": image, "text": text, "image_embeds": image_embeds, "text_embeds": text_embeds,
               "logits_per_image": logits}
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, f"{name}-io.safetensors"),
              metadata={"captions": json.dumps(CAPTIONS)})
    return image_embeds.shape, text_embeds.shape


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir")
    out = parser.parse_args().outdir
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(min(4, os.cpu_count() or 1))
    for name in ("clip-tiny", "clip-vit-b32"):
        start = time.monotonic()
        model, config = build(name)
        describe(name, model)
        print(f"  config: {json.dumps(config)}")
        count, entries = save_model(out, name, model, config)
        image_shape, text_shape = save_io(out, name, model)
        print(f"  {entries} tensors, {count:,} parameters; image_embeds {list(image_shape)}, text_embeds "
              f"{list(text_shape)}; {time.monotonic() - start:.1f}s")


if __name__ == "__main__":
    main()
