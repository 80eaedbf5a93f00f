#!/usr/bin/env python3
"""Reference cuts from the real PySceneDetect (Python API, not the CLI) for clipstream's parity test and bench.

Usage: pyscenedetect_cuts.py VIDEO... [--threshold 27] [--min-scene-len 15] [--scores] [--bench [--repeat N]]

Prints one JSON object: {path: {"cut_frames": [...], "fps": f, "frames": n}}.
  --scores  adds "scores" (content_val per frame, 0 for the first) and "frame_nums" (PySceneDetect's frame
            number of every processed frame); this attaches a StatsManager, which is slower.
  --bench   adds "wall_s" and "cpu_s" (process CPU time of all threads, decode included) of the detection, the
            fastest of --repeat runs.

The Python ContentDetector default min_scene_len is 15 frames; the CLI's is 0.6 s, so compare with this script.
"""

import argparse
import json
import sys
import time

from scenedetect import ContentDetector, SceneManager, StatsManager, open_video


def detect(path, threshold, min_scene_len, scores, bench):
    video = open_video(path, backend="opencv")
    stats = StatsManager() if scores else None
    manager = SceneManager(stats)
    manager.add_detector(ContentDetector(threshold=threshold, min_scene_len=min_scene_len))
    positions = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if scores:
        # The callback of detect_scenes fires only on cuts; record every position through the detector instead.
        detector = manager._detector_list[0]
        process = detector.process_frame

        def recording(timecode, frame_img):
            positions.append(timecode)
            return process(timecode, frame_img)

        detector.process_frame = recording
    frames = manager.detect_scenes(video=video)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    scenes = manager.get_scene_list(start_in_scene=True)
    out = {
        "cut_frames": [start.frame_num for start, _ in scenes[1:]],
        "fps": float(video.frame_rate),
        "frames": frames,
    }
    if scores:
        out["frame_nums"] = [p.frame_num for p in positions]
        out["scores"] = [
            (stats.get_metrics(p, ["content_val"])[0] or 0.0) if stats.metrics_exist(p, ["content_val"]) else 0.0
            for p in positions
        ]
    if bench:
        out["wall_s"] = wall
        out["cpu_s"] = cpu
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="+")
    parser.add_argument("--threshold", type=float, default=27.0)
    parser.add_argument("--min-scene-len", type=int, default=15)
    parser.add_argument("--scores", action="store_true")
    parser.add_argument("--bench", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    result = {}
    for path in args.videos:
        runs = [detect(path, args.threshold, args.min_scene_len, args.scores, args.bench) for _ in range(args.repeat)]
        best = runs[0]
        if args.bench:
            best["wall_s"] = min(r["wall_s"] for r in runs)
            best["cpu_s"] = min(r["cpu_s"] for r in runs)
        result[path] = best
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
