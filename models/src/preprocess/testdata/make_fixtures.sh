#!/usr/bin/env bash
# Regenerates the JPEG fixtures of the preprocess module's tests (needs python3 and the ffmpeg CLI).
# halves.jpg: 32x16, left half pure red, right half pure blue, 4:4:4 so the colours stay put up to the edge.
set -euo pipefail
cd "$(dirname "$0")"
python3 -c '
import sys
row = bytes([255, 0, 0]) * 16 + bytes([0, 0, 255]) * 16
sys.stdout.buffer.write(row * 16)
' > halves.rgb
ffmpeg -loglevel error -y -f rawvideo -pix_fmt rgb24 -s 32x16 -i halves.rgb -frames:v 1 -q:v 1 -pix_fmt yuvj444p halves.jpg
rm halves.rgb
