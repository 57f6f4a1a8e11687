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

from schemas.events import ErrorInfo, Verdict
from schemas.internal import JoinedVideo
from streams.app import app, joined_topic, settings
from streams.errors import IndexUnavailable, as_error
from streams.index import VideoIndex
from streams.params import MatchParams
from streams.pipeline import build_verdict, index_video, linked_cluster, match_features
from streams.runtime import get_runtime
from streams.stages.removal import apply_removal, is_removal
from streams.stages.verdict import fail, model_info, send_verdict
from streams.wire import decode_joined


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


@app.agent(joined_topic, name="match", concurrency=1)
async def match(stream):
    runtime = get_runtime()
    params = MatchParams.from_settings(settings)  # once: every verdict of this worker states its digest
    async for value in stream:
        if is_removal(stream.current_event):  # takedowns come this way too, in the same one order
            await apply_removal(value)
            continue
        joined = decode_joined(value)
        try:
            # The index opens on first use, in the pool: a Qdrant server that does not answer
            # must not stall the event loop and with it the heartbeats.
            verdict = await runtime.run(lambda: match_video(joined, runtime.index, params))
        except Exception as exc:
            error = as_error(exc)
            raw = base64.b64decode(joined.accepted.raw_event)
            await fail(joined.accepted.video_id, joined.accepted.video_id.encode(), raw,
                       ErrorInfo(code=error.code, message=error.message, stage="match"), stage="match",
                       timings=joined.timings, models=model_info(joined.frames.model, joined.frames.model_version))
            continue
        await send_verdict(verdict)
