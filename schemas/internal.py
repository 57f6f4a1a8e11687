"""Values of dupstream's internal topics (keyed by video id, like the public ones).

Arrays are little-endian bytes: frame descriptors as float16 (half the bytes of float32; cosine
scores move by < 1e-3), fingerprints as uint32. In memory a model holds them as `bytes` (a
`Blob`); between the stages they travel as bytes too, beside a JSON header (streams.wire); only
the JSON form of a model (its schema, the calibration cache, debugging dumps) carries them as
base64 text, and a model accepts either form."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, SerializationInfo, ValidationInfo, \
    WithJsonSchema

from schemas.events import AudioState, ErrorInfo

# Key of the serialisation / validation context holding the list of a message's arrays: with it, a
# Blob is written as {"blob": position in that list} and read back from it (streams.wire).
BLOBS = "blobs"


def _blob_in(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        return base64.b64decode(value)
    if isinstance(value, dict) and info.context and BLOBS in info.context:
        return info.context[BLOBS][value["blob"]]
    return bytes(value) if isinstance(value, (bytearray, memoryview)) else value


def _blob_out(data: bytes, info: SerializationInfo) -> Any:
    blobs = info.context.get(BLOBS) if isinstance(info.context, dict) else None
    if blobs is None:
        return base64.b64encode(data).decode()
    blobs.append(data)
    return {"blob": len(blobs) - 1}


# Raw array bytes; base64 text in JSON. The JSON schema says string, as the JSON form is.
Blob = Annotated[bytes, BeforeValidator(_blob_in), PlainSerializer(_blob_out, when_used="json"),
                 WithJsonSchema({"type": "string"})]


def encode_array(array: np.ndarray, dtype: str) -> bytes:
    """The array as little-endian bytes of dtype (a Blob)."""
    return np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


def decode_array(data: bytes | str, dtype: str, columns: int | None = None) -> np.ndarray:
    """A Blob (or its base64 text) as a read-only array over its bytes, [-1, columns] when given."""
    if isinstance(data, str):
        data = base64.b64decode(data)
    array = np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"))
    return array.reshape(-1, columns) if columns else array


def array_text(data: bytes) -> str:
    """A Blob as base64 text, for JSON payloads (the index's records)."""
    return base64.b64encode(data).decode()


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
    embeddings: Blob = Field(b"", description="float16 [len(timestamps), dim], base64.")


class FrameHalf(BaseModel):
    timestamps: list[float] = Field(default_factory=list)
    embeddings: Blob = Field(b"", description="float16 [N, dim], base64.")
    mirrored_embeddings: Blob = Field(b"", description="Descriptors of the horizontally flipped frames, or ''.")
    region: list[float] = Field(default_factory=list, description=(
        "The active region (a picture-in-picture inset) as [top, bottom, left, right] shares of the frame, "
        "or [] when the video has none."))
    region_timestamps: list[float] = Field(default_factory=list, description="Times of the region's kept frames.")
    region_embeddings: Blob = Field(b"", description="Descriptors of the frames cropped to the region, float16 "
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
    items: Blob = Field(description="Chromaprint items of the re-played audio, uint32, base64.")


class AudioHalf(BaseModel):
    state: AudioState
    items: Blob = Field(b"", description="Chromaprint items, uint32, base64.")
    items_per_second: float = 0.0
    duration: float = 0.0
    usable_seconds: float = 0.0
    resampled: list[ResampledItems] = Field(default_factory=list, description=(
        "The items on a grid of resampled speeds, for finding sped-up re-uploads (not stored in the index)."))
    landmarks: Blob = Field(b"", description=(
        "Spectral-peak landmarks (streams.audio.landmarks), uint32 frame << 12 | level << 8 | bin, base64; "
        "'' without usable sound."))


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
