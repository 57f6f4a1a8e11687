"""Stage 4: search the index for earlier videos, compare soundtracks, decide, index the new video,
and hand the verdict to the verdict stage.

Runs on one partition (see streams.kafka.topics): videos are indexed in one order, and a video
processed twice (a crash before its offset was committed, a re-published event) gets the verdict
stored the first time instead of matching against itself; after a partial index write (frames
stored, record not) the replay leaves its own frames out of the search (streams.pipeline.search).
The matching parameters are built once per worker from the Settings (streams.params)."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from schemas.events import ErrorInfo, Verdict
from schemas.internal import JoinedVideo
from streams.errors import IndexUnavailable, as_error
from streams.index import VideoIndex
from streams.params import MatchParams
from streams.pipeline import build_verdict, index_video, linked_cluster, match_features
from streams.stages.removal import apply_removal, is_removal
from streams.stages.verdict import fail, model_info, send_verdict

if TYPE_CHECKING:
    from streams.app import Stream


def match_video(joined: JoinedVideo, index: VideoIndex, params: MatchParams) -> Verdict:
    started = time.perf_counter()
    video_id = joined.accepted.video_id
    try:
        already = index.get_video(video_id)
    except Exception as error:
        raise IndexUnavailable(f"cannot read the index: {error}") from error
    if already is not None:
        return Verdict.model_validate_json(already.verdict)

    decision = match_features(joined, index, params)
    duplicate_of = linked_cluster(decision, index.get_video)
    timings = {**joined.timings, "match": round(time.perf_counter() - started, 4)}
    timings["total"] = round((datetime.now(UTC) - joined.accepted.accepted_at).total_seconds(), 4)
    verdict = build_verdict(joined, decision, duplicate_of, timings,
                            model_info(joined.frames.model, joined.frames.model_version))
    index_video(joined, index, duplicate_of or video_id, verdict, params)
    return verdict


def register(stream: Stream) -> None:
    runtime = stream.runtime
    params = MatchParams.from_settings(stream.settings)  # once: every verdict of this worker states its digest

    @stream.app.agent(stream.joined, name="match", concurrency=1)
    async def match(values):
        async for value in values:
            if is_removal(values.current_event):  # takedowns come this way too, in the same one order
                await apply_removal(stream, value)
                continue
            joined = JoinedVideo.model_validate_json(value)
            try:
                # The index opens on first use, in the pool: a Qdrant server that does not answer
                # must not stall the event loop and with it the heartbeats.
                verdict = await runtime.run(lambda: match_video(joined, runtime.index, params))
            except Exception as exc:
                error = as_error(exc)
                raw = base64.b64decode(joined.accepted.raw_event)
                await fail(stream, joined.accepted.video_id, joined.accepted.video_id.encode(), raw,
                           ErrorInfo(code=error.code, message=error.message, stage="match"), stage="match",
                           timings=joined.timings,
                           models=model_info(joined.frames.model, joined.frames.model_version))
                continue
            await send_verdict(stream, verdict)
