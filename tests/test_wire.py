"""streams.wire and the Blob fields of schemas.internal (fast: constructed values only)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import numpy as np
import pytest

from schemas.events import AudioState, ErrorInfo
from schemas.internal import (AcceptedVideo, AudioHalf, FeatureHalf, FrameHalf, FrameView, ResampledItems,
                              decode_array, encode_array)
from streams.wire import (WireFormatError, decode_half, decode_joined, encode_half, encode_joined, half_failed,
                          half_kind, joined_halves)

ACCEPTED = AcceptedVideo(video_id="v1", uri="/v/v1.mp4", raw_event=base64.b64encode(b'{"video_id":"v1"}').decode(),
                         accepted_at=datetime(2026, 11, 30, tzinfo=UTC))
VECTORS = np.random.default_rng(0).normal(size=(7, 512)).astype(np.float32)
ITEMS = np.array([0, 1, 2**32 - 1, 12345], np.uint32)


def frame_half() -> FeatureHalf:
    frames = FrameHalf(timestamps=[float(t) for t in range(7)], embeddings=encode_array(VECTORS, "float16"),
                       mirrored_embeddings=encode_array(-VECTORS, "float16"),
                       views=[FrameView(rotation=90, timestamps=[0.0, 3.0],
                                        embeddings=encode_array(VECTORS[[0, 3]], "float16"))],
                       duration=7.0, sampled_frames=7, model="sscd")
    return FeatureHalf(kind="frames", accepted=ACCEPTED, frames=frames, seconds=1.5)


def audio_half() -> FeatureHalf:
    audio = AudioHalf(state=AudioState.OK, items=encode_array(ITEMS, "uint32"), items_per_second=7.8,
                      duration=7.0, usable_seconds=6.5,
                      resampled=[ResampledItems(speed=0.9, items=encode_array(ITEMS[:2], "uint32"))])
    return FeatureHalf(kind="audio", accepted=ACCEPTED, audio=audio, seconds=0.25)


def test_a_half_round_trips_with_its_arrays_as_raw_bytes():
    half = frame_half()
    data = encode_half(half)
    assert decode_half(data) == half
    # the descriptors are in the message as float16 bytes, not as base64 text
    assert encode_array(VECTORS, "float16") in data
    assert half.frames.embeddings not in data.replace(half.frames.embeddings, b"")
    assert len(data) < len(half.model_dump_json())


def test_the_prefix_tells_kind_and_failure_without_parsing():
    assert (half_kind(encode_half(frame_half())), half_failed(encode_half(frame_half()))) == ("frames", False)
    failed = FeatureHalf(kind="frames", accepted=ACCEPTED,
                         error=ErrorInfo(code="media_unreadable", message="no frame", stage="frames"))
    assert half_failed(encode_half(failed)) and decode_half(encode_half(failed)).error.code == "media_unreadable"
    assert half_kind(encode_half(audio_half())) == "audio"


def test_joined_messages_carry_the_halves_as_received():
    frames, audio = encode_half(frame_half()), encode_half(audio_half())
    joined = encode_joined(frames, audio)
    assert joined_halves(joined) == (frames, audio)
    video = decode_joined(joined)
    assert video.accepted == ACCEPTED and video.timings == {"frames": 1.5, "audio": 0.25}
    assert np.array_equal(decode_array(video.audio.items, "uint32"), ITEMS)
    embeddings = decode_array(video.frames.embeddings, "float16", 512)
    assert embeddings.shape == (7, 512) and np.abs(embeddings - VECTORS).max() < 2e-2
    with pytest.raises(WireFormatError):
        encode_joined(audio, frames)


@pytest.mark.parametrize("data", [b"", b"{}", b'{"kind": "frames"}', b"dsh1", b"dsh1x\x00" + bytes(6)])
def test_foreign_bytes_are_a_wire_format_error(data):
    with pytest.raises(WireFormatError):
        decode_half(data)


def test_a_truncated_half_is_a_wire_format_error():
    with pytest.raises(WireFormatError):
        decode_half(encode_half(frame_half())[:-1])


def test_the_json_form_keeps_base64_text_and_reads_back():
    """The JSON form (the calibration cache, debugging dumps) is unchanged: arrays as base64 text."""
    half = audio_half()
    text = half.model_dump_json()
    assert json.loads(text)["audio"]["items"] == base64.b64encode(encode_array(ITEMS, "uint32")).decode()
    assert FeatureHalf.model_validate_json(text) == half
    assert FeatureHalf.model_validate(json.loads(text)) == half
