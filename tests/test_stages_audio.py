"""The audio stage always hands the join its half: a soundtrack that cannot be had in time is
state 'failed', with the reason logged, and the video is judged on its frames."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

from schemas.events import AudioState
from schemas.internal import AcceptedVideo
from streams.config import Settings
from streams.stages.audio import audio_half


def _accepted(path) -> AcceptedVideo:
    return AcceptedVideo(video_id="slow-audio", uri=str(path), raw_event=base64.b64encode(b"{}").decode(),
                         accepted_at=datetime.now(UTC))


def test_a_soundtrack_past_the_decode_time_limit_is_failed_with_the_reason_logged(media, caplog):
    settings = Settings(media_roots=[media["funkyrobot.mp3"].parent], decode_timeout_s=0.05)
    with caplog.at_level(logging.WARNING, logger="streams.stages.audio"):
        half = audio_half(_accepted(media["funkyrobot.mp3"]), settings)
    assert half.state == AudioState.FAILED and not half.items
    assert "decode_timeout" in caplog.text and "slow-audio" in caplog.text


def test_a_soundtrack_in_time_is_fingerprinted(media):
    settings = Settings(media_roots=[media["trailer_bbb.mp4"].parent])
    assert audio_half(_accepted(media["trailer_bbb.mp4"]), settings).state == AudioState.OK


def test_the_half_carries_the_landmarks_as_raw_bytes_through_the_wire(media):
    from schemas.internal import FeatureHalf, decode_array
    from streams.wire import decode_half, encode_half

    settings = Settings(media_roots=[media["trailer_bbb.mp4"].parent])
    accepted = _accepted(media["trailer_bbb.mp4"])
    half = audio_half(accepted, settings)
    landmarks = decode_array(half.landmarks, "uint32")
    assert len(landmarks) > 10 * half.usable_seconds  # about landmark_peaks_per_second
    data = encode_half(FeatureHalf(kind="audio", accepted=accepted, audio=half))
    assert half.landmarks in data and decode_half(data).audio.landmarks == half.landmarks
