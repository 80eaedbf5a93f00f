"""Reads every committed shard of a clipstream output with the real Python readers (pyarrow for the parquet,
webdataset for the tars) and prints one JSON object: per clip key, its parquet row's identity, times, caption and
scores, and the SHA-256 of each of its tar entries. Used by the dataset-tool end-to-end tests to compare outputs."""
import glob
import hashlib
import json
import os
import sys

import pyarrow.parquet as pq
import webdataset as wds

COLUMNS = ["video_id", "clip_index", "start_s", "end_s", "start_ts", "end_ts", "start_frame", "end_frame", "fps",
           "caption", "asr", "sim_score", "aesthetic_score", "lang", "category", "has_video", "num_frames"]


def main(root):
    clips = {}
    for manifest_path in sorted(glob.glob(os.path.join(root, "manifests", "*.json"))):
        shard = json.load(open(manifest_path))["shard"]
        for row in pq.read_table(os.path.join(root, "shards", shard + ".parquet")).to_pylist():
            clips[row["key"]] = {name: row[name] for name in COLUMNS}
            clips[row["key"]]["shard"] = shard
        for sample in wds.WebDataset(os.path.join(root, "shards", shard + ".tar"), shardshuffle=False):
            entry = clips.setdefault(sample["__key__"], {})
            entry["entries"] = {
                name: hashlib.sha256(data).hexdigest()
                for name, data in sample.items() if not name.startswith("__")
            }
    print(json.dumps(clips))


if __name__ == "__main__":
    main(sys.argv[1])
