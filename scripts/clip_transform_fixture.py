"""Reference outputs of open_clip's `image_transform` (open_clip_torch 3.3, torchvision 0.26) for clipstream's
CLIP transform (models/src/preprocess), PIL-free: open_clip's own Compose applied to float tensors (its
MaybeConvertMode / MaybeToTensor pass tensors through), so torchvision resizes with its tensor path: bicubic,
antialias=True, no rounding to uint8.

Images are made by a formula the Rust test repeats: pixel (x, y) channel c of a W x H image is
(7 (c + 1) x^2 + 13 (c + 2) y + 3 x y + 71 c) mod 256, as u8, then / 255.

Writes OUT (safetensors, fp32):
  eval-{W}x{H}-{S}          image_transform(S, is_train=False)(image)            [3, S, S]
  squash-{W}x{H}-{S}        image_transform(S, is_train=False, resize_mode="squash")(image)  [3, S, S]
  train-{W}x{H}-{S}-{seed}  image_transform(S, is_train=True)(image) under torch.manual_seed(seed)  [3, S, S]
  box-{W}x{H}-{S}-{seed}    the RandomResizedCrop box of that call: top, left, height, width  [4] (as f32)
Usage: .venv/bin/python scripts/clip_transform_fixture.py models/tests/fixtures/clip_transform.safetensors
"""
import sys

import open_clip
import torch
from safetensors.torch import save_file

EVAL = [(160, 120, 56), (40, 30, 56), (56, 56, 56), (23, 200, 32), (120, 160, 32), (57, 40, 32)]
TRAIN = [(160, 120, 56, 0), (160, 120, 56, 1), (48, 64, 32, 2), (30, 20, 32, 3)]


def image(width, height):
    x = torch.arange(width, dtype=torch.int64).view(1, 1, width)
    y = torch.arange(height, dtype=torch.int64).view(1, height, 1)
    c = torch.arange(3, dtype=torch.int64).view(3, 1, 1)
    v = (7 * (c + 1) * x * x + 13 * (c + 2) * y + 3 * x * y + 71 * c) % 256
    return v.to(torch.uint8).float() / 255.0


def main(out):
    tensors = {}
    for width, height, size in EVAL:
        tensors[f"eval-{width}x{height}-{size}"] = open_clip.image_transform(size, is_train=False)(image(width, height))
        squash = open_clip.image_transform(size, is_train=False, resize_mode="squash")
        tensors[f"squash-{width}x{height}-{size}"] = squash(image(width, height))
    for width, height, size, seed in TRAIN:
        transform = open_clip.image_transform(size, is_train=True)
        crop = transform.transforms[0]
        img = image(width, height)
        torch.manual_seed(seed)
        top, left, h, w = crop.get_params(img, crop.scale, crop.ratio)
        torch.manual_seed(seed)
        tensors[f"train-{width}x{height}-{size}-{seed}"] = transform(img)
        tensors[f"box-{width}x{height}-{size}-{seed}"] = torch.tensor([top, left, h, w], dtype=torch.float32)
    save_file({k: v.contiguous() for k, v in tensors.items()}, out)
    print(f"{len(tensors)} tensors -> {out}")


if __name__ == "__main__":
    main(sys.argv[1])
