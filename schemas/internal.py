"""Values of dupstream's internal topics (keyed by video id, like the public ones).

Arrays travel as base64 of little-endian bytes: frame descriptors as float16 (half the bytes
of float32; cosine scores move by < 1e-3), fingerprints as uint32."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from schemas.events import AudioState, ErrorInfo


def encode_array(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode()


def decode_array(text: str, dtype: str, columns: int | None = None) -> np.ndarray:
    array = np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))
    return array.reshape(-1, columns) if columns else array


class AcceptedVideo(BaseModel):
    """`<app>-accepted`: a valid event, fanned out to the frame and audio stages."""

    video_id: str
    uri: str
    published_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    raw_event: str = Field(description="base64 of the original event value, for the dead-letter topic.")
    accepted_at: datetime


class FrameView(BaseModel):
    """A further view of the sampled frames, searched like the plain one."""

    rotation: int = Field(0, description="Degrees the frames were turned clockwise (0, 90, 180, 270).")
    region: list[float] = Field(default_factory=list, description=(
        "The region the frames were cut to, [top, bottom, left, right] shares of the frame, or [] (whole frames)."))
    timestamps: list[float] = Field(default_factory=list, description="Times of the view's frames.")
    embeddings: str = Field("", description="float16 [len(timestamps), dim], base64.")


class FrameHalf(BaseModel):
    timestamps: list[float] = Field(default_factory=list)
    embeddings: str = Field("", description="float16 [N, dim], base64.")
    mirrored_embeddings: str = Field("", description="Descriptors of the horizontally flipped frames, or ''.")
    region: list[float] = Field(default_factory=list, description=(
        "The active region (a picture-in-picture inset) as [top, bottom, left, right] shares of the frame, "
        "or [] when the video has none."))
    region_timestamps: list[float] = Field(default_factory=list, description="Times of the region's kept frames.")
    region_embeddings: str = Field("", description="Descriptors of the frames cropped to the region, float16 "
                                                   "[len(region_timestamps), dim], base64, or ''.")
    views: list[FrameView] = Field(default_factory=list, description=(
        "Further views: the frames cut to the other regions worth searching (split-screen halves; the first "
        "region is `region`), and the frames turned for rotated re-posts (some on a subsample of the frames)."))
    dim: int = 512
    duration: float = 0.0
    sampled_frames: int = 0
    dropped_blank_frames: int = 0
    model: str = ""
    model_version: str = ""


class ResampledItems(BaseModel):
    speed: float = Field(description="The re-upload speed this copy undoes: the audio was re-played this many "
                                     "times slower (pitch and tempo) before fingerprinting.")
    items: str = Field(description="Chromaprint items of the re-played audio, uint32, base64.")


class AudioHalf(BaseModel):
    state: AudioState
    items: str = Field("", description="Chromaprint items, uint32, base64.")
    items_per_second: float = 0.0
    duration: float = 0.0
    usable_seconds: float = 0.0
    resampled: list[ResampledItems] = Field(default_factory=list, description=(
        "The items on a grid of resampled speeds, for finding sped-up re-uploads (not stored in the index)."))


class FeatureHalf(BaseModel):
    """`<app>-features`: one half of a video's features (or the error that stopped it)."""

    kind: Literal["frames", "audio"]
    accepted: AcceptedVideo
    frames: FrameHalf | None = None
    audio: AudioHalf | None = None
    error: ErrorInfo | None = None
    seconds: float = 0.0


class JoinedVideo(BaseModel):
    """`<app>-joined`: both halves of one video, ready to match."""

    accepted: AcceptedVideo
    frames: FrameHalf
    audio: AudioHalf
    timings: dict[str, float] = Field(default_factory=dict)
