"""The index of every video seen so far: per-frame descriptors to search, one record per video
that a person can read in the Qdrant dashboard (id, URI, cluster root, verdict class, ...), and
beside it, under the same point id, the video's machine data (soundtrack fingerprint, the verdict
JSON it got).

Two implementations satisfy `VideoIndex`: Qdrant Edge in-process (the embedded default) and
qdrant-client against a Qdrant server (production)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterable, NamedTuple, Protocol, get_args

import numpy as np

from schemas.events import AudioState
from streams.config import Settings
from streams.errors import IndexUnavailable
from streams.values import FrameHit

# Both engines build the same HNSW graphs (Qdrant's default shape) and search them alike.
HNSW_M = 16  # graph edges per node
# Candidates kept while building: at 100 the crowded synthetic frames of `dupstream bench index`
# lost recall@10 from 0.98 (20k frames) to 0.88 (50k) at hnsw_ef 128; at 200 they keep 0.98.
HNSW_EF_CONSTRUCT = 200
HNSW_EF_SEARCH = 128  # candidates kept while searching: recall@10 against exact search is in `dupstream bench index`
# A graph over more frames than this is walked with HNSW_EF_SEARCH_WIDE candidates: one shard of
# 1 M synthetic frames kept recall@10 0.92 at 128 and 0.95 at 256 (`dupstream bench index --merged
# --ef 128 256`, docs/evaluation.md), where ten shards of the same frames keep 0.98 at 128.
WIDE_GRAPH_FRAMES = 300_000
HNSW_EF_SEARCH_WIDE = 256
# Frame vectors are also held as int8 (scalar quantization, in RAM): a graph walk compares those,
# then the best limit x QUANTIZATION_OVERSAMPLING are rescored on the originals.
INT8_QUANTILE = 0.99
QUANTIZATION_OVERSAMPLING = 2.0
FULL_SCAN_THRESHOLD_KB = 10_000  # a segment holding fewer vectors than this is scanned, not walked
INDEXING_THRESHOLD_KB = 10_000  # ~5000 frames (2 KiB each) wait in a scanned segment before they get a graph


class IndexError_(IndexUnavailable):
    """The index could not be opened, read or written."""


# Generations. The collections holding one frame model's descriptors are <base>_<model>_<digest>_*
# (base: DUPSTREAM_COLLECTION_PREFIX; digest: of the model's weights), one "generation"; a pointer
# per base names the current one: Qdrant collection aliases <base>_frames, <base>_videos, ... on a
# server, the file <base>.current.json beside the shards on Qdrant Edge. A process resolves the
# pointer when it opens the index and keeps that generation: its frame model is its own setting,
# and descriptors of two models are never compared. `dupstream index migrate` fills a new
# generation and moves the pointer; the old generations stay until `--drop-old`.

KINDS = ("frames", "videos", "audio", "video_data")


@lru_cache(maxsize=None)
def frame_model_digest(model: str) -> str:
    """8 hex digits of the SHA-256 of the model's weights: which descriptors a generation holds."""
    from streams.embedding import model_path

    return hashlib.sha256(model_path(model).read_bytes()).hexdigest()[:8]


class Generation(NamedTuple):
    name: str  # its collections are <name>_frames, <name>_videos, <name>_audio, <name>_video_data
    frame_model: str  # '' for collections made before generations (named <base>_*): model not recorded
    digest: str = ""  # frame_model_digest of the weights that made its descriptors


def generation_for(base: str, model: str) -> Generation:
    return Generation(f"{base}_{model}_{frame_model_digest(model)}", model, frame_model_digest(model))


def generation_of(base: str, name: str) -> Generation | None:
    """The generation a collection-name prefix is, for this base (the unversioned base itself
    included), or None when the name belongs to no generation of it."""
    if name == base:
        return Generation(base, "")
    models = "|".join(sorted(map(re.escape, get_args(Settings.model_fields["frame_model"].annotation)), key=len,
                             reverse=True))
    found = re.fullmatch(rf"{re.escape(base)}_({models})_([0-9a-f]{{8}})", name)
    return Generation(name, found.group(1), found.group(2)) if found else None


@contextmanager
def unavailable_on_error(where: str, action: str) -> Iterator[None]:
    """An engine failing to read or write, once the index is open, fails this one video with
    index_unavailable (retriable), whichever engine it is."""
    try:
        yield
    except Exception as error:
        raise IndexUnavailable(f"cannot {action} on {where}: {error}") from error


class StoredVideo(NamedTuple):
    video_id: str
    cluster_id: str  # the earliest-indexed video of its duplicate cluster (itself when unique)
    sequence: int  # position in the one order the match stage indexes videos in
    published_at: str | None
    duration: float
    audio_state: str
    audio_items: str  # Chromaprint items, uint32 base64 (schemas.internal.encode_array)
    audio_items_per_second: float
    verdict: str  # the verdict JSON this video got, re-emitted if it is processed again
    uri: str = ""  # where the video was read from
    audio_landmarks: str = ""  # spectral-peak landmarks, uint32 base64 ('' in records written before them)


class AudioHit(NamedTuple):
    """A query soundtrack window and a stored one that resembles it (streams.audio.windows)."""

    query_offset: float  # seconds into the query
    video_id: str
    ref_offset: float  # seconds into the stored video
    score: float  # dot product of the ±1 windows: bits x (1 - 2 x bit error rate)


class VideoIndex(Protocol):
    generation: Generation  # the collections it reads and writes

    def get_video(self, video_id: str) -> StoredVideo | None: ...

    def video_count(self) -> int: ...

    def search_frames(
        self, embeddings: np.ndarray, timestamps: np.ndarray, *, limit: int, score_floor: float, mirrored: bool = False
    ) -> list[FrameHit]:
        """For each query frame, its stored neighbours scoring at least score_floor."""
        ...

    def add_video(self, video: StoredVideo, timestamps: np.ndarray, embeddings: np.ndarray) -> None:
        """Store the video and its frames; storing the same video again changes nothing."""
        ...

    def get_frames(self, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        """A stored video's frames in time order: timestamps (float32 [N], seconds) and their
        unit-norm descriptors (float32 [N, dim]); N = 0 for a video the index does not hold. The
        visual matcher compares a query with a candidate's frames away from the aligned line."""
        ...

    def add_audio(self, video_id: str, windows: np.ndarray, offsets: np.ndarray) -> None:
        """Store a video's soundtrack windows (±1 float32 [N, AUDIO_WINDOW_BITS], start times in
        seconds) in the <prefix>_audio collection (Dot distance, binary quantization: a ±1
        vector's sign bits are the window itself). Called before add_video, whose record marks
        the video indexed; storing the same windows again changes nothing."""
        ...

    def search_audio(self, windows: np.ndarray, offsets: np.ndarray, *, limit: int, score_floor: float) -> list[AudioHit]:
        """For each query window, its stored neighbours with a dot product of at least score_floor."""
        ...

    def stats(self) -> dict[str, int]: ...

    def close(self) -> None: ...

    # Takedowns (streams.index.takedown); the match stage applies them in its one order.

    def last_sequence(self) -> int:
        """The highest `sequence` stored, 0 when none: removals leave gaps, so the count is not it."""
        ...

    def cluster_members(self, cluster_id: str) -> list[StoredVideo]:
        """The videos whose cluster root is cluster_id (the root among them), earliest first."""
        ...

    def set_cluster(self, video_ids: list[str], cluster_id: str) -> None:
        """Make cluster_id the cluster root of these videos, on their records and their frames."""
        ...

    def delete_video(self, video_id: str) -> dict[str, int]:
        """Delete the video's frames and soundtrack windows, then its record (whose presence marks
        a video indexed) and its machine data; the points deleted per collection. Deleting what is
        absent deletes nothing."""
        ...

    # Inspection (`dupstream index show`) and migration (`dupstream index migrate`).

    def video_ids(self) -> list[str]:
        """Every indexed video's id, in indexing order."""
        ...

    def drop(self) -> None:
        """Delete this generation's collections, points and all (an old one, after a migration), and close it."""
        ...

    def generations(self) -> list[Generation]:
        """Every generation of this base the engine holds, the current one included."""
        ...

    def switch(self, generation: Generation) -> None:
        """Point the base at that generation: processes that open the index from now on use it."""
        ...

    def open_generation(self, generation: Generation) -> VideoIndex:
        """Another generation of the same base on the same engine (created when absent); closing it
        leaves this one open."""
        ...

    def video_record(self, video_id: str) -> dict | None:
        """The video's record exactly as stored: what the Qdrant dashboard shows."""
        ...

    def nearest_videos(self, video_id: str, limit: int) -> list[tuple[str, float]]:
        """Other videos whose mean frame descriptor is nearest to this one's, with the cosine similarity."""
        ...


NAMESPACE = uuid.UUID("6f1c1c2e-5b1a-4c55-9d0e-1f2a3b4c5d6e")


def frame_point_id(video_id: str, frame_number: int) -> str:
    """Deterministic, so that indexing a video twice overwrites instead of duplicating."""
    return str(uuid.uuid5(NAMESPACE, f"{video_id}#{frame_number}"))


def video_point_id(video_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, video_id))


DATA_VECTOR = [1.0]  # the <prefix>_video_data points' placeholder vector: a Qdrant point needs one


def video_payload(video: StoredVideo) -> dict:
    """The record a person reads in the dashboard: no blobs (those are in video_data_payload)."""
    verdict = json.loads(video.verdict).get("verdict") if video.verdict else None
    return {"video_id": video.video_id, "uri": video.uri, "published_at": video.published_at,
            "cluster_id": video.cluster_id, "verdict": verdict, "duration": round(video.duration, 3),
            "has_sound": video.audio_state == AudioState.OK, "audio_state": video.audio_state, "sequence": video.sequence}


def video_data_payload(video: StoredVideo) -> dict:
    """The video's machine data, in <prefix>_video_data under the record's point id."""
    return {"video_id": video.video_id, "audio_items": video.audio_items,
            "audio_items_per_second": video.audio_items_per_second, "verdict_json": video.verdict,
            "audio_landmarks": video.audio_landmarks}


def video_from_payload(record: dict, data: dict | None) -> StoredVideo:
    """The stored video from its record and its machine data. A record written before the data had
    a collection of their own (no data point) holds them itself, the verdict JSON as `verdict`."""
    if data is None:
        data = {**record, "verdict_json": record["verdict"]}
    return StoredVideo(video_id=record["video_id"], cluster_id=record["cluster_id"], sequence=record["sequence"],
                       published_at=record["published_at"], duration=record["duration"],
                       audio_state=record["audio_state"], audio_items=data["audio_items"],
                       audio_items_per_second=data["audio_items_per_second"], verdict=data["verdict_json"],
                       uri=record.get("uri", ""), audio_landmarks=data.get("audio_landmarks", ""))


def frame_points(video: StoredVideo, timestamps: np.ndarray, embeddings: np.ndarray) -> list[tuple[str, list[float], dict]]:
    """(point id, vector, payload) of each frame of the video, for either engine's point type."""
    return [
        (frame_point_id(video.video_id, i), vector.tolist(),
         {"video_id": video.video_id, "t": round(float(t), 3), "cluster_id": video.cluster_id})
        for i, (t, vector) in enumerate(zip(timestamps, np.asarray(embeddings, np.float32)))
    ]


def frame_hits(timestamps: np.ndarray, results: Iterable[Iterable], mirrored: bool) -> list[FrameHit]:
    """The hits of a batched frame search: one list of scored points (`.payload`, `.score`) per query frame."""
    return [
        FrameHit(float(t), point.payload["video_id"], point.payload["t"], point.score, mirrored)
        for t, points in zip(timestamps, results)
        for point in points
    ]


AUDIO_WINDOW_BITS = 1024  # streams.audio.windows: 32 Chromaprint items of 32 bits


def audio_point_id(video_id: str, window_number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{video_id}@audio#{window_number}"))


def audio_points(video_id: str, windows: np.ndarray, offsets: np.ndarray) -> list[tuple[str, list[float], dict]]:
    """(point id, vector, payload) of each soundtrack window, for either engine's point type."""
    return [(audio_point_id(video_id, i), window.tolist(), {"video_id": video_id, "offset": round(float(offset), 3)})
            for i, (offset, window) in enumerate(zip(offsets, np.asarray(windows, np.float32)))]


def audio_hits(offsets: np.ndarray, results: Iterable[Iterable]) -> list[AudioHit]:
    """The hits of a batched window search: one list of scored points per query window."""
    return [AudioHit(float(offset), point.payload["video_id"], point.payload["offset"], point.score)
            for offset, points in zip(offsets, results) for point in points]


def sorted_frames(records: Iterable, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """get_frames' answer from the stored frame points (`.payload["t"]`, `.vector`), either engine's."""
    records = sorted(records, key=lambda record: record.payload["t"])
    times = np.array([record.payload["t"] for record in records], np.float32)
    vectors = np.array([record.vector for record in records], np.float32).reshape(len(records), dim)
    return times, vectors


def mean_descriptor(embeddings: np.ndarray) -> list[float]:
    """One vector per video (the normalised mean of its frames), so the dashboard can show and
    search videos as well as frames."""
    mean = embeddings.mean(axis=0) if len(embeddings) else np.ones(embeddings.shape[1], np.float32)
    return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32).tolist()


def open_index(settings: Settings, dim: int = 512, *, generation: Generation | None = None,
               check_model: bool = True) -> VideoIndex:
    """The current generation of settings.collection_prefix (created for settings.frame_model
    when the engine holds none), or the one given. check_model: refuse a generation whose
    descriptors are not settings.frame_model's (a worker started with the old model after a
    migration switched the index); inspection (`dupstream index show`) does not embed."""
    if settings.qdrant_path is None:
        from streams.index.server import ServerIndex

        index = ServerIndex.connect(settings, dim, generation)
    else:
        from streams.index.edge import EdgeIndex

        index = EdgeIndex(settings.qdrant_path, settings.collection_prefix, dim, frame_model=settings.frame_model,
                          generation=generation)
    current = index.generation
    if check_model and current.frame_model and (current.frame_model, current.digest) != (
            settings.frame_model, frame_model_digest(settings.frame_model)):
        index.close()
        raise IndexError_(f"the index's collections {current.name}_* hold the descriptors of {current.frame_model} "
                          f"({current.digest}), this process embeds with {settings.frame_model} "
                          f"({frame_model_digest(settings.frame_model)}): set DUPSTREAM_FRAME_MODEL="
                          f"{current.frame_model} (`dupstream index migrate` switched the index)")
    return index
