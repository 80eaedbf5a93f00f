"""Writes a LAION improved-aesthetic-predictor fixture for clipstream's parity test.

The MLP is the reference definition (github.com/christophschuhmann/improved-aesthetic-predictor, `MLP`):
Linear 768->1024, Dropout 0.2, Linear 1024->128, Dropout 0.2, Linear 128->64, Dropout 0.1, Linear 64->16,
Linear 16->1, applied to L2-normalised CLIP ViT-L/14 image embeddings. Weights are seeded random.

Usage: aesthetic_fixture.py OUTDIR  ->  OUTDIR/aesthetic.safetensors (state dict, the released names) and
OUTDIR/aesthetic-io.safetensors (`embeddings` [5, 768] unnormalised, `scores` [5]).
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn


class MLP(nn.Module):
    def __init__(self, input_size=768):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(input_size, 1024),
            nn.Dropout(0.2),
            nn.Linear(1024, 128),
            nn.Dropout(0.2),
            nn.Linear(128, 64),
            nn.Dropout(0.1),
            nn.Linear(64, 16),
            nn.Linear(16, 1),
        )

    def forward(self, x):
        return self.layers(x)


def main(out: Path) -> None:
    torch.manual_seed(20261125)
    model = MLP().eval()
    embeddings = torch.randn(5, 768) * 3.0
    normalised = embeddings / embeddings.norm(dim=-1, keepdim=True)
    with torch.no_grad():
        scores = model(normalised).squeeze(-1)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out / "aesthetic.safetensors")
    save_file({"embeddings": embeddings, "scores": scores}, out / "aesthetic-io.safetensors")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
