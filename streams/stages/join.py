"""Stage 3: wait until both halves of a video are in, then pass them on. The halves wait in a
Faust table (backed by a compacted changelog topic), so a restarted worker still has them.

Keyed by the message key (the video id), the halves kept and forwarded as the bytes they came in
(streams.wire): the join reads only their fixed prefix (kind, failed), never their arrays; a
failed frame half, small, is decoded to dead-letter the video."""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING

from streams.stages.verdict import fail, model_info
from streams.wire import WireFormatError, decode_half, encode_joined, half_failed, half_kind

if TYPE_CHECKING:
    from streams.app import Stream

log = logging.getLogger(__name__)


def waiting_kind(stored: bytes | None) -> str | None:
    """The kind of the half waiting in the table, None when none is (or an unreadable one, left by
    an older version of the wire format: the video's halves are then joined as if it were not)."""
    try:
        return half_kind(stored) if stored else None
    except WireFormatError:
        return None


def register(stream: Stream) -> None:
    halves = stream.halves

    @stream.app.agent(stream.features, name="join")
    async def join(events):
        async for event in events.events():
            key, value = event.key or b"", event.value or b""
            video_id = key.decode("utf-8", "replace")
            try:
                kind = half_kind(value)
            except WireFormatError as error:
                log.error("unreadable feature half for %r on the features topic, skipped: %s", video_id, error)
                continue
            waiting = halves.get(video_id)
            if waiting_kind(waiting) in (None, kind):  # the first half (or the same one again, replayed)
                halves[video_id] = value
                continue
            del halves[video_id]
            frames, audio = (value, waiting) if kind == "frames" else (waiting, value)
            if half_failed(frames):
                half = decode_half(frames)
                await fail(stream, video_id, key, base64.b64decode(half.accepted.raw_event), half.error,
                           stage="frames", timings={"frames": half.seconds},
                           models=model_info(stream.settings.frame_model))
                continue
            await stream.joined.send(key=key, value=encode_joined(frames, audio))
