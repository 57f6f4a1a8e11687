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
that the search also returns, over the one-frame queries. Source found: the share of one-frame queries whose hits
hold the stored frame the query is a copy of (what the matcher's alignment needs; recall@10 also
asks for the crowd of look-alikes around it, in their order). Longest write: the slowest add_video
(the worker's event loop waits for it). Built after: the seconds from the last write until every
frame is in a graph. `--bulk` fills faster (at 1 M the stream's own write path took 45 minutes to
reach 813 000 frames): the frames go straight into the shards the stream holds at that size, each
built once by the stream's own child process, and the searches are the worker's own
(EdgeIndex.search_frames); `--merged` puts them in one shard, `--ef` times other graph search
widths, and each video query is also taken apart per shard (where_the_time_goes).

Each size runs in its own process so that its memory is its own:
`dupstream bench index [--sizes 10000 100000 1000000]`."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
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


def bulk_points(videos: range, frames: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The frame points of these synthetic videos as FrameShards.add_built takes them (the
    payloads add_video would store)."""
    from streams.index import frame_point_id

    ids = [f"v{number}" for number in videos]
    return {"id": np.array([frame_point_id(video_id, i) for video_id in ids for i in range(FRAMES_PER_VIDEO)]),
            "vector": np.concatenate(frames),
            "video_id": np.repeat(ids, FRAMES_PER_VIDEO), "cluster_id": np.repeat(ids, FRAMES_PER_VIDEO),
            "t": np.tile(np.arange(FRAMES_PER_VIDEO, dtype=np.float64), len(ids))}


def where_the_time_goes(index, video_views: list[list[np.ndarray]]) -> dict:
    """A video query taken apart: each shard's query_batch calls on their own (the engine's work,
    holding Python's lock: a graph walk, or a scan of the live shard, per query vector), and the
    rest of EdgeIndex.search_frames (building the requests, merging the shards' answers, the hits)."""
    from qdrant_edge import QueryBatchRequest

    from streams.index import HNSW_M
    from streams.index.edge import _nearest_requests
    from streams.index.frameshards import search_params

    shards = [shard for shard in index._frames.all() if shard.info().points_count]  # what FrameShards.query asks
    per_shard, rest, totals = [[] for _ in shards], [], []
    for views in video_views:
        begun = time.perf_counter()
        for view in views:
            index.search_frames(view, np.arange(len(view), dtype=np.float32), limit=10, score_floor=0.5)
        total = time.perf_counter() - begun
        engine = [0.0] * len(shards)
        for view in views:
            requests = QueryBatchRequest(_nearest_requests(view, 10, 0.5, search_params(), ["video_id", "t"]))
            for number, shard in enumerate(shards):
                begun = time.perf_counter()
                shard.query_batch(requests)
                engine[number] += time.perf_counter() - begun
        for number, seconds in enumerate(engine):
            per_shard[number].append(seconds)
        rest.append(total - sum(engine))
        totals.append(total)
    # Two shards searched one after the other, then in two threads: the same when the binding holds Python's lock.
    serial, threaded = [], []
    for views in video_views[:10] if len(shards) >= 2 else []:
        batches = [QueryBatchRequest(_nearest_requests(view, 10, 0.5, search_params(), ["video_id", "t"]))
                   for view in views]

        def walk(shard, batches=batches):
            for batch in batches:
                shard.query_batch(batch)

        begun = time.perf_counter()
        walk(shards[0]), walk(shards[1])
        serial.append(time.perf_counter() - begun)
        threads = [threading.Thread(target=walk, args=(shard,)) for shard in shards[:2]]
        begun = time.perf_counter()
        [thread.start() for thread in threads], [thread.join() for thread in threads]
        threaded.append(time.perf_counter() - begun)
    return {"video": _percentiles(totals), "outside_the_engine": _percentiles(rest),
            "two_shards_one_after_the_other": _percentiles(serial) if serial else None,
            "two_shards_in_two_threads": _percentiles(threaded) if threaded else None,
            "shards": [{"frames": shard.info().points_count, **_percentiles(seconds)}
                       for shard, seconds in zip(shards, per_shard)]}


def measure(size: int, directory: Path, seed: int = 0, reuse: bool = False, settle_timeout: float = 3600.0,
            bulk: bool = False, efs: tuple[int, ...] = (), merged: bool = False) -> dict:
    """Fills an EdgeIndex with `size` frames, then times searches; figures as a dict.
    reuse: the index in `directory` is what a run filling `size` frames left when it was stopped:
    its frames are drawn again (the same generator, not written), its builds finished (for at
    most settle_timeout seconds) and its searches timed.
    bulk: the frames go straight into the built shards the stream holds at that size when its
    builds keep up (frameshards.steady_layout; each built once, by the same child process), the
    rest through add_video; no video records (the searches read frames only) and no writes timed.
    merged (with bulk): the built frames in one shard instead, what the stream holds right after
    it merged its top tier (4 x 256 000 frames at 1 024 000).
    efs: other graph search widths, each timed and its recall measured like the worker's."""
    from streams.index import HNSW_EF_SEARCH, StoredVideo
    from streams.index.edge import EdgeIndex
    from streams.index.frameshards import steady_layout

    def keep(number: int) -> bool:  # ~50 random and clustered pairs of videos, to draw queries from
        return (number // 2) % max(1, size // FRAMES_PER_VIDEO // 50) == 0

    rng = np.random.default_rng(seed)
    genres = _unit(rng.standard_normal((GENRES, DIM)))
    before = _memory_mib()
    index = EdgeIndex(directory, "bench", DIM)
    written = index.video_count() if reuse and not bulk else size // FRAMES_PER_VIDEO
    timestamps = np.arange(FRAMES_PER_VIDEO, dtype=np.float32)
    kept: list[np.ndarray] = []
    kept_from: list[str] = []  # the video each kept frame is from
    writes: list[float] = []
    writes_cpu: list[float] = []  # this process's CPU seconds: its own work, not its wait for a busy CPU
    during: list[float] = []

    def search(vectors: np.ndarray, exact: bool = False, ef: int = HNSW_EF_SEARCH) -> tuple[float, set]:
        begun = time.perf_counter()
        hits = index.search_frames(vectors, np.arange(len(vectors), dtype=np.float32), limit=10, score_floor=0.5,
                                   exact=exact, hnsw_ef=ef)
        return time.perf_counter() - begun, {(hit.video_id, hit.ref_time) for hit in hits}

    def views_of(frames: np.ndarray) -> list[np.ndarray]:
        views = [frames, _unit(rng.standard_normal(frames.shape))]  # plain; mirrored
        return views + [_unit(rng.standard_normal((count, DIM))) for count in TURNED]

    def video_query(views: list[np.ndarray], ef: int = HNSW_EF_SEARCH) -> float:
        return sum(search(view, ef=ef)[0] for view in views)

    started = time.perf_counter()
    bulk_seconds, first = 0.0, 0
    if bulk:
        layout, _ = steady_layout(size)
        if merged:
            layout = [(max(tier for tier, _ in layout) + 1, sum(frames for _, frames in layout))]
        for tier, frames_in_shard in layout:
            videos = range(first, first + frames_in_shard // FRAMES_PER_VIDEO)
            drawn = []
            for number in videos:
                frames = video_frames(number, genres, rng)
                if keep(number):
                    kept.append(frames)
                    kept_from += [f"v{number}"] * FRAMES_PER_VIDEO
                drawn.append(frames.astype(np.float16))  # as stored: half the bench's own memory
            if not reuse:
                bulk_seconds += index._frames.add_built(bulk_points(videos, drawn), tier)
            first = videos.stop
            print(json.dumps({"frames": first * FRAMES_PER_VIDEO, "s": round(time.perf_counter() - started),
                              "built_s": round(bulk_seconds), "shards": index._frames.shard_count()}),
                  file=sys.stderr, flush=True)
    for number in range(first, written):
        frames = video_frames(number, genres, rng)
        if keep(number):
            kept.append(frames)
            kept_from += [f"v{number}"] * FRAMES_PER_VIDEO
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
    picked = rng.integers(len(sources), size=QUERIES + BATCHES * BATCH_FRAMES)
    picks = sources[picked]
    # The stored frame each query is a copy of, as a hit names it (video, time).
    copied = [(kept_from[i], float(i % FRAMES_PER_VIDEO)) for i in picked[:QUERIES]]
    queries = _unit(picks + 0.02 * rng.standard_normal(picks.shape))

    search(queries[:5])  # warm up
    single = [search(queries[i:i + 1]) for i in range(QUERIES)]
    batches = [queries[QUERIES + i * BATCH_FRAMES:QUERIES + (i + 1) * BATCH_FRAMES] for i in range(BATCHES)]
    batched = [search(batch) for batch in batches]
    video_views = [views_of(batch) for batch in batches]

    def video_queries(ef: int = HNSW_EF_SEARCH) -> tuple[list[float], list[float]]:
        """Wall and this process's CPU seconds of each video query: the latter is its own work on a busy machine."""
        wall, cpu = [], []
        for views in video_views:
            begun_cpu = time.process_time()
            wall.append(video_query(views, ef))
            cpu.append(time.process_time() - begun_cpu)
        return wall, cpu

    videos, videos_cpu = video_queries()
    exact = [search(queries[i:i + 1], exact=True) for i in range(QUERIES)]
    searched = _memory_mib()

    def recall(found: list[tuple[float, set]]) -> float:
        return round(sum(len(h & e) for (_, h), (_, e) in zip(found, exact)) / max(1, sum(len(e) for _, e in exact)), 4)

    def source_found(found: list[tuple[float, set]]) -> dict[str, float]:
        """The share of one-frame queries whose hits hold the stored frame the query is a copy of
        (the hit the matcher's alignment needs, however crowded its neighbourhood): of all, and of
        the copies of random frames (isolated: their source is their only hit) and clustered ones."""
        kinds = {"all": lambda number: True, "random_frames": lambda number: number % 2 == 0,
                 "clustered_frames": lambda number: number % 2 == 1}
        shares = {}
        for kind, chosen in kinds.items():
            pairs = [(source, hits) for source, (_, hits) in zip(copied, found) if chosen(int(source[0][1:]))]
            shares[kind] = round(sum(source in hits for source, hits in pairs) / max(1, len(pairs)), 4)
        return shares

    sweep = {}
    for ef in efs:
        ef_single = [search(queries[i:i + 1], ef=ef) for i in range(QUERIES)]
        wall, cpu = video_queries(ef)
        sweep[str(ef)] = {"video": _percentiles(wall), "video_cpu": _percentiles(cpu),
                          "one_frame": _percentiles([s for s, _ in ef_single]), "recall_at_10": recall(ef_single),
                          "source_found": source_found(ef_single)}
    breakdown = where_the_time_goes(index, video_views)
    shards = index._frames.shard_count()
    frames_stored = index.stats()["frames"]
    index.close()
    disk = sum(path.stat().st_blocks * 512 for path in directory.rglob("*") if path.is_file())  # sparse files: what is used
    return {
        "frames": frames_stored,
        "fill": "reuse" if reuse else "bulk" if bulk else "stream",
        "merged": merged,
        "insert_frames_per_s": None if reuse else round(frames_stored / insert_seconds, 1),
        "bulk_build_s": round(bulk_seconds, 1) if bulk and not reuse else None,
        "built_after_s": round(built_seconds, 1),
        "settled": settled,
        "shards": shards,
        "one_frame": _percentiles([s for s, _ in single]),
        f"batch_of_{BATCH_FRAMES}": _percentiles([s for s, _ in batched]),
        "video": _percentiles(videos),
        "video_cpu": _percentiles(videos_cpu),
        "video_during_fill": _percentiles(during) if during else None,
        "hits_per_query": round(sum(len(h) for _, h in single) / QUERIES, 2),
        "recall_at_10": recall(single),
        "source_found": source_found(single),
        "source_found_by_exact_search": source_found(exact),
        "hnsw_ef": HNSW_EF_SEARCH,
        "other_hnsw_ef": sweep,
        "where_a_video_query_goes": breakdown,
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


def _quantizations() -> dict:
    """The quantizations qdrant-edge offers for a built shard's graph walk (rescored on the float16
    originals): int8 (the stream's), binary 1 bit with the query in 8 bits, TurboQuant 4 bits, none."""
    from qdrant_edge import (BinaryQuantizationConfig, BinaryQuantizationQueryEncoding, ScalarQuantizationConfig, ScalarType,
                             TurboQuantBitSize, TurboQuantQuantizationConfig)

    from streams.index import INT8_QUANTILE

    return {"int8": ScalarQuantizationConfig(type=ScalarType.Int8, quantile=INT8_QUANTILE, always_ram=True),
            "binary_1bit_query_8bit": BinaryQuantizationConfig(
                always_ram=True, query_encoding=BinaryQuantizationQueryEncoding.Scalar8Bits),
            "turboquant_4bit": TurboQuantQuantizationConfig(always_ram=True, bits=TurboQuantBitSize.Bits4),
            "none": None}


# (hnsw_ef, oversampling, payload, rescore) of each search timed on each quantization
QUANTIZED_SEARCHES = ((64, 2.0, True, True), (128, 2.0, True, True), (128, 8.0, True, True), (256, 2.0, True, True),
                      (512, 2.0, True, True), (128, 2.0, False, True), (128, 2.0, True, False))


def quantization_sweep(size: int, directory: Path, seed: int = 0, only: list[str] | None = None, m: int = 0) -> dict:
    """One built shard of `size` synthetic frames per quantization (built in this process, the
    stream's graph otherwise, or one of m edges a node), and a video's query (the 90 vectors of
    measure's) timed on it, in CPU seconds, with each search's recall@10 against an exact search of
    the plain frames and the share of them whose source (the stored frame each is a copy of) is
    found: of all, of the copies of random frames and of clustered ones."""
    from qdrant_edge import QuantizationSearchParams, QueryBatchRequest, SearchParams

    from streams.index import HNSW_M
    from streams.index.edge import _nearest_requests
    from streams.index.frameshards import build_shard, search_params, shard_config

    rng = np.random.default_rng(seed)
    genres = _unit(rng.standard_normal((GENRES, DIM)))
    videos = range(size // FRAMES_PER_VIDEO)
    points = bulk_points(videos, [video_frames(number, genres, rng).astype(np.float16) for number in videos])
    picked = rng.integers(len(points["vector"]), size=BATCHES * BATCH_FRAMES)
    picks = points["vector"][picked].astype(np.float32)
    random_source = (picked // FRAMES_PER_VIDEO) % 2 == 0  # video_frames: even videos are random frames
    plain = _unit(picks + 0.02 * rng.standard_normal(picks.shape))
    video_views = [[plain[i * BATCH_FRAMES:(i + 1) * BATCH_FRAMES], _unit(rng.standard_normal((BATCH_FRAMES, DIM)))]
                   + [_unit(rng.standard_normal((count, DIM))) for count in TURNED] for i in range(BATCHES)]
    report = {}
    for name, quantization in _quantizations().items():
        if only and name not in only:
            continue
        begun = time.perf_counter()
        shard = build_shard(directory / name, points, shard_config(DIM, built=True, quantization=quantization,
                                                                   m=m or HNSW_M))
        built = time.perf_counter() - begun

        def run(params, payload=("video_id", "t")) -> tuple[list[float], list[set]]:
            cpu, found = [], []
            for views in video_views:
                begun_cpu = time.process_time()
                answers = [shard.query_batch(QueryBatchRequest(_nearest_requests(view, 10, 0.5, params, payload)))
                           for view in views]
                cpu.append(time.process_time() - begun_cpu)
                found += [{str(point.id) for point in points} for points in answers[0]]
            return cpu, found

        _, exact = run(search_params(exact=True))
        searches = {}
        for ef, oversampling, payload, rescore in QUANTIZED_SEARCHES:
            params = SearchParams(hnsw_ef=ef, quantization=QuantizationSearchParams(rescore=rescore, oversampling=oversampling))
            cpu, found = run(params, ["video_id", "t"] if payload else False)
            found_source = np.array([str(points["id"][i]) in hits for i, hits in zip(picked, found)])
            searches[f"ef {ef}, oversampling {oversampling:g}" + ("" if payload else ", no payload")
                     + ("" if rescore else ", no rescoring")] = {
                "video_cpu": _percentiles(cpu),
                "source_found": {"all": round(float(found_source.mean()), 4),
                                 "random_frames": round(float(found_source[random_source].mean()), 4),
                                 "clustered_frames": round(float(found_source[~random_source].mean()), 4)},
                "recall_at_10": round(sum(len(f & e) for f, e in zip(found, exact)) / max(1, sum(map(len, exact))), 4)}
        shard.close()
        report[name] = {"build_s": round(built, 1), "searches": searches}
    return {"frames": len(points["vector"]), "m": m or HNSW_M, "quantizations": report}


# (merge fan-in, absorb share) of each merge policy simulated: built shards of one tier merge
# `fan-in` at a time into one of the next; with an absorb share, once the built shards beside the
# largest hold that share of its frames, all of them are merged into it (None: never).
MERGE_POLICIES = ((4, None), (2, None), (4, 0.25), (2, 0.25), (2, 0.0))


def merge_policy_layouts(frames: int, seal_frames: int) -> list[dict]:
    """The shards each merge policy holds while the stream writes `frames` frames, when every build
    finishes before the next freeze (the stream's pace; a build of the largest shard at 1 M took 6-26
    min here, ~2.5 min of writes at 27 frames/s): the built shards searched at the end and at most,
    the frames built per frame stored (the child's work), and the largest single build (its memory)."""
    report = []
    for fanin, absorb in MERGE_POLICIES:
        shards: list[tuple[float, int]] = []  # (tier, frames), oldest first; the absorbing shard's tier is inf
        built = largest_build = 0
        counts = []
        for _ in range(frames // seal_frames):
            shards.append((1, seal_frames))
            built += seal_frames
            while True:
                total, top = sum(size for _, size in shards), max(size for _, size in shards)
                if absorb is not None and len(shards) > 1 and total - top >= absorb * top:
                    merged = [(float("inf"), total)]
                else:
                    tiers = sorted({tier for tier, _ in shards if tier != float("inf")})
                    full = next((tier for tier in tiers if sum(t == tier for t, _ in shards) >= fanin), None)
                    if full is None:
                        break
                    oldest = [number for number, (tier, _) in enumerate(shards) if tier == full][:fanin]
                    total = sum(shards[number][1] for number in oldest)
                    merged = [shard for number, shard in enumerate(shards) if number not in oldest] + [(full + 1, total)]
                shards = merged
                built += total
                largest_build = max(largest_build, total)
            counts.append(len(shards))
        report.append({"fanin": fanin, "absorb_share": absorb, "shards_at_end": counts[-1], "shards_max": max(counts),
                       "shards_mean_last_quarter": round(float(np.mean(counts[-len(counts) // 4:])), 1),
                       "frames_built_per_frame": round(built / (len(counts) * seal_frames), 1),
                       "largest_build_frames": largest_build})
    return report


REPRESENTATIVE_COSINES = (0.95, 0.97, 0.98, 0.99)


def representatives(vectors: np.ndarray, cosine: float) -> np.ndarray:
    """Greedy clustering of one search call's query vectors: for each vector, the position of the
    vector whose search it would take. The earliest vector not yet taken becomes a representative
    and takes every later untaken vector at least `cosine` similar to it (unit vectors)."""
    vectors = np.asarray(vectors, np.float32)
    similarity = vectors @ vectors.T
    leader = np.full(len(vectors), -1)
    for position in range(len(vectors)):
        if leader[position] < 0:
            leader[position] = position
            leader[(leader < 0) & (similarity[position] >= cosine)] = position
    return leader


def _devset_views(manifest: Path, cache: Path) -> list[tuple[str, str, list]]:
    """(video id, split, query views) of the set's videos whose features `dupstream calibrate`/`eval`
    cached (the others are not worth an embedding run here)."""
    from streams.config import Settings
    from streams.matching.visual import query_views
    from streams.params import MatchParams
    from tooling.devset.devset import read_manifest
    from tooling.evaluation.calibrate import cached_features, features_key

    items = read_manifest(manifest)
    settings = Settings(triton_url="onnx", media_roots=sorted({str(Path(item.file).parent) for item in items}))
    params = MatchParams.from_settings(settings)
    return [(item.video_id, item.split, query_views(cached_features(item, lambda: None, settings, params, cache).frames))
            for item in items if (cache / f"{features_key(Path(item.file), settings, params)}.json").exists()]


def representatives_study(manifest: Path, cache: Path = Path(".cache/features")) -> dict:
    """What searching only representatives of near-identical query vectors (each member given its
    representative's hits) would save and cost the matcher, on real clips: per half of the set and per cosine, the share of query vectors searched (one search call
    per view, as the index is asked; and, for comparison, one for the whole video), and each query
    frame's recall@10 against its own exact search, where the stored frames are every other video's
    plain frames (nearest 10 at the 0.5 score floor, exact: only the sharing is measured), with the
    error of the scores a member takes from its representative."""
    videos = _devset_views(manifest, cache)
    stored = np.concatenate([views[0].embeddings for _, _, views in videos])
    owner = np.concatenate([[number] * len(views[0].embeddings) for number, (_, _, views) in enumerate(videos)])
    report = {}
    for half in ("calibration", "validation"):
        chosen = [(number, views) for number, (_, split, views) in enumerate(videos) if split == half]
        per_view = {cosine: [0, 0.0, 0, []] for cosine in REPRESENTATIVE_COSINES}  # searched, recall sum, truth, score errors
        whole_video = dict.fromkeys(REPRESENTATIVE_COSINES, 0)
        vectors = 0
        for number, views in chosen:
            for view in views:
                scores = view.embeddings @ stored.T
                scores[:, owner == number] = -1.0
                top = np.argsort(-scores, axis=1)[:, :10]
                truth = [set(row[scores[i, row] >= 0.5]) for i, row in enumerate(top)]
                vectors += len(truth)
                for cosine, tally in per_view.items():
                    leader = representatives(view.embeddings, cosine)
                    tally[0] += int(np.sum(leader == np.arange(len(leader))))
                    for i, j in enumerate(leader):
                        tally[1] += len(truth[i] & truth[j])
                        tally[2] += len(truth[i])
                        tally[3] += [abs(scores[j, hit] - scores[i, hit]) for hit in truth[i] & truth[j] if i != j]
            every = np.concatenate([view.embeddings for view in views])
            for cosine in REPRESENTATIVE_COSINES:
                leader = representatives(every, cosine)
                whole_video[cosine] += int(np.sum(leader == np.arange(len(leader))))
        report[half] = {"videos": len(chosen), "vectors": vectors, "by_cosine": {
            str(cosine): {"searched_share": round(searched / max(1, vectors), 3),
                          "searched_share_whole_video": round(whole_video[cosine] / max(1, vectors), 3),
                          "recall_at_10": round(found / max(1, truth), 4),
                          "member_score_error_p99_max": [round(float(np.percentile(errors, 99)), 3) if errors else 0.0,
                                                         round(float(max(errors, default=0.0)), 3)]}
            for cosine, (searched, found, truth, errors) in per_view.items()}}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dupstream bench index", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process measuring one size
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed for one size")
    parser.add_argument("--reuse", type=Path, help="with --one SIZE: time the index a stopped run of that size left "
                                                   "in this directory (its progress lines tell how far it got)")
    parser.add_argument("--settle-timeout", type=float, default=3600, help="seconds allowed to finish the builds")
    parser.add_argument("--bulk", action="store_true",
                        help="load the frames straight into the built shards the stream holds at that size (each "
                             "frame built once), not video by video through add_video")
    parser.add_argument("--merged", action="store_true", help="with --bulk: every built frame in one shard, as "
                                                               "right after a merge of the top tier")
    parser.add_argument("--ef", type=int, nargs="*", default=[], help="other graph search widths to time, with their recall")
    parser.add_argument("--keep", type=Path, help="with --one SIZE: fill this directory and leave the index there, "
                                                  "for --reuse")
    parser.add_argument("--quantization", type=int, metavar="FRAMES",
                        help="instead: one shard of FRAMES frames per quantization qdrant-edge offers, a video's "
                             "query timed on each (CPU) with its recall@10")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="with --quantization: only these quantizations")
    parser.add_argument("--m", type=int, default=0, help="with --quantization: graph edges a node (default: the stream's)")
    parser.add_argument("--merge-policies", type=int, metavar="FRAMES",
                        help="instead: the shards each merge policy holds while the stream writes FRAMES frames")
    parser.add_argument("--representatives", type=Path, metavar="MANIFEST",
                        help="instead: on the set's cached features, the share of real clips' query vectors searched "
                             "and each frame's recall@10 when near-identical vectors share one search")
    args = parser.parse_args(argv)
    if args.quantization:
        with tempfile.TemporaryDirectory(prefix="dupstream-index-bench-") as scratch:
            print(json.dumps(quantization_sweep(args.quantization, Path(scratch), only=args.only, m=args.m)))
        return 0
    if args.merge_policies:
        from streams.index.frameshards import SEAL_FRAMES

        print(json.dumps(merge_policy_layouts(args.merge_policies, SEAL_FRAMES)))
        return 0
    if args.representatives:
        print(json.dumps(representatives_study(args.representatives)))
        return 0
    options = dict(bulk=args.bulk, efs=tuple(args.ef), merged=args.merged)
    if args.one and args.reuse:
        print(json.dumps(measure(args.one, args.reuse, reuse=True, settle_timeout=args.settle_timeout, **options)))
        return 0
    if args.one and args.keep:
        print(json.dumps(measure(args.one, args.keep, **options)))
        return 0
    if args.one:
        with tempfile.TemporaryDirectory(prefix="dupstream-index-bench-") as scratch:
            print(json.dumps(measure(args.one, Path(scratch), **options)))
        return 0

    def timed(key: str):
        return lambda r: "-" if r[key] is None else f"{r[key]['p50_ms']:.2f} ms"

    columns = [("frames", lambda r: f"{r['frames']}"), ("fill", lambda r: r["fill"] + (" merged" if r["merged"] else "")),
               ("insert/s", lambda r: f"{r['insert_frames_per_s']:.0f}"),
               ("longest write (CPU)", lambda r: "-" if r["longest_write_s"] is None
                else f"{r['longest_write_s']:.2f} s ({r['longest_write_cpu_s']:.2f} s)"),
               ("bulk build", lambda r: "-" if r["bulk_build_s"] is None else f"{r['bulk_build_s']:.0f} s"),
               ("built after", lambda r: f"{r['built_after_s']:.0f} s"), ("shards", lambda r: f"{r['shards']}")]
    for name, key in (("1 frame", "one_frame"), (f"{BATCH_FRAMES} frames", f"batch_of_{BATCH_FRAMES}"),
                      ("video", "video"), ("video CPU", "video_cpu"), ("video in fill", "video_during_fill"), ("exact 1 frame", "exact_one_frame")):
        columns += [(f"{name} p50", timed(key)),
                    ("p99", lambda r, key=key: "-" if r[key] is None else f"{r[key]['p99_ms']:.2f} ms")]
    columns += [(f"video at ef {ef} p50 / p99, recall@10", lambda r, ef=ef: "{p50_ms:.1f} / {p99_ms:.1f} ms, ".format(
                    **r["other_hnsw_ef"][str(ef)]["video"]) + f"{r['other_hnsw_ef'][str(ef)]['recall_at_10']:.4f}")
                for ef in args.ef]
    columns += [("video outside the engine p50", lambda r: f"{r['where_a_video_query_goes']['outside_the_engine']['p50_ms']:.1f} ms"),
                ("hits", lambda r: f"{r['hits_per_query']:.1f}"), ("recall@10", lambda r: f"{r['recall_at_10']:.4f}"), ("source found", lambda r: f"{r['source_found']['all']:.4f}"),
                ("RSS added", lambda r: f"{r['rss_added_mib']:.0f} MiB"), ("peak RSS", lambda r: f"{r['peak_rss_mib']:.0f} MiB"),
                ("build peak RSS", lambda r: f"{r['build_peak_rss_mib']:.0f} MiB"), ("disk", lambda r: f"{r['disk_mib']:.0f} MiB")]
    print(" | ".join(name for name, _ in columns), flush=True)
    for size in args.sizes:
        try:
            done = subprocess.run([sys.executable, "-m", "tooling.bench.index_bench", "--one", str(size),
                                   *(["--bulk"] if args.bulk else []), *(["--merged"] if args.merged else []),
                                   "--ef", *map(str, args.ef)],
                                  capture_output=True, text=True, timeout=args.timeout, check=True)
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as error:
            print(f"{size:>9} did not finish: {type(error).__name__} {getattr(error, 'stderr', '') or ''}"[-400:])
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(" | ".join(cell(r) for _, cell in columns), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
