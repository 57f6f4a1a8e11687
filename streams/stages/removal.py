"""Takedowns: `video-removed` -> this stage's intake -> the joined topic -> the match agent, which
applies each one between two videos (streams.index.takedown) -> `video-removal-result`.

Why through the joined topic: the match stage reads its one partition in one order and is the
only writer of the index. A removal applied anywhere else could run while a video is being
matched (on another worker, too), and that video would then name, or join the cluster of, a
video that no longer exists. Forwarded removals carry a header that tells them from joined videos.

A removal reaches the match stage after every video joined before it; a video still being
decoded when its removal arrives is indexed afterwards (the result says not_found): send the
removal again once its verdict is out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from schemas.events import ErrorInfo, RemovalStatus, VideoRemoval, VideoRemoved
from streams.errors import InvalidEvent, as_error
from streams.metrics import removal_done
from streams.stages.ingest import best_effort_id

if TYPE_CHECKING:
    from streams.app import Stream

log = logging.getLogger(__name__)

KIND_HEADER = "dupstream.kind"
REMOVAL = b"removal"


def parse_removal(key: bytes | None, value: bytes) -> VideoRemoved:
    try:
        request = VideoRemoved.model_validate_json(value)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in error.errors())
        raise InvalidEvent(f"invalid video-removed event: {problems}") from None
    if key and key.decode("utf-8", "replace") != request.video_id:
        raise InvalidEvent(f"the message key {key!r} differs from video_id {request.video_id!r}")
    return request


def is_removal(event) -> bool:
    """Whether a message of the joined topic is a forwarded removal rather than a joined video."""
    return event is not None and (event.headers or {}).get(KIND_HEADER) == REMOVAL


async def send_result(stream: Stream, result: VideoRemoval) -> None:
    await stream.removal_result.send(key=result.video_id.encode(), value=result.model_dump_json().encode())
    removal_done(result)
    extra = {"video_id": result.video_id}
    if result.status == RemovalStatus.REMOVED:
        log.info("removed %s from the index (%s)%s", result.video_id, result.reason or "no reason given",
                 f"; {result.new_root} is the root of its cluster now" if result.new_root else "", extra=extra)
    elif result.status == RemovalStatus.NOT_FOUND:
        log.warning("removal of %s: not in the index, nothing to do", result.video_id, extra=extra)
    else:
        log.warning("removal of %s failed: %s: %s", result.video_id, result.error.code, result.error.message,
                    extra=extra)


def removal_result(request: VideoRemoved, status: RemovalStatus, **fields) -> VideoRemoval:
    return VideoRemoval(video_id=request.video_id, status=status, reason=request.reason,
                        request_id=request.request_id, removed_at=datetime.now(UTC), **fields)


async def apply_removal(stream: Stream, value: bytes) -> None:
    """Called by the match agent, in its order: take the video down and say what happened."""
    from streams.index.takedown import take_down

    try:
        request = VideoRemoved.model_validate_json(value)
    except ValidationError as error:  # the intake validated it: only a foreign writer of the topic gets here
        log.error("unreadable removal on the joined topic, skipped: %s", error)
        return
    runtime = stream.runtime
    try:
        done = await runtime.run(lambda: take_down(runtime.index, request.video_id))
    except Exception as exc:
        error = as_error(exc)
        result = removal_result(request, RemovalStatus.FAILED,
                                error=ErrorInfo(code=error.code, message=error.message, stage="removal"))
    else:
        result = removal_result(request, RemovalStatus.REMOVED if done.found else RemovalStatus.NOT_FOUND,
                                cluster_id=done.cluster_id, new_root=done.new_root, repointed=done.repointed,
                                removed_points=done.removed_points)
    await send_result(stream, result)


def intake(key: bytes | None, value: bytes) -> VideoRemoved | VideoRemoval:
    """The removal to forward to the match stage, or the failed result of an unusable event."""
    try:
        return parse_removal(key, value)
    except InvalidEvent as error:
        unusable = VideoRemoved.model_construct(video_id=best_effort_id(key, value), reason=None, request_id=None)
        return removal_result(unusable, RemovalStatus.FAILED,
                              error=ErrorInfo(code=error.code, message=error.message, stage="removal"))


def register(stream: Stream) -> None:
    @stream.app.agent(stream.removed, name="removal")
    async def removal(events):
        async for event in events.events():
            request = intake(event.key, event.value or b"")
            if isinstance(request, VideoRemoval):
                await send_result(stream, request)
            else:
                await stream.joined.send(key=request.video_id.encode(), value=request.model_dump_json().encode(),
                                         headers={KIND_HEADER: REMOVAL})
