"""The frames of the Qdrant Edge index: a few shards whose HNSW graphs are built in a child process.

Why: the qdrant-edge binding holds the GIL while `EdgeShard.optimize()` builds a graph, so a build
inside the worker stops its event loop for the whole build (seconds at 5 000 frames, minutes at
100 000), and Qdrant Edge rebuilds a merged segment's graph from scratch. So the worker never
builds. It writes into a small `live` shard (no graph: searched by scanning, at most SEAL_FRAMES
frames); a full live shard is frozen (still searched) and its points exported to a file; a child
process (`python -m streams.index.frameshards SPEC`, niced, one indexing thread) builds a new
shard from the files of some frozen or built shards: one segment, HNSW graph, int8 scalar
quantization in RAM, float16 originals for rescoring. The worker adopts it between two writes
(a load, milliseconds) and drops its sources. Shards merge in tiers of MERGE_FANIN, so 1 M frames
are at most 3 shards per tier (4 000, 16 000, 64 000, 256 000 frames) and each frame is built
about 1 + log4(frames / SEAL_FRAMES) times, in the child.

Searches ask every shard and keep each query's best `limit` (a point stored twice, by a video
written again, counts once). Deletions and cluster changes go to every open shard and to a journal;
a build applies the journal to its files up to its start, the adoption replays the rest.

Layout of <prefix>_frames/: manifest.json (the live shard and the searched shards, each with the
file of its points and the journal length they reflect), journal.jsonl, the shard directories,
their points-<name>.npz (float16 vectors and payloads: a frozen shard's as written, a built
one's as built, read by the next merge). Anything else there is a build that did not finish,
removed at open.
An index written before this layout (one shard in <prefix>_frames) is kept as a shard never merged."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from operator import attrgetter
from typing import Callable
from pathlib import Path

import numpy as np

from streams.index import (FULL_SCAN_THRESHOLD_KB, HNSW_EF_CONSTRUCT, HNSW_EF_SEARCH, HNSW_EF_SEARCH_WIDE, HNSW_M,
                           INT8_QUANTILE, QUANTIZATION_OVERSAMPLING, WIDE_GRAPH_FRAMES)

log = logging.getLogger(__name__)

# A live shard this full is frozen and built. It is scanned (float32, no graph): ~0.04 us per stored
# frame per query frame, ~15 ms for a video's 90 query vectors at 4000 frames.
SEAL_FRAMES = 4000
MERGE_FANIN = 4  # built shards of one tier merged into one of the next
BUILD_THREADS = 2  # niced: the worker's own work comes first
RETRY_AFTER_S = 60.0  # after a failed build
SCROLL_PAGE = 1000
UNBUILT, LEGACY = 0, -1  # tiers: a frozen live shard (scanned), a pre-layout shard (never merged)


def shard_config(dim: int, built: bool, quantization: object = "int8", m: int = HNSW_M):
    """built: one segment, graph (m edges a node), int8 quantization (or the quantization config
    given, None for none: the benchmark's comparisons). Otherwise: an appendable shard never indexed."""
    from qdrant_edge import (Distance, EdgeConfig, EdgeOptimizersConfig, EdgeVectorParams, HnswIndexConfig, ScalarQuantizationConfig,
                             ScalarType, VectorStorageDatatype)

    hnsw = HnswIndexConfig(m=m, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=FULL_SCAN_THRESHOLD_KB,
                           max_indexing_threads=BUILD_THREADS)
    if not built:
        return EdgeConfig(vectors=EdgeVectorParams(size=dim, distance=Distance.Cosine), hnsw_config=hnsw,
                          optimizers=EdgeOptimizersConfig(indexing_threshold=2 ** 40, max_segment_size=2 ** 40))
    # The stream's descriptors are float16 between stages: float16 storage keeps them exactly.
    if quantization == "int8":
        quantization = ScalarQuantizationConfig(type=ScalarType.Int8, quantile=INT8_QUANTILE, always_ram=True)
    vectors = EdgeVectorParams(size=dim, distance=Distance.Cosine, datatype=VectorStorageDatatype.Float16,
                               quantization_config=quantization)
    # No write-ahead log: the child flushes before it hands the shard over, and every later change
    # (apply, the adoption's replay) is flushed at once.
    return EdgeConfig(vectors=vectors, hnsw_config=hnsw, wal_enabled=False,
                      optimizers=EdgeOptimizersConfig(indexing_threshold=1, max_segment_size=2 ** 40,
                                                      default_segment_number=1))


def search_params(exact: bool = False, hnsw_ef: int = HNSW_EF_SEARCH):
    from qdrant_edge import QuantizationSearchParams, SearchParams

    if exact:  # the reference: every stored vector, original values
        return SearchParams(exact=True, quantization=QuantizationSearchParams(ignore=True))
    return SearchParams(hnsw_ef=hnsw_ef, quantization=QuantizationSearchParams(
        rescore=True, oversampling=QUANTIZATION_OVERSAMPLING))


def graph_search_width(frames: int) -> int:
    """The candidates kept while walking a graph of `frames` frames (hnsw_ef)."""
    return HNSW_EF_SEARCH_WIDE if frames > WIDE_GRAPH_FRAMES else HNSW_EF_SEARCH


def _open(path: Path, config):
    """Load or create a shard. A live shard has no payload indexes: its filters scan a few thousand points."""
    from qdrant_edge import EdgeShard

    if (path / "edge_config.json").exists() or any(path.glob("segments*")):
        return EdgeShard.load(str(path), config)
    path.mkdir(parents=True, exist_ok=True)
    return EdgeShard.create(str(path), config)


def _operation(op: dict):
    """A journal entry as a Qdrant update: {"delete": video_id} or {"cluster": id, "videos": [...]}."""
    from qdrant_edge import FieldCondition, Filter, MatchAny, MatchValue, UpdateOperation

    if "delete" in op:
        return UpdateOperation.delete_points_by_filter(Filter(must=[FieldCondition("video_id", match=MatchValue(op["delete"]))]))
    return UpdateOperation.set_payload_by_filter(Filter(must=[FieldCondition("video_id", match=MatchAny(op["videos"]))]),
                                                 {"cluster_id": op["cluster"]})


def _apply_to_arrays(points: dict[str, np.ndarray], ops: list[dict]) -> dict[str, np.ndarray]:
    """The journal entries applied, in order, to exported points (the child's view of a shard)."""
    for op in ops:
        if "delete" in op:
            keep = points["video_id"] != op["delete"]
            points = {key: values[keep] for key, values in points.items()}
        else:
            points["cluster_id"] = np.where(np.isin(points["video_id"], op["videos"]), op["cluster"],
                                            points["cluster_id"])
    return points


def _concatenate(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _remove(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


class FrameShards:
    def __init__(self, root: Path, dim: int, seal_frames: int = SEAL_FRAMES):
        self.root, self.dim, self.seal_frames = Path(root), dim, seal_frames
        self._child: subprocess.Popen | None = None
        self._job: dict | None = None
        self._retry_at = 0.0
        self._removing: threading.Thread | None = None
        self._adopt_legacy()
        self.root.mkdir(parents=True, exist_ok=True)
        manifest = self.root / "manifest.json"
        self._manifest = (json.loads(manifest.read_text()) if manifest.exists()
                          else {"next": 1, "live": "live-0", "shards": []})
        journal = self.root / "journal.jsonl"
        self._ops = [json.loads(line) for line in journal.read_text().splitlines()] if journal.exists() else []
        self._remove_unlisted()
        self._live = _open(self.root / self._manifest["live"], shard_config(dim, built=False))
        # The live shard's points as they are in it (writes and journal entries applied): frozen
        # without reading the shard back.
        self._buffer = [self._export(self._live)]
        self._shards = {entry["dir"]: _open(self.root / entry["dir"], self._config(entry))
                        for entry in self._manifest["shards"]}
        self._save()

    # -- layout ---------------------------------------------------------------------------------

    def _config(self, entry: dict):
        return None if entry["tier"] == LEGACY else shard_config(self.dim, built=entry["tier"] > UNBUILT)

    def _adopt_legacy(self) -> None:
        if not (self.root / "edge_config.json").exists():
            return
        moved = self.root.with_name(self.root.name + ".legacy")
        self.root.rename(moved)
        self.root.mkdir()
        moved.rename(self.root / "legacy")
        self._write_manifest({"next": 1, "live": "live-0", "shards": [{"dir": "legacy", "tier": LEGACY, "inputs": []}]})

    def _write_manifest(self, manifest: dict) -> None:
        temporary = self.root / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest))
        os.replace(temporary, self.root / "manifest.json")

    def _save(self) -> None:
        self._write_manifest(self._manifest)

    def _remove_unlisted(self) -> None:
        listed = {self._manifest["live"], "manifest.json", "journal.jsonl"}
        for entry in self._manifest["shards"]:
            listed |= {entry["dir"], *(name for name, _ in entry["inputs"])}
        for path in self.root.iterdir():
            if path.name not in listed:
                _remove(path)

    def _name(self, kind: str) -> str:
        number = self._manifest["next"]
        self._manifest["next"] = number + 1
        return f"{kind}-{number}"

    # -- reads ----------------------------------------------------------------------------------

    def all(self) -> list:
        return [self._live, *self._shards.values()]

    def query(self, requests_for: Callable[[int], list]) -> list[list]:
        """query_batch on every shard, with the requests requests_for(hnsw_ef) makes for it (a wider
        graph search on a larger graph: graph_search_width); per request the best `limit` points,
        each point once."""
        from qdrant_edge import QueryBatchRequest

        made: dict[int, list] = {}
        answers = []
        for shard in self.all():
            points = shard.info().points_count
            if not points:  # an empty shard (the live one after a freeze) still costs ~20 us a request
                continue
            width = graph_search_width(points)
            if width not in made:
                made[width] = requests_for(width)
            answers.append(shard.query_batch(QueryBatchRequest(made[width])))
        if not answers:
            return [[] for _ in requests_for(HNSW_EF_SEARCH)]
        if len(answers) == 1:
            return answers[0]
        merged = []
        for request, found in zip(next(iter(made.values())), zip(*answers)):
            best, seen = [], set()
            for point in sorted((point for points in found for point in points), key=attrgetter("score"), reverse=True):
                if point.id not in seen:
                    seen.add(point.id)
                    best.append(point)
                    if len(best) == request.limit:
                        break
            merged.append(best)
        return merged

    def scroll(self, only, with_vector: bool) -> list:
        """Every point matching the filter, from every shard, each point once."""
        from qdrant_edge import ScrollRequest

        records = {}
        for shard in self.all():
            offset = None
            while True:
                page, offset = shard.scroll(ScrollRequest(offset=offset, limit=SCROLL_PAGE, filter=only,
                                                          with_payload=True, with_vector=with_vector))
                records.update((record.id, record) for record in page)
                if offset is None:
                    break
        return list(records.values())

    def count(self) -> int:
        return sum(shard.info().points_count for shard in self.all())

    def built_frames(self) -> int:
        """Frames in the shards the child process built."""
        return sum(self._shards[entry["dir"]].info().points_count for entry in self._manifest["shards"]
                   if entry["tier"] > UNBUILT)

    def shard_count(self) -> int:
        return len(self.all())

    # -- writes ---------------------------------------------------------------------------------

    def upsert(self, points: list[tuple[str, list[float], dict]]) -> None:
        """(point id, vector, payload) into the live shard; then freeze it when full, and start or adopt a build."""
        from qdrant_edge import Point, UpdateOperation

        self._live.update(UpdateOperation.upsert_points([Point(*point) for point in points]))
        self._live.flush()
        self._buffer.append({"id": np.array([point_id for point_id, _, _ in points]),
                             "vector": np.array([vector for _, vector, _ in points], np.float16).reshape(len(points), self.dim),
                             "video_id": np.array([payload["video_id"] for _, _, payload in points]),
                             "t": np.array([payload["t"] for _, _, payload in points], np.float64),
                             "cluster_id": np.array([payload["cluster_id"] for _, _, payload in points])})
        if self._live.info().points_count >= self.seal_frames:
            self._freeze()
        self.step()

    def apply(self, op: dict) -> None:
        """A deletion or cluster change, on every shard, journaled for the builds."""
        operation = _operation(op)
        for shard in self.all():
            shard.update(operation)
            shard.flush()
        with open(self.root / "journal.jsonl", "a") as journal:
            journal.write(json.dumps(op) + "\n")
        self._ops.append(op)
        self._buffer = [_apply_to_arrays(part, [op]) for part in self._buffer]

    def _freeze(self) -> None:
        begun = time.perf_counter()
        name = self._manifest["live"]
        npz = f"points-{name}.npz"
        np.savez(self.root / npz, **_concatenate(self._buffer))
        self._buffer = []
        self._manifest["shards"].append({"dir": name, "tier": UNBUILT, "inputs": [[npz, len(self._ops)]]})
        self._shards[name] = self._live
        self._manifest["live"] = self._name("live")
        self._live = _open(self.root / self._manifest["live"], shard_config(self.dim, built=False))
        self._save()
        log.info("frame shard %s frozen in %.2f s", name, time.perf_counter() - begun)

    def _export(self, shard) -> dict[str, np.ndarray]:
        from qdrant_edge import ScrollRequest

        records, offset = [], None
        while True:
            page, offset = shard.scroll(ScrollRequest(offset=offset, limit=SCROLL_PAGE, with_payload=True,
                                                      with_vector=True))
            records += page
            if offset is None:
                break
        return {"id": np.array([str(record.id) for record in records]),
                "vector": np.array([record.vector for record in records], np.float16).reshape(len(records), self.dim),
                "video_id": np.array([record.payload["video_id"] for record in records]),
                "t": np.array([record.payload["t"] for record in records], np.float64),
                "cluster_id": np.array([record.payload["cluster_id"] for record in records])}

    # -- builds ---------------------------------------------------------------------------------

    def _next_job(self) -> list[dict]:
        """The shards to build into one: every frozen one, else the oldest MERGE_FANIN of the lowest full tier."""
        shards = self._manifest["shards"]
        frozen = [entry for entry in shards if entry["tier"] == UNBUILT]
        if frozen:
            return frozen
        for tier in sorted({entry["tier"] for entry in shards if entry["tier"] > UNBUILT}):
            same = [entry for entry in shards if entry["tier"] == tier]
            if len(same) >= MERGE_FANIN:
                return same[:MERGE_FANIN]
        return []

    def step(self) -> bool:
        """Adopt a finished build, start the next one; never waits. True while a build runs or is due."""
        if self._child is not None:
            if self._child.poll() is None:
                return True
            self._finish()
        sources = self._next_job()
        if not sources or time.monotonic() < self._retry_at:
            return bool(sources)
        out = self._name("built")
        tier = max(entry["tier"] for entry in sources) + 1
        points = f"points-{out}.npz"
        spec = {"out": str(self.root / out), "points": str(self.root / points), "dim": self.dim, "journal": self._ops,
                "inputs": [[str(self.root / name), position] for entry in sources for name, position in entry["inputs"]]}
        spec_path = self.root / f"{out}.json"
        spec_path.write_text(json.dumps(spec))
        self._save()
        self._job = {"out": out, "tier": tier, "sources": [entry["dir"] for entry in sources], "upto": len(self._ops),
                     "inputs": [[points, len(self._ops)]], "spec": spec_path, "log": self.root / f"{out}.log",
                     "replaced": [name for entry in sources for name, _ in entry["inputs"]] + [entry["dir"] for entry in sources],
                     "started": time.monotonic()}
        with open(self._job["log"], "wb") as errors:
            self._child = subprocess.Popen([sys.executable, "-m", "streams.index.frameshards", str(spec_path)],
                                           stdout=subprocess.DEVNULL, stderr=errors)
        return True

    def _finish(self) -> None:
        child, job = self._child, self._job
        self._child = self._job = None
        job["spec"].unlink(missing_ok=True)
        errors = job["log"].read_text(errors="replace")[-2000:]
        job["log"].unlink(missing_ok=True)
        if child.returncode != 0:
            log.warning("building the frame shard %s failed (%s): %s", job["out"], child.returncode, errors)
            _remove(self.root / job["out"], self.root / job["inputs"][0][0])
            self._retry_at = time.monotonic() + RETRY_AFTER_S
            return
        begun = time.perf_counter()
        entry = {"dir": job["out"], "tier": job["tier"], "inputs": job["inputs"]}
        shard = _open(self.root / job["out"], self._config(entry))
        for op in self._ops[job["upto"]:]:  # what happened while it was built
            shard.update(_operation(op))
        shard.flush()
        self._shards[job["out"]] = shard
        self._manifest["shards"] = [e for e in self._manifest["shards"] if e["dir"] not in job["sources"]] + [entry]
        self._save()
        for name in job["sources"]:
            self._shards.pop(name).close()
        # Deleting a few hundred MB takes a while; os calls let the event loop run meanwhile.
        self._removing = threading.Thread(target=_remove, args=[self.root / name for name in job["replaced"]])
        self._removing.start()
        log.info("frame shard %s built from %s in %.1f s, adopted in %.2f s", job["out"], ", ".join(job["sources"]),
                 time.monotonic() - job["started"], time.perf_counter() - begun)

    def add_built(self, points: dict[str, np.ndarray], tier: int) -> float:
        """A bulk load (the benchmark's catalogue): one shard of these points (the arrays a frozen
        shard exports: id, vector, video_id, t, cluster_id), built by the child at once, as if
        MERGE_FANIN ** (tier - 1) frozen shards had been built and merged into it; the seconds
        the build took. Writes and searches go on as usual afterwards."""
        self.settle()
        out = self._name("built")
        npz, built_points = f"points-{out}-in.npz", f"points-{out}.npz"
        np.savez(self.root / npz, **points)
        spec_path = self.root / f"{out}.json"
        spec_path.write_text(json.dumps({"out": str(self.root / out), "points": str(self.root / built_points),
                                         "dim": self.dim, "journal": self._ops,
                                         "inputs": [[str(self.root / npz), len(self._ops)]]}))
        begun = time.perf_counter()
        try:
            subprocess.run([sys.executable, "-m", "streams.index.frameshards", str(spec_path)], check=True)
        finally:
            _remove(spec_path, self.root / npz)
        seconds = time.perf_counter() - begun
        entry = {"dir": out, "tier": tier, "inputs": [[built_points, len(self._ops)]]}
        self._shards[out] = _open(self.root / out, self._config(entry))
        self._manifest["shards"].append(entry)
        self._save()
        return seconds

    def settle(self, timeout: float = 3600.0) -> None:
        """Wait for every due build (the benchmark and tests; the worker never waits)."""
        deadline = time.monotonic() + timeout
        while self.step():
            if time.monotonic() > deadline:
                raise TimeoutError("frame shard builds still running")
            time.sleep(0.05)

    def close(self) -> None:
        if self._child is not None:  # an unfinished build is removed at the next open and started again
            self._child.terminate()
            self._child.wait()
            self._child = None
        if self._removing is not None:
            self._removing.join()
        for shard in self.all():
            shard.close()


def steady_layout(frames: int, seal_frames: int = SEAL_FRAMES) -> tuple[list[tuple[int, int]], int]:
    """The shards FrameShards holds after `frames` writes when every build finishes before the
    next freeze (the stream's pace): (tier, frames) of each built shard, largest first (a tier-t
    shard holds MERGE_FANIN ** (t - 1) frozen shards), and the frames left in the live shard."""
    units, live = divmod(frames, seal_frames)
    shards, tier = [], 1
    while units:
        units, count = divmod(units, MERGE_FANIN)
        shards += [(tier, seal_frames * MERGE_FANIN ** (tier - 1))] * count
        tier += 1
    return shards[::-1], live


def build(spec: dict) -> None:
    """The child: one built shard from the point files, with the journal applied up to its start."""
    os.nice(5)  # the stream comes first
    ops = spec["journal"]
    parts = []
    for path, position in spec["inputs"]:
        with np.load(path) as stored:
            parts.append(_apply_to_arrays({key: stored[key] for key in stored.files}, ops[position:]))
    points = parts[0] if len(parts) == 1 else _concatenate(parts)
    del parts  # the inputs once more, and their vectors in float32 below, were most of a build's memory
    np.savez(spec["points"], **points)  # the shard's points as built: the input of its next merge
    building = Path(spec["out"] + ".building")
    build_shard(building, points, shard_config(spec["dim"], built=True)).close()
    building.rename(spec["out"])


def build_shard(path: Path, points: dict[str, np.ndarray], config):
    """A new shard at path holding these points (the arrays a frozen shard exports), its graph
    built (holding Python's lock for the whole build): open."""
    from qdrant_edge import EdgeShard, PayloadSchemaType, Point, UpdateOperation

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    shard = EdgeShard.create(str(path), config)
    for field in ("video_id", "cluster_id"):
        shard.update(UpdateOperation.create_field_index(field, PayloadSchemaType.Keyword))
    for start in range(0, len(points["vector"]), SCROLL_PAGE):  # later inputs overwrite earlier copies of a point
        stop = start + SCROLL_PAGE
        shard.update(UpdateOperation.upsert_points([
            Point(point_id, vector.tolist(), {"video_id": video_id, "t": float(t), "cluster_id": cluster_id})
            for point_id, vector, video_id, t, cluster_id in zip(points["id"][start:stop],
                                                                 points["vector"][start:stop].astype(np.float32),
                                                                 points["video_id"][start:stop], points["t"][start:stop],
                                                                 points["cluster_id"][start:stop])]))
    shard.flush()
    shard.optimize()
    return shard


if __name__ == "__main__":
    build(json.loads(Path(sys.argv[1]).read_text()))
