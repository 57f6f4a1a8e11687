"""The bytes of dupstream's internal messages: every stage encodes and decodes them here, none
builds bytes by hand.

A feature half (schemas.internal.FeatureHalf) travels as

    b"dsh1" | kind (b"f" frames, b"a" audio) | failed (0/1) | header length (u32) | array count (u16)
    | each array's length (u32 ...) | the JSON header | the arrays

all integers little-endian. The header is the model's JSON with each array (a Blob) replaced by
{"blob": i}; the arrays follow as their raw little-endian bytes (float16 descriptors, uint32
Chromaprint items), not as base64 text in the JSON: a minute of 720p's descriptors is 4/3 smaller
and is never parsed as text. The fixed prefix tells the join a half's kind and whether it failed
without reading the rest (`half_kind`, `half_failed`).

A joined video is its two halves as they came, behind their lengths:

    b"dsj1" | frames half length (u32) | the frames half | the audio half

so the join stores and forwards the bytes it received; only the match stage decodes them, once.
"""

from __future__ import annotations

import struct

from schemas.internal import BLOBS, FeatureHalf, JoinedVideo
from streams.errors import DupstreamError

HALF_MAGIC = b"dsh1"
JOINED_MAGIC = b"dsj1"
_HALF_PREFIX = struct.Struct("<4sc?IH")  # magic, kind, failed, header length, array count
_KINDS = {"frames": b"f", "audio": b"a"}
_KIND_NAMES = {code: name for name, code in _KINDS.items()}
_LENGTH = struct.Struct("<I")


class WireFormatError(DupstreamError):
    """Bytes that are not a message of this version of the wire format."""


def encode_half(half: FeatureHalf) -> bytes:
    blobs: list[bytes] = []
    header = half.model_dump_json(context={BLOBS: blobs}).encode()
    prefix = _HALF_PREFIX.pack(HALF_MAGIC, _KINDS[half.kind], half.error is not None, len(header), len(blobs))
    return b"".join([prefix, struct.pack(f"<{len(blobs)}I", *map(len, blobs)), header, *blobs])


def _prefix(data: bytes) -> tuple[bytes, bool, int, int]:
    if len(data) < _HALF_PREFIX.size or data[:4] != HALF_MAGIC:
        raise WireFormatError(f"not a feature half of this wire format ({bytes(data[:4])!r}...)")
    _, kind, failed, header_length, count = _HALF_PREFIX.unpack_from(data)
    if kind not in _KIND_NAMES:
        raise WireFormatError(f"a feature half of unknown kind {kind!r}")
    return kind, failed, header_length, count


def half_kind(data: bytes) -> str:
    """'frames' or 'audio', from the fixed prefix alone."""
    return _KIND_NAMES[_prefix(data)[0]]


def half_failed(data: bytes) -> bool:
    """Whether the half carries the error that stopped its stage, from the fixed prefix alone."""
    return _prefix(data)[1]


def decode_half(data: bytes) -> FeatureHalf:
    _, _, header_length, count = _prefix(data)
    view = memoryview(data)
    at = _HALF_PREFIX.size
    lengths = struct.unpack_from(f"<{count}I", view, at)
    at += 4 * count
    header = view[at:at + header_length]
    at += header_length
    blobs = []
    for length in lengths:
        blobs.append(bytes(view[at:at + length]))
        at += length
    if at != len(data):
        raise WireFormatError(f"a feature half of {len(data)} bytes whose parts add up to {at}")
    try:
        return FeatureHalf.model_validate_json(bytes(header), context={BLOBS: blobs})
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise WireFormatError(f"an unreadable feature half: {error}") from error


def encode_joined(frames: bytes, audio: bytes) -> bytes:
    """The joined message of two encoded halves, as received (their kinds are checked, not parsed)."""
    if half_kind(frames) != "frames" or half_kind(audio) != "audio":
        raise WireFormatError("a joined video needs a frames half, then an audio half")
    return b"".join([JOINED_MAGIC, _LENGTH.pack(len(frames)), frames, audio])


def joined_halves(data: bytes) -> tuple[bytes, bytes]:
    """The encoded frames and audio halves of a joined message."""
    if len(data) < 8 or data[:4] != JOINED_MAGIC:
        raise WireFormatError(f"not a joined video of this wire format ({bytes(data[:4])!r}...)")
    (length,) = _LENGTH.unpack_from(data, 4)
    return data[8:8 + length], data[8 + length:]


def decode_joined(data: bytes) -> JoinedVideo:
    """Both halves decoded, each array once; timings are the halves' own stage seconds."""
    frames, audio = (decode_half(half) for half in joined_halves(data))
    return JoinedVideo(accepted=frames.accepted, frames=frames.frames, audio=audio.audio,
                       timings={"frames": frames.seconds, "audio": audio.seconds})
