"""The index on Qdrant Edge: Qdrant's own engine (HNSW, on-disk segments) inside the worker.

One shard per collection, in <qdrant dir>/<generation>_frames, <generation>_videos,
<generation>_video_data (each video's fingerprint and verdict JSON, beside its readable record) and
<generation>_audio (soundtrack windows: Dot on ±1 vectors, binary quantization in RAM), where the
generation is <prefix>_<frame model>_<digest> and the file <prefix>.current.json names the current
one (streams.index: generations). A shard is opened by one process at a time: the embedded stack
runs one match worker, and `dupstream index migrate` runs with the stack stopped.

The frames are a few shards whose HNSW graphs a child process builds (streams.index.frameshards):
the binding holds the GIL while it builds, which inside the worker would stop its event loop for
the build. The videos are scanned (no graph). The soundtrack windows' writes end with
`optimize()`, a no-op (~0.05 ms) until the shard's unindexed segment passes INDEXING_THRESHOLD_KB
(~5000 windows), when it builds that segment's graph in the worker."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from streams.index import (
    AUDIO_WINDOW_BITS,
    DATA_VECTOR,
    FULL_SCAN_THRESHOLD_KB,
    KINDS,
    HNSW_EF_CONSTRUCT,
    HNSW_EF_SEARCH,
    HNSW_M,
    INDEXING_THRESHOLD_KB,
    AudioHit,
    Generation,
    IndexError_,
    StoredVideo,
    audio_hits,
    audio_points,
    frame_hits,
    frame_points,
    generation_for,
    generation_of,
    mean_descriptor,
    sorted_frames,
    unavailable_on_error,
    video_data_payload,
    video_from_payload,
    video_payload,
    video_point_id,
)
from streams.index.frameshards import SEAL_FRAMES, FrameShards, search_params
from streams.values import FrameHit

MAX_SEGMENT_KB = 100_000


def _nearest_requests(vectors: np.ndarray, limit: int, score_floor: float, params=None,
                      payload: bool | list[str] = True) -> list:
    from qdrant_edge import Query, QueryRequest, SearchParams

    params = params or SearchParams(hnsw_ef=HNSW_EF_SEARCH)
    # A float32 row goes in as it is: cheaper than a list of Python floats, the same search.
    return [QueryRequest(limit=limit, query=Query.Nearest(vector), with_payload=payload,
                         score_threshold=score_floor, params=params)
            for vector in np.asarray(vectors, np.float32)]


SCROLL_PAGE = 256  # records per scroll request when listing a cluster


def _field_is(key: str, value: str | list[str]):
    """A filter on a keyword field: equal to value, or to any of a list of values."""
    from qdrant_edge import FieldCondition, Filter, MatchAny, MatchValue

    match = MatchAny(value) if isinstance(value, list) else MatchValue(value)
    return Filter(must=[FieldCondition(key, match=match)])


def _write(shard, points: list) -> None:
    """Upsert, flush, and index the shard once its unindexed part passes the indexing threshold."""
    from qdrant_edge import UpdateOperation

    shard.update(UpdateOperation.upsert_points(points))
    shard.flush()
    shard.optimize()


def _open_shard(path: Path, dim: int, audio: bool = False, graph: bool = True):
    """graph: build an HNSW graph once the unindexed segment passes INDEXING_THRESHOLD_KB (in the worker)."""
    from qdrant_edge import (BinaryQuantizationConfig, Distance, EdgeConfig, EdgeOptimizersConfig, EdgeShard,
                             EdgeVectorParams, HnswIndexConfig, VectorStorageDatatype)

    if audio:
        # ±1 windows: the binary-quantized vector is the window itself; the originals (for
        # rescoring) fit in float16 exactly.
        vectors = EdgeVectorParams(size=dim, distance=Distance.Dot, datatype=VectorStorageDatatype.Float16,
                                   quantization_config=BinaryQuantizationConfig(always_ram=True))
    else:
        vectors = EdgeVectorParams(size=dim, distance=Distance.Cosine)
    config = EdgeConfig(
        vectors=vectors,
        hnsw_config=HnswIndexConfig(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT, full_scan_threshold=FULL_SCAN_THRESHOLD_KB),
        optimizers=EdgeOptimizersConfig(indexing_threshold=INDEXING_THRESHOLD_KB if graph else 2 ** 40,
                                        max_segment_size=MAX_SEGMENT_KB),
    )
    try:
        if (path / "edge_config.json").exists() or any(path.glob("segments*")):
            return EdgeShard.load(str(path), config)
        path.mkdir(parents=True, exist_ok=True)
        return EdgeShard.create(str(path), config)
    except Exception as error:
        raise IndexError_(f"cannot open the Qdrant Edge shard at {path}: {error}") from error


def _pointer(directory: Path, prefix: str) -> Path:
    return directory / f"{prefix}.current.json"


def current_generation(directory: Path, prefix: str) -> Generation | None:
    """The generation the pointer file names; without one, the unversioned <prefix>_* shards
    when they exist (an index made before generations); else None."""
    pointer = _pointer(directory, prefix)
    if pointer.exists():
        return Generation(**json.loads(pointer.read_text()))
    return Generation(prefix, "") if (directory / f"{prefix}_videos").exists() else None


class EdgeIndex:
    def __init__(self, directory: Path, prefix: str, dim: int = 512, *, frame_model: str = "sscd",
                 generation: Generation | None = None, seal_frames: int = SEAL_FRAMES):
        """prefix: the base (DUPSTREAM_COLLECTION_PREFIX). generation: the one to open (created when
        absent); by default the current one, or a new one for frame_model, made current.
        seal_frames: the live frame shard's size (streams.index.frameshards)."""
        from qdrant_edge import PayloadSchemaType, UpdateOperation

        self.directory = Path(directory)
        self.dim = dim
        self.prefix = prefix
        fresh = generation is None and current_generation(self.directory, prefix) is None
        self.generation = generation or current_generation(self.directory, prefix) or generation_for(prefix, frame_model)
        name = self.generation.name
        try:
            self._frames = FrameShards(self.directory / f"{name}_frames", dim, seal_frames)
        except Exception as error:
            raise IndexError_(f"cannot open the Qdrant Edge frame shards at {self.directory}: {error}") from error
        # One mean vector per video, searched only by `dupstream index show`: scanned, so that no
        # write builds a graph in the worker (a 5000-video graph stopped it for seconds).
        self._videos = _open_shard(self.directory / f"{name}_videos", dim, graph=False)
        self._audio = _open_shard(self.directory / f"{name}_audio", AUDIO_WINDOW_BITS, audio=True)
        self._data = _open_shard(self.directory / f"{name}_video_data", len(DATA_VECTOR))
        if fresh:
            self.switch(self.generation)
        for shard, field, kind in ((self._audio, "video_id", PayloadSchemaType.Keyword),
                                   (self._videos, "cluster_id", PayloadSchemaType.Keyword),
                                   (self._videos, "sequence", PayloadSchemaType.Integer)):  # order_by needs it
            shard.update(UpdateOperation.create_field_index(field, kind))

    def _engine(self, action: str):
        return unavailable_on_error(str(self.directory), action)

    def _stored(self, records: list) -> list[StoredVideo]:
        """The stored videos of these records, with their machine data."""
        data = {point.id: point.payload for point in
                self._data.retrieve([record.id for record in records], with_payload=True, with_vector=False)}
        return [video_from_payload(record.payload, data.get(record.id)) for record in records]

    def get_video(self, video_id: str) -> StoredVideo | None:
        with self._engine("read the video record"):
            records = self._videos.retrieve([video_point_id(video_id)], with_payload=True, with_vector=False)
            return self._stored(records)[0] if records else None

    def video_count(self) -> int:
        with self._engine("count the videos"):
            return self._videos.info().points_count

    def search_frames(
        self, embeddings: np.ndarray, timestamps: np.ndarray, *, limit: int, score_floor: float, mirrored: bool = False,
        exact: bool = False, hnsw_ef: int | None = None,
    ) -> list[FrameHit]:
        """exact: scan every stored frame instead of walking the graphs (the benchmark's reference);
        hnsw_ef: one graph search width for every shard (the benchmark's sweep) instead of each
        shard's own (frameshards.graph_search_width)."""
        if len(embeddings) == 0:
            return []

        def requests_for(width: int) -> list:
            return _nearest_requests(embeddings, limit, score_floor, search_params(exact, hnsw_ef or width),
                                     ["video_id", "t"])

        with self._engine("search the frames"):
            results = self._frames.query(requests_for)
        return frame_hits(timestamps, results, mirrored)

    def add_video(self, video: StoredVideo, timestamps: np.ndarray, embeddings: np.ndarray) -> None:
        from qdrant_edge import Point

        frames = frame_points(video, timestamps, embeddings)
        # The video record goes last: its presence is what marks the video as indexed.
        point_id = video_point_id(video.video_id)
        record = Point(point_id, mean_descriptor(np.asarray(embeddings, np.float32)), video_payload(video))
        with self._engine("write the video"):
            if frames:
                self._frames.upsert(frames)
            _write(self._data, [Point(point_id, DATA_VECTOR, video_data_payload(video))])
            _write(self._videos, [record])

    def get_frames(self, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        with self._engine("read a video's frames"):
            records = self._frames.scroll(_field_is("video_id", video_id), with_vector=True)
        return sorted_frames(records, self.dim)

    def settle(self, timeout: float = 3600.0) -> None:
        """Wait until every frame is in a graph built by the child process (benchmark, tests)."""
        with self._engine("build the frame graphs"):
            self._frames.settle(timeout)

    def add_audio(self, video_id: str, windows: np.ndarray, offsets: np.ndarray) -> None:
        from qdrant_edge import Point

        points = [Point(*point) for point in audio_points(video_id, windows, offsets)]
        if points:
            with self._engine("write the audio windows"):
                _write(self._audio, points)

    def search_audio(self, windows: np.ndarray, offsets: np.ndarray, *, limit: int, score_floor: float) -> list[AudioHit]:
        from qdrant_edge import QueryBatchRequest

        with self._engine("search the audio windows"):
            if len(windows) == 0 or self._audio.info().points_count == 0:
                return []
            results = self._audio.query_batch(QueryBatchRequest(_nearest_requests(windows, limit, score_floor)))
        return audio_hits(offsets, results)

    def last_sequence(self) -> int:
        from qdrant_edge import Direction, OrderBy, ScrollRequest

        with self._engine("read the last sequence"):
            records, _ = self._videos.scroll(ScrollRequest(limit=1, with_payload=True,
                                                           order_by=OrderBy("sequence", Direction.Desc)))
        return int(records[0].payload["sequence"]) if records else 0

    def cluster_members(self, cluster_id: str) -> list[StoredVideo]:
        from qdrant_edge import ScrollRequest

        members, offset = [], None
        with self._engine("read a cluster"):
            while True:
                records, offset = self._videos.scroll(ScrollRequest(
                    offset=offset, limit=SCROLL_PAGE, filter=_field_is("cluster_id", cluster_id), with_payload=True))
                members += self._stored(records)
                if offset is None:
                    return sorted(members, key=lambda video: video.sequence)

    def set_cluster(self, video_ids: list[str], cluster_id: str) -> None:
        from qdrant_edge import UpdateOperation

        with self._engine("re-point a cluster"):
            self._frames.apply({"cluster": cluster_id, "videos": video_ids})
            self._videos.update(UpdateOperation.set_payload([video_point_id(v) for v in video_ids],
                                                            {"cluster_id": cluster_id}))
            self._videos.flush()

    def delete_video(self, video_id: str) -> dict[str, int]:
        from qdrant_edge import CountRequest, UpdateOperation

        of_video = _field_is("video_id", video_id)
        removed = {}
        with self._engine("delete the video"):
            removed["frames"] = len(self._frames.scroll(of_video, with_vector=False))
            self._frames.apply({"delete": video_id})
            removed["audio"] = self._audio.count(CountRequest(exact=True, filter=of_video))
            self._audio.update(UpdateOperation.delete_points_by_filter(of_video))
            self._audio.flush()
            record = [video_point_id(video_id)]
            removed["videos"] = len(self._videos.retrieve(record, with_payload=False, with_vector=False))
            for shard in (self._videos, self._data):
                shard.update(UpdateOperation.delete_points(record))
                shard.flush()
        return removed

    def video_ids(self) -> list[str]:
        from qdrant_edge import ScrollRequest

        records, offset = [], None
        with self._engine("list the videos"):
            while True:
                page, offset = self._videos.scroll(ScrollRequest(offset=offset, limit=SCROLL_PAGE, with_payload=True))
                records += [(record.payload["sequence"], record.payload["video_id"]) for record in page]
                if offset is None:
                    return [video_id for _, video_id in sorted(records)]

    def drop(self) -> None:
        import shutil

        self.close()
        for kind in KINDS:
            shutil.rmtree(self.directory / f"{self.generation.name}_{kind}", ignore_errors=True)

    def generations(self) -> list[Generation]:
        names = (path.name.removesuffix("_videos") for path in self.directory.glob(f"{self.prefix}*_videos"))
        return sorted(found for found in (generation_of(self.prefix, name) for name in names) if found)

    def open_generation(self, generation: Generation) -> EdgeIndex:
        return EdgeIndex(self.directory, self.prefix, self.dim, generation=generation)

    def switch(self, generation: Generation) -> None:
        """Replace the pointer file in one rename: a process opening the index reads the old or the new one."""
        pointer = _pointer(self.directory, self.prefix)
        staged = pointer.with_suffix(".tmp")
        staged.write_text(json.dumps(generation._asdict()))
        os.replace(staged, pointer)

    def video_record(self, video_id: str) -> dict | None:
        with self._engine("read the video record"):
            records = self._videos.retrieve([video_point_id(video_id)], with_payload=True, with_vector=False)
        return dict(records[0].payload) if records else None

    def nearest_videos(self, video_id: str, limit: int) -> list[tuple[str, float]]:
        with self._engine("search the videos"):
            records = self._videos.retrieve([video_point_id(video_id)], with_payload=False, with_vector=True)
            if not records:
                return []
            (request,) = _nearest_requests(np.asarray([records[0].vector]), limit + 1, -1.0)
            points = self._videos.query(request)
        return [(point.payload["video_id"], point.score) for point in points
                if point.payload["video_id"] != video_id][:limit]

    def stats(self) -> dict[str, int]:
        return {"videos": self._videos.info().points_count, "frames": self._frames.count(),
                "audio": self._audio.info().points_count}

    def close(self) -> None:
        self._frames.close()
        for shard in (self._videos, self._audio, self._data):
            shard.close()
