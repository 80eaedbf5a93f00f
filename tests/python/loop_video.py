"""Writes VIDEO looped N times as an mp4 (OpenCV, mp4v): a long real video for the memory tests and benches.

Usage: loop_video.py VIDEO OUT N
"""
import sys

import cv2

src, dst, loops = sys.argv[1], sys.argv[2], int(sys.argv[3])
capture = cv2.VideoCapture(src)
fps = capture.get(cv2.CAP_PROP_FPS)
frames = []
while True:
    ok, frame = capture.read()
    if not ok:
        break
    frames.append(frame)
if not frames:
    sys.exit(f"no frames in {src}")
height, width = frames[0].shape[:2]
writer = cv2.VideoWriter(dst, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
for _ in range(loops):
    for frame in frames:
        writer.write(frame)
writer.release()
print(f"{len(frames) * loops} frames at {fps} fps, {width}x{height}")
