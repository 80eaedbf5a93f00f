"""Writes a parquet file of N generated clip rows with the ClipRecord column names (video_id, key, shard, start_s,
end_s, start_ts, end_ts, caption, sim_score, aesthetic_score), clips per video skewed like InternVid's (a long tail
of videos with many clips), for the memory bench of `clipstream subset` / `stats` (scripts/bench-subset).
Usage: gen_clip_metadata.py OUT.parquet ROWS [SEED]"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 1_000_000
WORDS = "a man woman dog cat car runs walks jumps cooks plays sits red blue street kitchen park beach ball".split()


def timestamp(seconds):
    ms = np.round(seconds * 1000).astype(np.int64)
    h, ms = ms // 3_600_000, ms % 3_600_000
    m, ms = ms // 60_000, ms % 60_000
    s, ms = ms // 1000, ms % 1000
    return [f"{a:02d}:{b:02d}:{c:02d}.{d:03d}" for a, b, c, d in zip(h, m, s, ms)]


def main(out, rows, seed):
    rng = np.random.default_rng(seed)
    # Clips per video: 1 + geometric with mean ~33 (InternVid: 234M clips of 7M videos).
    counts = 1 + rng.geometric(1 / 33, size=rows // 10)
    counts = counts[np.cumsum(counts) <= rows]
    counts = np.append(counts, rows - counts.sum())
    video = np.repeat(np.arange(len(counts)), counts)[:rows]
    index = np.concatenate([np.arange(c) for c in counts])[:rows]
    schema = pa.schema([("video_id", pa.string()), ("key", pa.string()), ("shard", pa.string()),
                        ("start_s", pa.float64()), ("end_s", pa.float64()), ("start_ts", pa.string()),
                        ("end_ts", pa.string()), ("caption", pa.string()), ("sim_score", pa.float64()),
                        ("aesthetic_score", pa.float64())])
    with pq.ParquetWriter(out, schema, compression="snappy") as writer:
        for lo in range(0, rows, CHUNK):
            hi = min(rows, lo + CHUNK)
            v, i = video[lo:hi], index[lo:hi]
            start = i * 10.0 + rng.uniform(0, 2, hi - lo)
            end = start + rng.uniform(1, 20, hi - lo)
            ids = [f"vid{x:011d}" for x in v]
            words = rng.integers(0, len(WORDS), size=(hi - lo, 8))
            writer.write_table(pa.table({
                "video_id": ids,
                "key": [f"{a}_{b:04d}" for a, b in zip(ids, i)],
                "shard": [f"shard-{x // 300:016x}" for x in v],
                "start_s": start,
                "end_s": end,
                "start_ts": timestamp(start),
                "end_ts": timestamp(end),
                "caption": [" ".join(WORDS[k] for k in row) for row in words],
                "sim_score": rng.beta(5, 8, hi - lo),
                "aesthetic_score": rng.normal(4.5, 0.8, hi - lo),
            }, schema=schema))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
