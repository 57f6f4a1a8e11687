"""Stage 1: validate the published event and its URI; fan the video out to the frame and audio
stages. A broken event fails here, cheaply, before any decoding."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from schemas.events import VIDEO_ID_PATTERN, VideoPublished
from schemas.internal import AcceptedVideo
from streams.config import Settings
from streams.errors import InvalidEvent, as_error
from streams.media.uri import check_uri
from streams.stages.verdict import fail

if TYPE_CHECKING:
    from streams.app import Stream


def parse_event(value: bytes) -> VideoPublished:
    try:
        return VideoPublished.model_validate_json(value)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in error.errors())
        raise InvalidEvent(f"invalid video-published event: {problems}") from None


def best_effort_id(key: bytes | None, value: bytes) -> str:
    """The id a failed verdict is filed under when the event itself is unusable: the key the
    producer set, else a readable video_id field, else 'unknown'."""
    candidates = []
    if key:
        candidates.append(key.decode("utf-8", "replace"))
    try:
        candidates.append(str(json.loads(value).get("video_id", "")))
    except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, nested too deep
        pass
    return next((c for c in candidates if re.fullmatch(VIDEO_ID_PATTERN, c)), "unknown")


def accept(key: bytes | None, value: bytes, settings: Settings) -> AcceptedVideo:
    event = parse_event(value)
    if key and key.decode("utf-8", "replace") != event.video_id:
        raise InvalidEvent(f"the message key {key!r} differs from video_id {event.video_id!r}")
    check_uri(event.uri, settings)
    return AcceptedVideo(
        video_id=event.video_id,
        uri=event.uri,
        published_at=event.published_at,
        metadata=event.metadata,
        raw_event=base64.b64encode(value).decode(),
        accepted_at=datetime.now(UTC),
    )


def register(stream: Stream) -> None:
    @stream.app.agent(stream.published, name="ingest")
    async def ingest(events):
        async for event in events.events():
            key, value = event.key, event.value or b""
            try:
                accepted = accept(key, value, stream.settings)
            except Exception as exc:
                await fail(stream, best_effort_id(key, value), key, value, as_error(exc), stage="ingest")
                continue
            await stream.accepted.send(key=accepted.video_id.encode(), value=accepted.model_dump_json().encode())
