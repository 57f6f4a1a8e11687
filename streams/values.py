"""Small typed values passed between the stages and the pure matching functions."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SampledFrames(NamedTuple):
    """Frames picked from a video, resized once, ready for the embedder."""

    timestamps: np.ndarray  # float32 [N], seconds from the start of the video
    pixels: np.ndarray  # uint8 [N, S, S, 3], RGB
    duration: float  # seconds, of the whole video
    # uint8 [N, 3, G, G]: the whole frames' luma and chroma (Y, U, V) on streams.media.region's grid
    thumbnails: np.ndarray | None = None


class FrameHit(NamedTuple):
    """A query frame and one stored frame that resembles it."""

    query_time: float
    video_id: str
    ref_time: float
    score: float  # cosine similarity
    mirrored: bool = False  # the query frame was flipped horizontally before searching
    region: bool = False  # the query frame was cropped to its video's active region (streams.media.region)
    rotation: int = 0  # degrees the query frame was turned clockwise before searching (0, 90, 180, 270)


class Segment(NamedTuple):
    start: float  # seconds
    end: float


class VisualMatch(NamedTuple):
    """A stored video whose frames align with the query's along one time line."""

    video_id: str
    score: float  # mean similarity of the aligned frame pairs
    query_segment: Segment
    reference_segment: Segment
    offset: float  # reference_time = speed * query_time + offset
    speed: float
    aligned_frames: int
    mirrored: bool = False  # the query's frames were flipped horizontally to match
    coverage: float = 0.0  # query_segment's share of the query's duration, 0..1
    weighted_frames: float = 0.0  # aligned_frames with common frames discounted (0: not computed)
    region: bool = False  # the query's frames were cropped to their active region to match
    rotation: int = 0  # degrees the query's frames were turned clockwise to match
    # Temporal structure (streams.matching.visual), None until measured: the mean similarity of the
    # aligned query frames to the same reference's frames away from the line, and the mean of
    # (on-line similarity - beta x that), which a static look (a fixed camera, a screen) keeps near 0.
    offline_score: float | None = None
    distinctiveness: float | None = None
    # Motion (streams.matching.visual.motion_false_alarm), None until measured: the mean correlation
    # of the aligned frames' changes (each video's mean descriptor taken out), and the probability
    # that a line through unrelated changes correlates as well among the lines the alignment tried.
    motion: float | None = None
    false_alarm: float | None = None
    # The false alarm the line would have had with identical changes on every aligned frame: the
    # test's reach. Slow footage (a photo panned) is worth a frame or two of independent changes,
    # and a test that cannot reach its threshold says nothing (alignment.frames_match).
    best_false_alarm: float | None = None
