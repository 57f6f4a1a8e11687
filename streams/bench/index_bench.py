"""The frame index at scale: Qdrant Edge (the worker's EdgeIndex) holding 10k, 100k, 1M synthetic
512-d frame vectors; query latency p50/p99 and memory.

Vectors: videos of FRAMES_PER_VIDEO frames. Half the videos are unit random vectors per frame;
the other half are clustered like real footage: each video's frames lie near the video's own
centre, and the centres near one of a few hundred "genre" centres, so neighbours are crowded.
Queries are stored frames with noise (a copy's frames), searched as the match stage does
(nearest 10, score floor 0.5), one frame at a time and as a 30-frame batch (one video).
Recall@10: the share of an exact search's hits (every stored frame scanned) that the HNSW search
also returns, over the one-frame queries. Longest write: the slowest add_video, which is the one
that built a graph (the worker's event loop waits for it).

Each size runs in its own process so that its memory is its own:
`dupstream bench index [--sizes 10000 100000 1000000]`."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from schemas.events import AudioState

DIM = 512
FRAMES_PER_VIDEO = 100
GENRES = 300
QUERIES = 300
BATCHES = 40
BATCH_FRAMES = 30


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def video_frames(number: int, genres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The frames of synthetic video `number`: random (even numbers) or clustered (odd)."""
    if number % 2 == 0:
        return _unit(rng.standard_normal((FRAMES_PER_VIDEO, DIM)))
    centre = genres[rng.integers(len(genres))] + 0.6 * _unit(rng.standard_normal((1, DIM)))
    return _unit(centre + 0.35 * _unit(rng.standard_normal((FRAMES_PER_VIDEO, DIM))))


def _memory_mib() -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {"rss": int(fields["VmRSS"].split()[0]) / 1024, "peak_rss": int(fields["VmHWM"].split()[0]) / 1024}


def _percentiles(seconds: list[float]) -> dict[str, float]:
    milliseconds = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(milliseconds, 50)), 2),
            "p99_ms": round(float(np.percentile(milliseconds, 99)), 2)}


def measure(size: int, directory: Path, seed: int = 0) -> dict:
    """Fills an EdgeIndex with `size` frames, then times searches; figures as a dict."""
    from streams.index import StoredVideo
    from streams.index.edge import EdgeIndex

    rng = np.random.default_rng(seed)
    genres = _unit(rng.standard_normal((GENRES, DIM)))
    before = _memory_mib()
    index = EdgeIndex(directory, "bench", DIM)
    timestamps = np.arange(FRAMES_PER_VIDEO, dtype=np.float32)
    kept: list[np.ndarray] = []
    writes: list[float] = []
    started = time.perf_counter()
    for number in range(size // FRAMES_PER_VIDEO):
        frames = video_frames(number, genres, rng)
        if (number // 2) % max(1, size // FRAMES_PER_VIDEO // 50) == 0:  # random and clustered pairs
            kept.append(frames)
        video = StoredVideo(f"v{number}", f"v{number}", number + 1, None, float(FRAMES_PER_VIDEO), AudioState.NO_AUDIO, "",
                            0.0, "{}")
        begun = time.perf_counter()
        index.add_video(video, timestamps, frames)
        writes.append(time.perf_counter() - begun)
    insert_seconds = time.perf_counter() - started
    loaded = _memory_mib()

    sources = np.concatenate(kept)
    picks = sources[rng.integers(len(sources), size=QUERIES + BATCHES * BATCH_FRAMES)]
    queries = _unit(picks + 0.02 * rng.standard_normal(picks.shape))

    def search(vectors: np.ndarray, exact: bool = False) -> tuple[float, set]:
        begun = time.perf_counter()
        hits = index.search_frames(vectors, np.arange(len(vectors), dtype=np.float32), limit=10, score_floor=0.5,
                                   exact=exact)
        return time.perf_counter() - begun, {(hit.video_id, hit.ref_time) for hit in hits}

    search(queries[:5])  # warm up
    single = [search(queries[i:i + 1]) for i in range(QUERIES)]
    batched = [search(queries[QUERIES + i * BATCH_FRAMES:QUERIES + (i + 1) * BATCH_FRAMES]) for i in range(BATCHES)]
    exact = [search(queries[i:i + 1], exact=True) for i in range(QUERIES)]
    searched = _memory_mib()
    index.close()
    disk = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
    return {
        "frames": size,
        "insert_frames_per_s": round(size / insert_seconds, 1),
        "one_frame": _percentiles([s for s, _ in single]),
        f"batch_of_{BATCH_FRAMES}": _percentiles([s for s, _ in batched]),
        "hits_per_query": round(sum(len(h) for _, h in single) / QUERIES, 2),
        "recall_at_10": round(sum(len(h & e) for (_, h), (_, e) in zip(single, exact))
                              / max(1, sum(len(e) for _, e in exact)), 4),
        "exact_one_frame": _percentiles([s for s, _ in exact]),
        "longest_write_s": round(max(writes), 2),
        "rss_added_mib": round(searched["rss"] - before["rss"], 1),
        "peak_rss_mib": round(searched["peak_rss"], 1),
        "rss_after_insert_mib": round(loaded["rss"], 1),
        "disk_mib": round(disk / 2 ** 20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dupstream bench index", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process measuring one size
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed for one size")
    args = parser.parse_args(argv)
    if args.one:
        with tempfile.TemporaryDirectory(prefix="dupstream-index-bench-") as scratch:
            print(json.dumps(measure(args.one, Path(scratch))))
        return 0
    print(f"{'frames':>9} {'insert/s':>9} {'longest write':>13} {'1 frame p50':>12} {'p99':>8} {'30 frames p50':>14} "
          f"{'p99':>8} {'hits':>5} {'recall@10':>9} {'exact p50':>10} {'RSS added':>10} {'peak RSS':>9} {'disk':>8}")
    for size in args.sizes:
        try:
            done = subprocess.run([sys.executable, "-m", "streams.bench.index_bench", "--one", str(size)],
                                  capture_output=True, text=True, timeout=args.timeout, check=True)
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as error:
            print(f"{size:>9} did not finish: {type(error).__name__} {getattr(error, 'stderr', '') or ''}"[-400:])
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        batch = r[f"batch_of_{BATCH_FRAMES}"]
        print(f"{size:>9} {r['insert_frames_per_s']:>9.0f} {r['longest_write_s']:>11.2f} s "
              f"{r['one_frame']['p50_ms']:>9.2f} ms {r['one_frame']['p99_ms']:>5.2f} ms {batch['p50_ms']:>11.2f} ms "
              f"{batch['p99_ms']:>5.2f} ms {r['hits_per_query']:>5.1f} {r['recall_at_10']:>9.4f} "
              f"{r['exact_one_frame']['p50_ms']:>7.2f} ms {r['rss_added_mib']:>6.0f} MiB {r['peak_rss_mib']:>5.0f} MiB "
              f"{r['disk_mib']:>4.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
