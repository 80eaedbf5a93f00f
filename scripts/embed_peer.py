"""PyTorch peer of clipstream's embedding bench: open_clip's image tower over every frame of a clip batch
(CLIP frame-mean scoring, the same arithmetic as clipstream's clip-vit-* archs), random weights, eval, no_grad.

Usage: embed_peer.py --model ViT-B-16-quickgelu --frames 8 --batch 1,4 --seconds 10 [--device cuda --dtype bf16]
Prints one JSON object per batch size: clips_per_s.
"""

import argparse
import json
import time

import open_clip
import torch


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="ViT-B-16-quickgelu")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--batch", default="1,4")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32")
    a = p.parse_args()
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    model = open_clip.create_model(a.model, pretrained=None).eval().to(a.device, dtype)
    for batch in (int(b) for b in a.batch.split(",")):
        x = torch.randn(batch * a.frames, 3, 224, 224, device=a.device, dtype=dtype)
        with torch.no_grad():
            run = lambda: torch.nn.functional.normalize(  # noqa: E731
                torch.nn.functional.normalize(model.encode_image(x), dim=-1).view(batch, a.frames, -1).mean(1), dim=-1
            )
            run()
            clips, start = 0, time.perf_counter()
            while time.perf_counter() - start < a.seconds or clips == 0:
                run()
                if a.device == "cuda":
                    torch.cuda.synchronize()
                clips += batch
        elapsed = time.perf_counter() - start
        print(json.dumps({"peer": "open_clip", "model": a.model, "frames": a.frames, "batch": batch,
                          "threads": torch.get_num_threads(), "clips_per_s": clips / elapsed}))


if __name__ == "__main__":
    main()
