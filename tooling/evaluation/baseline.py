"""The baseline a practitioner would pick: Meta's vPDQ scheme. One PDQ perceptual hash (256 bits,
`pdqhash`) per second of video, low-quality hashes dropped, consecutive repeats collapsed; two
videos match when at least 80 % of each one's hashes have a hash of the other within Hamming
distance 31 (a bag of frames: no time order, no sound, no mirror search).

Like the stream it answers in publish order: a new video is compared with every earlier one and is
a duplicate of the earliest-indexed member of the best match's cluster."""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

FRAMES_PER_SECOND = 1.0
MAX_DISTANCE = 31  # vPDQ's default Hamming distance tolerance
MIN_QUALITY = 50  # vPDQ's default quality tolerance: PDQ quality is 0..100
MATCH_SHARE = 0.80  # vPDQ's query and compared match percentages, 80 % each
HASH_SIZE = 512  # longest side of the picture handed to PDQ (PDQ downsamples to 64x64 itself)


class VideoHashes(NamedTuple):
    bits: np.ndarray  # bool [N, 256], the unique hashes in order of first appearance
    duration: float  # seconds


class BaselineVerdict(NamedTuple):
    video_id: str
    verdict: str  # 'duplicate', 'unique' or 'failed'
    duplicate_of: str | None
    reason: str
    seconds: float  # decode, hash and compare
    duration: float  # seconds of video


def _unique_rows(bits: np.ndarray) -> np.ndarray:
    """Rows in order of first appearance, each once (vPDQ keeps a hash once per video)."""
    if len(bits) == 0:
        return bits
    _, first = np.unique(np.packbits(bits, axis=1), axis=0, return_index=True)
    return bits[np.sort(first)]


def video_hashes(path: Path, fps: float = FRAMES_PER_SECOND, min_quality: int = MIN_QUALITY) -> VideoHashes:
    """PDQ hashes of one frame per 1/fps seconds."""
    import av
    import pdqhash

    hashes = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration = container.duration / 1_000_000 if container.duration else 0.0
        next_time = 0.0
        for frame in container.decode(stream):
            if frame.time is None or frame.time < next_time:
                continue
            next_time = frame.time + 1 / fps
            scale = HASH_SIZE / max(frame.width, frame.height)
            width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
            bits, quality = pdqhash.compute(frame.to_ndarray(width=width, height=height, format="rgb24"))
            if quality >= min_quality:
                hashes.append(bits.astype(bool))
    bits = np.array(hashes, bool).reshape(-1, 256)
    return VideoHashes(_unique_rows(bits), duration)


def match_shares(query: np.ndarray, reference: np.ndarray, max_distance: int = MAX_DISTANCE) -> tuple[float, float]:
    """Share of the query's hashes with a reference hash within max_distance, and the other way."""
    if len(query) == 0 or len(reference) == 0:
        return 0.0, 0.0
    distances = (query[:, None, :] != reference[None, :, :]).sum(axis=2)
    close = distances <= max_distance
    return float(close.any(axis=1).mean()), float(close.any(axis=0).mean())


class BaselineIndex:
    """Every video's hashes, and its cluster (the earliest video it duplicates, else itself)."""

    def __init__(self, match_share: float = MATCH_SHARE, max_distance: int = MAX_DISTANCE):
        self.match_share = match_share
        self.max_distance = max_distance
        self.videos: dict[str, np.ndarray] = {}
        self.clusters: dict[str, str] = {}

    def decide(self, video_id: str, hashes: VideoHashes) -> tuple[str | None, str]:
        """The cluster this video duplicates (None: unique) and why; then indexes it."""
        best: tuple[float, str, float, float] | None = None
        for stored_id, stored in self.videos.items():
            query_share, stored_share = match_shares(hashes.bits, stored, self.max_distance)
            weakest = min(query_share, stored_share)
            if weakest >= self.match_share and (best is None or weakest > best[0]):
                best = (weakest, stored_id, query_share, stored_share)
        self.videos[video_id] = hashes.bits
        if best is None:
            self.clusters[video_id] = video_id
            return None, (f"no earlier video shares >= {self.match_share:.0%} of PDQ hashes both ways "
                          f"(Hamming <= {self.max_distance}; {len(hashes.bits)} hashes)")
        _, stored_id, query_share, stored_share = best
        self.clusters[video_id] = self.clusters[stored_id]
        return self.clusters[stored_id], (f"{query_share:.0%} of its {len(hashes.bits)} PDQ hashes match {stored_id}, "
                                          f"{stored_share:.0%} of {stored_id}'s match it (Hamming <= "
                                          f"{self.max_distance}, >= {self.match_share:.0%} both ways)")


def run_baseline(videos: list[tuple[str, Path]]) -> list[BaselineVerdict]:
    """Verdicts for (video_id, path) pairs taken in publish order."""
    index = BaselineIndex()
    verdicts = []
    for video_id, path in videos:
        started = time.perf_counter()
        try:
            hashes = video_hashes(path)
        except Exception as error:  # a file the baseline cannot read is its failure, not the run's
            verdicts.append(BaselineVerdict(video_id, "failed", None, f"{type(error).__name__}: {error}",
                                            time.perf_counter() - started, 0.0))
            continue
        duplicate_of, reason = index.decide(video_id, hashes)
        verdicts.append(BaselineVerdict(video_id, "duplicate" if duplicate_of else "unique", duplicate_of, reason,
                                        time.perf_counter() - started, hashes.duration))
    return verdicts
