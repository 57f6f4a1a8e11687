"""The index on Qdrant Edge: Qdrant's own engine (HNSW, on-disk segments) inside the worker.

One shard per collection, in <qdrant dir>/<prefix>_frames, <prefix>_videos and <prefix>_audio
(soundtrack windows: Dot on ±1 vectors, binary quantization in RAM). A shard is
opened by one process at a time: the embedded stack runs one match worker."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from streams.index import (
    AUDIO_WINDOW_BITS,
    AudioHit,
    IndexError_,
    StoredVideo,
    audio_hits,
    audio_points,
    frame_hits,
    frame_points,
    mean_descriptor,
    video_from_payload,
    video_payload,
    video_point_id,
)
from streams.values import FrameHit


def _open_shard(path: Path, dim: int, audio: bool = False):
    from qdrant_edge import (BinaryQuantizationConfig, Distance, EdgeConfig, EdgeShard, EdgeVectorParams,
                             VectorStorageDatatype)

    if audio:
        # ±1 windows: the binary-quantized vector is the window itself; the originals (for
        # rescoring) fit in float16 exactly.
        vectors = EdgeVectorParams(size=dim, distance=Distance.Dot, datatype=VectorStorageDatatype.Float16,
                                   quantization_config=BinaryQuantizationConfig(always_ram=True))
    else:
        vectors = EdgeVectorParams(size=dim, distance=Distance.Cosine)
    config = EdgeConfig(vectors=vectors)
    try:
        if (path / "edge_config.json").exists() or any(path.glob("segments*")):
            return EdgeShard.load(str(path), config)
        path.mkdir(parents=True, exist_ok=True)
        return EdgeShard.create(str(path), config)
    except Exception as error:
        raise IndexError_(f"cannot open the Qdrant Edge shard at {path}: {error}") from error


class EdgeIndex:
    def __init__(self, directory: Path, prefix: str, dim: int = 512):
        from qdrant_edge import PayloadSchemaType, UpdateOperation

        self.directory = Path(directory)
        self._frames = _open_shard(self.directory / f"{prefix}_frames", dim)
        self._videos = _open_shard(self.directory / f"{prefix}_videos", dim)
        self._audio = _open_shard(self.directory / f"{prefix}_audio", AUDIO_WINDOW_BITS, audio=True)
        self._frames.update(UpdateOperation.create_field_index("video_id", PayloadSchemaType.Keyword))

    def get_video(self, video_id: str) -> StoredVideo | None:
        records = self._videos.retrieve([video_point_id(video_id)], with_payload=True, with_vector=False)
        return video_from_payload(records[0].payload) if records else None

    def video_count(self) -> int:
        return self._videos.info().points_count

    def search_frames(
        self, embeddings: np.ndarray, timestamps: np.ndarray, *, limit: int, score_floor: float, mirrored: bool = False
    ) -> list[FrameHit]:
        from qdrant_edge import Query, QueryBatchRequest, QueryRequest

        if len(embeddings) == 0:
            return []
        requests = [
            QueryRequest(limit=limit, query=Query.Nearest(vector.tolist()), with_payload=True,
                         score_threshold=score_floor)
            for vector in np.asarray(embeddings, np.float32)
        ]
        return frame_hits(timestamps, self._frames.query_batch(QueryBatchRequest(requests)), mirrored)

    def add_video(self, video: StoredVideo, timestamps: np.ndarray, embeddings: np.ndarray) -> None:
        from qdrant_edge import Point, UpdateOperation

        frames = [Point(*point) for point in frame_points(video, timestamps, embeddings)]
        if frames:
            self._frames.update(UpdateOperation.upsert_points(frames))
        # The video record goes last: its presence is what marks the video as indexed.
        record = Point(video_point_id(video.video_id), mean_descriptor(np.asarray(embeddings, np.float32)),
                       video_payload(video))
        self._videos.update(UpdateOperation.upsert_points([record]))
        self._frames.flush()
        self._videos.flush()

    def add_audio(self, video_id: str, windows: np.ndarray, offsets: np.ndarray) -> None:
        from qdrant_edge import Point, UpdateOperation

        points = [Point(*point) for point in audio_points(video_id, windows, offsets)]
        if points:
            self._audio.update(UpdateOperation.upsert_points(points))
            self._audio.flush()

    def search_audio(self, windows: np.ndarray, offsets: np.ndarray, *, limit: int, score_floor: float) -> list[AudioHit]:
        from qdrant_edge import Query, QueryBatchRequest, QueryRequest

        if len(windows) == 0 or self._audio.info().points_count == 0:
            return []
        requests = [QueryRequest(limit=limit, query=Query.Nearest(window.tolist()), with_payload=True,
                                 score_threshold=score_floor)
                    for window in np.asarray(windows, np.float32)]
        return audio_hits(offsets, self._audio.query_batch(QueryBatchRequest(requests)))

    def stats(self) -> dict[str, int]:
        return {"videos": self._videos.info().points_count, "frames": self._frames.info().points_count,
                "audio": self._audio.info().points_count}

    def close(self) -> None:
        for shard in (self._frames, self._videos, self._audio):
            shard.close()
