"""The index on a Qdrant server, through qdrant-client: what production runs (many workers, one
Qdrant, its dashboard on port 6333).

Four collections per generation (streams.index: <prefix>_<frame model>_<digest>_*), created at
start when absent, each described in its metadata so that a person browsing the dashboard knows
what a point is: _frames (one point per sampled frame), _videos (one readable record per indexed
video), _video_data (each video's fingerprint and verdict JSON, under the record's point id) and
_audio (soundtrack windows). The aliases <prefix>_frames, <prefix>_videos, ... name the current
generation; a worker resolves them when it opens the index.
The same class works on qdrant-client's local mode (`QdrantClient(path=...)` or `":memory:"`),
which is how the tests run it: no Qdrant server binary installs on the test machines."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from streams.config import Settings
from streams.index import (AUDIO_WINDOW_BITS, DATA_VECTOR, FULL_SCAN_THRESHOLD_KB, HNSW_EF_CONSTRUCT, HNSW_EF_SEARCH, HNSW_M,
                           INDEXING_THRESHOLD_KB, INT8_QUANTILE, KINDS, QUANTIZATION_OVERSAMPLING, AudioHit, Generation,
                           IndexError_, StoredVideo, audio_hits, audio_points, frame_hits, frame_points, generation_for,
                           generation_of, mean_descriptor, sorted_frames, unavailable_on_error, video_data_payload,
                           video_from_payload, video_payload, video_point_id)
from streams.values import FrameHit

UPSERT_BATCH = 256  # points per upsert request: a 1200-frame video is five requests, each well under 2 MB
SEARCH_BATCH = 64  # query frames per query_batch_points request
SCROLL_PAGE = 256  # frame points (with their vectors) read per scroll request by get_frames

FRAMES_DESCRIPTION = (
    "dupstream: one point per sampled frame of every indexed video. Vector: the frame's SSCD copy-detection "
    "descriptor (cosine). Payload: video_id, t (seconds into the video), cluster_id (the earliest-indexed video "
    "of its duplicate cluster). Searched for every new video; written once per video by the match stage."
)
VIDEOS_DESCRIPTION = (
    "dupstream: one point per indexed video; its presence marks the video as indexed. Vector: the normalised "
    "mean of its frame descriptors. Payload: video_id, uri, published_at, cluster_id (the root of its duplicate "
    "cluster, the video verdicts name), verdict (its class), duration (s), has_sound, audio_state, sequence "
    "(indexing order). Its fingerprint and verdict JSON are in the _video_data collection, same point id."
)
DATA_DESCRIPTION = (
    "dupstream: the machine data of each indexed video, under the point id of its record in the _videos "
    "collection: video_id, the soundtrack's Chromaprint (audio_items, base64 uint32; audio_items_per_second) and "
    "the verdict it got (verdict_json), re-emitted when the video is processed again. The 1-d vector is a "
    "placeholder."
)

AUDIO_DESCRIPTION = (
    "dupstream: soundtrack windows of every indexed video with usable audio: 32 Chromaprint items (about 4 s) "
    "every 8 items. Vector: the window's 1024 bits as +1/-1 (dot product = 1024 - 2 x Hamming distance; binary "
    "quantization holds the bits exactly). Payload: video_id, offset (seconds into the video)."
)


def _field_is(key: str, value: str | list[str]):
    """A filter on a keyword field: equal to value, or to any of a list of values."""
    from qdrant_client import models

    match = models.MatchAny(any=value) if isinstance(value, list) else models.MatchValue(value=value)
    return models.Filter(must=[models.FieldCondition(key=key, match=match)])


def _split(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class ServerIndex:
    def __init__(self, client, prefix: str, dim: int = 512, *, where: str = "Qdrant", frame_model: str = "sscd",
                 generation: Generation | None = None, owns_client: bool = True):
        """`client` is a `qdrant_client.QdrantClient`: on a server URL in production, in local mode in tests.
        prefix: the base (DUPSTREAM_COLLECTION_PREFIX). generation: the one to open (created when absent);
        by default the one the aliases name, or a new one for frame_model, made current."""
        self.client = client
        self.owns_client = owns_client  # False: another ServerIndex's client (open_generation), closed by it
        self.where = where
        self.prefix = prefix
        self.dim = dim
        try:
            current = self._current()
            self.generation = generation or current or generation_for(prefix, frame_model)
            name = self.generation.name
            self.frames, self.videos, self.audio, self.data = (f"{name}_{kind}" for kind in KINDS)
            self._ensure_collection(self.frames, dim, FRAMES_DESCRIPTION, indexed=("video_id", "cluster_id"))
            # order_by (the last sequence) needs an integer index on sequence.
            self._ensure_collection(self.videos, dim, VIDEOS_DESCRIPTION, indexed=("cluster_id", "sequence"))
            self._ensure_collection(self.audio, AUDIO_WINDOW_BITS, AUDIO_DESCRIPTION, indexed=("video_id",),
                                    binary=True)
            self._ensure_collection(self.data, len(DATA_VECTOR), DATA_DESCRIPTION, indexed=())
            if generation is None and current is None:
                self.switch(self.generation)
        except Exception as error:
            raise IndexError_(f"cannot open the collections {prefix}_frames, {prefix}_videos, {prefix}_audio on "
                              f"{where}: {error}") from error

    @classmethod
    def connect(cls, settings: Settings, dim: int = 512, generation: Generation | None = None) -> ServerIndex:
        """The Qdrant server named by settings.qdrant_location (an http(s) URL)."""
        from qdrant_client import QdrantClient

        client = QdrantClient(url=settings.qdrant_location, api_key=settings.qdrant_api_key or None)
        return cls(client, settings.collection_prefix, dim, where=settings.qdrant_location,
                   frame_model=settings.frame_model, generation=generation)

    def _aliases(self) -> dict[str, str]:
        return {alias.alias_name: alias.collection_name for alias in self.client.get_aliases().aliases}

    def _current(self) -> Generation | None:
        """The generation the aliases name; without them, the unversioned <prefix>_* collections
        when they exist (an index made before generations); else None."""
        target = self._aliases().get(f"{self.prefix}_videos")
        if target is not None:
            name = target.removesuffix("_videos")
            return generation_of(self.prefix, name) or Generation(name, "")
        return Generation(self.prefix, "") if self.client.collection_exists(f"{self.prefix}_videos") else None

    def generations(self) -> list[Generation]:
        with self._server("list the collections"):
            names = [collection.name.removesuffix("_videos") for collection in self.client.get_collections().collections
                     if collection.name.endswith("_videos")]
        return sorted(found for found in (generation_of(self.prefix, name) for name in names) if found)

    def open_generation(self, generation: Generation) -> ServerIndex:
        return ServerIndex(self.client, self.prefix, self.dim, where=self.where, generation=generation,
                           owns_client=False)

    def switch(self, generation: Generation) -> None:
        """Move the four aliases in one request, which Qdrant applies atomically."""
        from qdrant_client import models

        if self.client.collection_exists(f"{self.prefix}_videos") and f"{self.prefix}_videos" not in self._aliases():
            raise IndexError_(f"collections named {self.prefix}_* (made before generations) hold the alias names: "
                              f"drop them first (`dupstream index migrate --drop-old`, with the workers stopped)")
        aliases = self._aliases()
        operations = []
        for kind in KINDS:
            alias = f"{self.prefix}_{kind}"
            if alias in aliases:
                operations.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
            operations.append(models.CreateAliasOperation(create_alias=models.CreateAlias(
                collection_name=f"{generation.name}_{kind}", alias_name=alias)))
        with self._server("switch the aliases"):
            self.client.update_collection_aliases(change_aliases_operations=operations)

    def _ensure_collection(self, name: str, dim: int, description: str, indexed: tuple[str, ...],
                           binary: bool = False) -> None:
        """indexed: payload fields to index (keyword; `sequence` integer). binary: ±1 vectors compared by
        dot product, binary-quantized (soundtrack windows)."""
        from qdrant_client import models

        if not self.client.collection_exists(name):
            if binary:
                vectors = models.VectorParams(
                    size=dim, distance=models.Distance.DOT, datatype=models.Datatype.FLOAT16,
                    quantization_config=models.BinaryQuantization(
                        binary=models.BinaryQuantizationConfig(always_ram=True)))
            else:
                # As the embedded index's built shards (streams.index.frameshards): float16 originals
                # (the descriptors are float16 between stages), int8 copies in RAM for the graph walk.
                vectors = models.VectorParams(
                    size=dim, distance=models.Distance.COSINE, datatype=models.Datatype.FLOAT16,
                    quantization_config=models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(
                        type=models.ScalarType.INT8, quantile=INT8_QUANTILE, always_ram=True)))
            try:
                self.client.create_collection(
                    name,
                    vectors_config=vectors,
                    # The server's optimizers build the graphs in the background; searches meanwhile scan
                    # the unindexed segments. Payloads (Chromaprints, verdicts) are read per hit: on disk.
                    hnsw_config=models.HnswConfigDiff(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT,
                                                      full_scan_threshold=FULL_SCAN_THRESHOLD_KB),
                    optimizers_config=models.OptimizersConfigDiff(indexing_threshold=INDEXING_THRESHOLD_KB),
                    on_disk_payload=True,
                    metadata={"description": description, "dimension": dim,
                              "distance": "dot" if binary else "cosine", "generation": self.generation.name,
                              "frame_model": self.generation.frame_model},
                )
            except Exception:
                # Workers starting together race to create it; losing the race is fine.
                if not self.client.collection_exists(name):
                    raise
        for field in indexed:
            kind = models.PayloadSchemaType.INTEGER if field == "sequence" else models.PayloadSchemaType.KEYWORD
            self.client.create_payload_index(name, field, kind, wait=True)

    def _server(self, action: str):
        return unavailable_on_error(self.where, action)

    def _stored(self, records: list) -> list[StoredVideo]:
        """The stored videos of these records, with their machine data."""
        data = {str(point.id): point.payload
                for point in self.client.retrieve(self.data, [record.id for record in records], with_payload=True)}
        return [video_from_payload(record.payload, data.get(str(record.id))) for record in records]

    def get_video(self, video_id: str) -> StoredVideo | None:
        with self._server("read the video record"):
            records = self.client.retrieve(self.videos, [video_point_id(video_id)], with_payload=True)
            return self._stored(records)[0] if records else None

    def video_count(self) -> int:
        with self._server("count the videos"):
            return self.client.count(self.videos, exact=True).count

    def _search(self, collection: str, vectors: np.ndarray, limit: int, score_floor: float, payload: list[str],
                oversampling: float | None = None) -> list:
        """For each query vector, the list of its stored neighbours scoring at least score_floor.
        oversampling: quantized candidates rescored on the originals, per result kept."""
        from qdrant_client import models

        quantization = None if oversampling is None else models.QuantizationSearchParams(rescore=True,
                                                                                           oversampling=oversampling)
        params = models.SearchParams(hnsw_ef=HNSW_EF_SEARCH, exact=False, quantization=quantization)
        requests = [models.QueryRequest(query=vector.tolist(), limit=limit, score_threshold=score_floor,
                                        with_payload=payload, params=params)
                    for vector in np.asarray(vectors, np.float32)]
        results = []
        with self._server(f"search {collection}"):
            for batch in _split(requests, SEARCH_BATCH):
                results += [response.points for response in self.client.query_batch_points(collection, batch)]
        return results

    def _upsert(self, collection: str, points: list[tuple[str, list[float], dict]]) -> None:
        from qdrant_client import models

        structs = [models.PointStruct(id=point_id, vector=vector, payload=payload) for point_id, vector, payload in points]
        with self._server(f"write to {collection}"):
            for batch in _split(structs, UPSERT_BATCH):
                self.client.upsert(collection, batch, wait=True)

    def search_frames(
        self, embeddings: np.ndarray, timestamps: np.ndarray, *, limit: int, score_floor: float, mirrored: bool = False
    ) -> list[FrameHit]:
        results = self._search(self.frames, embeddings, limit, score_floor, ["video_id", "t"], QUANTIZATION_OVERSAMPLING)
        return frame_hits(timestamps, results, mirrored)

    def add_video(self, video: StoredVideo, timestamps: np.ndarray, embeddings: np.ndarray) -> None:
        point_id = video_point_id(video.video_id)
        self._upsert(self.frames, frame_points(video, timestamps, embeddings))
        self._upsert(self.data, [(point_id, DATA_VECTOR, video_data_payload(video))])
        # The video record goes last: its presence is what marks the video as indexed.
        self._upsert(self.videos, [(point_id, mean_descriptor(np.asarray(embeddings, np.float32)),
                                    video_payload(video))])

    def get_frames(self, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        from qdrant_client import models

        only = models.Filter(must=[models.FieldCondition(key="video_id", match=models.MatchValue(value=video_id))])
        records, offset = [], None
        with self._server("read a video's frames"):
            while True:
                page, offset = self.client.scroll(self.frames, scroll_filter=only, limit=SCROLL_PAGE, offset=offset,
                                                  with_payload=["t"], with_vectors=True)
                records += page
                if offset is None:
                    break
        return sorted_frames(records, self.dim)

    def add_audio(self, video_id: str, windows: np.ndarray, offsets: np.ndarray) -> None:
        self._upsert(self.audio, audio_points(video_id, windows, offsets))

    def search_audio(self, windows: np.ndarray, offsets: np.ndarray, *, limit: int, score_floor: float) -> list[AudioHit]:
        return audio_hits(offsets, self._search(self.audio, windows, limit, score_floor, ["video_id", "offset"]))

    def last_sequence(self) -> int:
        from qdrant_client import models

        with self._server("read the last sequence"):
            records, _ = self.client.scroll(self.videos, limit=1, with_payload=["sequence"],
                                            order_by=models.OrderBy(key="sequence", direction=models.Direction.DESC))
        return int(records[0].payload["sequence"]) if records else 0

    def cluster_members(self, cluster_id: str) -> list[StoredVideo]:
        members, offset = [], None
        with self._server("read a cluster"):
            while True:
                records, offset = self.client.scroll(self.videos, scroll_filter=_field_is("cluster_id", cluster_id),
                                                     limit=UPSERT_BATCH, offset=offset, with_payload=True)
                members += self._stored(records)
                if offset is None:
                    return sorted(members, key=lambda video: video.sequence)

    def set_cluster(self, video_ids: list[str], cluster_id: str) -> None:
        with self._server("re-point a cluster"):
            self.client.set_payload(self.frames, {"cluster_id": cluster_id}, points=_field_is("video_id", video_ids),
                                    wait=True)
            self.client.set_payload(self.videos, {"cluster_id": cluster_id},
                                    points=[video_point_id(video_id) for video_id in video_ids], wait=True)

    def delete_video(self, video_id: str) -> dict[str, int]:
        from qdrant_client import models

        of_video = _field_is("video_id", video_id)
        removed = {}
        with self._server("delete the video"):
            for kind, collection in (("frames", self.frames), ("audio", self.audio)):
                removed[kind] = self.client.count(collection, count_filter=of_video, exact=True).count
                self.client.delete(collection, models.FilterSelector(filter=of_video), wait=True)
            record = [video_point_id(video_id)]
            removed["videos"] = len(self.client.retrieve(self.videos, record, with_payload=False))
            for collection in (self.videos, self.data):
                self.client.delete(collection, models.PointIdsList(points=record), wait=True)
        return removed

    def video_ids(self) -> list[str]:
        records, offset = [], None
        with self._server("list the videos"):
            while True:
                page, offset = self.client.scroll(self.videos, limit=UPSERT_BATCH, offset=offset,
                                                  with_payload=["video_id", "sequence"])
                records += [(record.payload["sequence"], record.payload["video_id"]) for record in page]
                if offset is None:
                    return [video_id for _, video_id in sorted(records)]

    def drop(self) -> None:
        with self._server("delete the collections"):
            for collection in (self.frames, self.videos, self.audio, self.data):
                self.client.delete_collection(collection)
        self.close()

    def video_record(self, video_id: str) -> dict | None:
        with self._server("read the video record"):
            records = self.client.retrieve(self.videos, [video_point_id(video_id)], with_payload=True)
        return dict(records[0].payload) if records else None

    def nearest_videos(self, video_id: str, limit: int) -> list[tuple[str, float]]:
        with self._server("search the videos"):
            if not self.client.retrieve(self.videos, [video_point_id(video_id)], with_payload=False):
                return []
            # A point id as the query: the server searches with that point's own vector, and leaves it out.
            points = self.client.query_points(self.videos, query=video_point_id(video_id), limit=limit,
                                              with_payload=["video_id"]).points
        return [(point.payload["video_id"], point.score) for point in points]

    def stats(self) -> dict[str, int]:
        with self._server("count the points"):
            return {kind: self.client.count(collection, exact=True).count
                    for kind, collection in (("videos", self.videos), ("frames", self.frames), ("audio", self.audio))}

    def close(self) -> None:
        if self.owns_client:
            self.client.close()
