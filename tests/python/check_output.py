"""Reads a clipstream output back with the real Python readers (webdataset for the tars, pyarrow for the parquet)
and prints a JSON report comparing them with the manifests. Used by the end-to-end tests."""
import glob
import hashlib
import json
import os
import sys

import pyarrow.parquet as pq
import webdataset as wds


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(root):
    report = {"shards": [], "errors": [], "orphans": []}
    referenced = set()
    for manifest_path in sorted(glob.glob(os.path.join(root, "manifests", "*.json"))):
        manifest = json.load(open(manifest_path))
        files = {os.path.basename(f["path"]): f for f in manifest["files"]}
        checksums_ok = all(
            os.path.getsize(os.path.join(root, f["path"])) == f["bytes"] and sha256(os.path.join(root, f["path"])) == f["sha256"]
            for f in manifest["files"]
        )
        referenced.update(f["path"] for f in manifest["files"])
        tar = os.path.join(root, "shards", manifest["shard"] + ".tar")
        samples = list(wds.WebDataset(tar, shardshuffle=False))
        table = pq.read_table(os.path.join(root, "shards", manifest["shard"] + ".parquet"))
        rows = table.to_pylist()
        sample_keys = sorted(s["__key__"] for s in samples)
        report["shards"].append({
            "shard": manifest["shard"],
            "video_ids": manifest["video_ids"],
            "clips": manifest["clips"],
            "checksums_ok": checksums_ok,
            "files": sorted(files),
            "tar_samples": len(samples),
            "sample_keys": sample_keys,
            "parquet_keys": sorted(r["key"] for r in rows),
            "parquet_videos": sorted({r["video_id"] for r in rows}),
            "parquet_shard_ok": all(r["shard"] == manifest["shard"] for r in rows),
            "samples_complete": all(
                "jpg" in s and "json" in s and sum(1 for k in s if k.startswith("f") and k.endswith(".jpg")) == json.loads(s["json"])["num_frames"]
                for s in samples
            ),
            "mp4_samples": sum(1 for s in samples if "mp4" in s),
            "durations": [r["duration_s"] for r in rows],
            "motions": [r["motion"] for r in rows],
        })
    for path in sorted(glob.glob(os.path.join(root, "errors", "*.jsonl"))):
        for line in open(path):
            if line.strip():
                report["errors"].append(json.loads(line))
    for path in sorted(glob.glob(os.path.join(root, "shards", "*"))):
        rel = os.path.relpath(path, root)
        if rel not in referenced:
            report["orphans"].append(rel)
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
