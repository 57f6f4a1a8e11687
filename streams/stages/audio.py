"""Stage 2b: fingerprint the soundtrack (Chromaprint, computed by Essentia, and spectral-peak
landmarks, streams.audio.landmarks). A video with no
track or too little sound gets a state saying so, and is judged on its frames; an audio track
that cannot be decoded does the same, since the frames may still be fine."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from schemas.events import AudioState
from schemas.internal import AcceptedVideo, AudioHalf, FeatureHalf, ResampledItems, encode_array
from streams.config import Settings
from streams.errors import as_error
from streams.media.uri import opened_media
from streams.wire import encode_half

if TYPE_CHECKING:
    from streams.app import Stream

log = logging.getLogger(__name__)


def fingerprint_audio(accepted: AcceptedVideo, settings: Settings) -> AudioHalf:
    from streams.audio.extract import extract_fingerprint
    from streams.params import MatchParams

    with opened_media(accepted.uri, settings, readers=2) as path:  # the frame half reads it too
        fingerprint = extract_fingerprint(path, settings, MatchParams.from_settings(settings).audio)
    return AudioHalf(
        state=AudioState(fingerprint.state),
        items=encode_array(fingerprint.items, "uint32"),
        items_per_second=fingerprint.items_per_second,
        duration=round(fingerprint.duration, 3),
        usable_seconds=round(fingerprint.usable_seconds, 3),
        resampled=[ResampledItems(speed=copy.speed, items=encode_array(copy.items, "uint32"))
                   for copy in fingerprint.resampled],
        landmarks=encode_array(fingerprint.landmarks, "uint32"),
    )


def audio_half(accepted: AcceptedVideo, settings: Settings) -> AudioHalf:
    """The fingerprint, or state 'failed' with the reason logged: the join waits for this half,
    so it always comes (decoding is time-limited, see streams.media.decoding)."""
    try:
        return fingerprint_audio(accepted, settings)
    except Exception as exc:
        error = as_error(exc)
        log.warning("no audio features for %s: %s: %s", accepted.video_id, error.code, error.message,
                    extra={"video_id": accepted.video_id})
        return AudioHalf(state=AudioState.FAILED)


def register(stream: Stream) -> None:
    @stream.app.agent(stream.accepted, name="audio")
    async def audio(values):
        async for value in values:
            accepted = AcceptedVideo.model_validate_json(value)
            started = time.perf_counter()
            result = await stream.runtime.run(audio_half, accepted, stream.settings)
            half = FeatureHalf(kind="audio", accepted=accepted, audio=result,
                               seconds=round(time.perf_counter() - started, 4))
            await stream.features.send(key=accepted.video_id.encode(), value=encode_half(half))
