"""The frame index at scale: Qdrant Edge (the worker's EdgeIndex) holding 10k, 100k, 1M synthetic
512-d frame vectors; query latency p50/p99 and memory.

Vectors: videos of FRAMES_PER_VIDEO frames. Half the videos are unit random vectors per frame;
the other half are clustered like real footage: each video's frames lie near the video's own
centre, and the centres near one of a few hundred "genre" centres, so neighbours are crowded.
Queries are stored frames with noise (a copy's frames), searched as the match stage does
(nearest 10, score floor 0.5): one frame at a time, as a 30-frame batch, and as one video's
query the way streams.matching.visual.search_views sends it: the 30 plain frames, their 30
mirrored views, and 10 of them turned 90, 180 and 270 degrees, one request per view (the views
are unrelated vectors: they find nothing, and cost as much). Video queries are also timed during
the fill, every VIDEO_QUERY_EVERY videos, while the child process builds graphs beside it.
Recall@10: the share of an exact search's hits (every stored frame scanned, original values)
that the search also returns, over the one-frame queries. Longest write: the slowest add_video
(the worker's event loop waits for it). Built after: the seconds from the last write until every
frame is in a graph.

Each size runs in its own process so that its memory is its own:
`dupstream bench index [--sizes 10000 100000 1000000]`."""

from __future__ import annotations

import argparse
import json
import resource
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
TURNED = (10, 10, 10)  # frames per turned view of a 30 s clip (every third second, three turns)
VIDEO_QUERY_EVERY = 20
PROGRESS_EVERY = 50_000  # frames


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


def measure(size: int, directory: Path, seed: int = 0, reuse: bool = False, settle_timeout: float = 3600.0) -> dict:
    """Fills an EdgeIndex with `size` frames, then times searches; figures as a dict.
    reuse: the index in `directory` is what a run filling `size` frames left when it was stopped:
    its frames are drawn again (the same generator, not written), its builds finished (for at
    most settle_timeout seconds) and its searches timed."""
    from streams.index import StoredVideo
    from streams.index.edge import EdgeIndex

    rng = np.random.default_rng(seed)
    genres = _unit(rng.standard_normal((GENRES, DIM)))
    before = _memory_mib()
    index = EdgeIndex(directory, "bench", DIM)
    written = index.video_count() if reuse else size // FRAMES_PER_VIDEO
    timestamps = np.arange(FRAMES_PER_VIDEO, dtype=np.float32)
    kept: list[np.ndarray] = []
    writes: list[float] = []
    writes_cpu: list[float] = []  # this process's CPU seconds: its own work, not its wait for a busy CPU
    during: list[float] = []

    def search(vectors: np.ndarray, exact: bool = False) -> tuple[float, set]:
        begun = time.perf_counter()
        hits = index.search_frames(vectors, np.arange(len(vectors), dtype=np.float32), limit=10, score_floor=0.5,
                                   exact=exact)
        return time.perf_counter() - begun, {(hit.video_id, hit.ref_time) for hit in hits}

    def views_of(frames: np.ndarray) -> list[np.ndarray]:
        views = [frames, _unit(rng.standard_normal(frames.shape))]  # plain; mirrored
        return views + [_unit(rng.standard_normal((count, DIM))) for count in TURNED]

    def video_query(views: list[np.ndarray]) -> float:
        return sum(search(view)[0] for view in views)

    started = time.perf_counter()
    for number in range(written):
        frames = video_frames(number, genres, rng)
        if (number // 2) % max(1, size // FRAMES_PER_VIDEO // 50) == 0:  # random and clustered pairs
            kept.append(frames)
        if not reuse:
            video = StoredVideo(f"v{number}", f"v{number}", number + 1, None, float(FRAMES_PER_VIDEO), AudioState.NO_AUDIO, "",
                                0.0, "{}")
            begun, begun_cpu = time.perf_counter(), time.process_time()
            index.add_video(video, timestamps, frames)
            writes.append(time.perf_counter() - begun)
            writes_cpu.append(time.process_time() - begun_cpu)
        if number % VIDEO_QUERY_EVERY == VIDEO_QUERY_EVERY - 1:
            views = views_of(_unit(frames[:BATCH_FRAMES] + 0.02 * rng.standard_normal((BATCH_FRAMES, DIM))))
            if not reuse:
                during.append(video_query(views))
        if not reuse and (number + 1) * FRAMES_PER_VIDEO % PROGRESS_EVERY == 0:  # a long run can be followed, or resumed
            print(json.dumps({"frames": (number + 1) * FRAMES_PER_VIDEO, "s": round(time.perf_counter() - started),
                              "longest_write_s": round(max(writes), 2), "longest_write_cpu_s": round(max(writes_cpu), 2),
                              "shards": index._frames.shard_count(), "video_during_fill": _percentiles(during[-50:])}),
                  file=sys.stderr, flush=True)
    insert_seconds = time.perf_counter() - started
    try:
        index.settle(settle_timeout)
        settled = True
    except TimeoutError:
        settled = False
    built_seconds = time.perf_counter() - started - insert_seconds
    loaded = _memory_mib()

    sources = np.concatenate(kept)
    picks = sources[rng.integers(len(sources), size=QUERIES + BATCHES * BATCH_FRAMES)]
    queries = _unit(picks + 0.02 * rng.standard_normal(picks.shape))

    search(queries[:5])  # warm up
    single = [search(queries[i:i + 1]) for i in range(QUERIES)]
    batches = [queries[QUERIES + i * BATCH_FRAMES:QUERIES + (i + 1) * BATCH_FRAMES] for i in range(BATCHES)]
    batched = [search(batch) for batch in batches]
    videos = [video_query(views_of(batch)) for batch in batches]
    exact = [search(queries[i:i + 1], exact=True) for i in range(QUERIES)]
    searched = _memory_mib()
    shards = index._frames.shard_count()
    frames_stored = index.stats()["frames"]
    index.close()
    disk = sum(path.stat().st_blocks * 512 for path in directory.rglob("*") if path.is_file())  # sparse files: what is used
    return {
        "frames": frames_stored,
        "insert_frames_per_s": None if reuse else round(frames_stored / insert_seconds, 1),
        "built_after_s": round(built_seconds, 1),
        "settled": settled,
        "shards": shards,
        "one_frame": _percentiles([s for s, _ in single]),
        f"batch_of_{BATCH_FRAMES}": _percentiles([s for s, _ in batched]),
        "video": _percentiles(videos),
        "video_during_fill": _percentiles(during) if during else None,
        "hits_per_query": round(sum(len(h) for _, h in single) / QUERIES, 2),
        "recall_at_10": round(sum(len(h & e) for (_, h), (_, e) in zip(single, exact))
                              / max(1, sum(len(e) for _, e in exact)), 4),
        "exact_one_frame": _percentiles([s for s, _ in exact]),
        "longest_write_s": round(max(writes), 2) if writes else None,
        "longest_write_cpu_s": round(max(writes_cpu), 2) if writes else None,
        "rss_added_mib": round(searched["rss"] - before["rss"], 1),
        "peak_rss_mib": round(searched["peak_rss"], 1),
        "rss_after_insert_mib": round(loaded["rss"], 1),
        "disk_mib": round(disk / 2 ** 20, 1),
        # The graph builds' own process (the largest, streams.index.frameshards).
        "build_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dupstream bench index", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process measuring one size
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed for one size")
    parser.add_argument("--reuse", type=Path, help="with --one SIZE: time the index a stopped run of that size left "
                                                   "in this directory (its progress lines tell how far it got)")
    parser.add_argument("--settle-timeout", type=float, default=3600, help="seconds allowed to finish the builds")
    args = parser.parse_args(argv)
    if args.one and args.reuse:
        print(json.dumps(measure(args.one, args.reuse, reuse=True, settle_timeout=args.settle_timeout)))
        return 0
    if args.one:
        with tempfile.TemporaryDirectory(prefix="dupstream-index-bench-") as scratch:
            print(json.dumps(measure(args.one, Path(scratch))))
        return 0
    columns = [("frames", lambda r: f"{r['frames']}"), ("insert/s", lambda r: f"{r['insert_frames_per_s']:.0f}"),
               ("longest write (CPU)", lambda r: f"{r['longest_write_s']:.2f} s ({r['longest_write_cpu_s']:.2f} s)"),
               ("built after", lambda r: f"{r['built_after_s']:.0f} s"), ("shards", lambda r: f"{r['shards']}")]
    for name, key in (("1 frame", "one_frame"), (f"{BATCH_FRAMES} frames", f"batch_of_{BATCH_FRAMES}"),
                      ("video", "video"), ("video in fill", "video_during_fill"), ("exact 1 frame", "exact_one_frame")):
        columns += [(f"{name} p50", lambda r, key=key: f"{r[key]['p50_ms']:.2f} ms"),
                    ("p99", lambda r, key=key: f"{r[key]['p99_ms']:.2f} ms")]
    columns += [("hits", lambda r: f"{r['hits_per_query']:.1f}"), ("recall@10", lambda r: f"{r['recall_at_10']:.4f}"),
                ("RSS added", lambda r: f"{r['rss_added_mib']:.0f} MiB"), ("peak RSS", lambda r: f"{r['peak_rss_mib']:.0f} MiB"),
                ("build peak RSS", lambda r: f"{r['build_peak_rss_mib']:.0f} MiB"), ("disk", lambda r: f"{r['disk_mib']:.0f} MiB")]
    print(" | ".join(name for name, _ in columns), flush=True)
    for size in args.sizes:
        try:
            done = subprocess.run([sys.executable, "-m", "tooling.bench.index_bench", "--one", str(size)],
                                  capture_output=True, text=True, timeout=args.timeout, check=True)
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as error:
            print(f"{size:>9} did not finish: {type(error).__name__} {getattr(error, 'stderr', '') or ''}"[-400:])
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(" | ".join(cell(r) for _, cell in columns), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
