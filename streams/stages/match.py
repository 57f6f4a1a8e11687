"""Stage 4: search the index for earlier videos, compare soundtracks, decide, index the new video,
and hand the verdict to the verdict stage.

Runs on one partition (see streams.kafka.topics): videos are indexed in one order, and a video
processed twice (a crash before its offset was committed, a re-published event) gets the verdict
stored the first time instead of matching against itself."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import numpy as np

from schemas.events import AudioEvidence, AudioState, ErrorInfo, Segment, Verdict, VerdictClass, VisualEvidence
from schemas.internal import AudioHalf, JoinedVideo, decode_array
from streams.app import app, joined_topic, settings
from streams.config import Settings
from streams.errors import IndexUnavailable, as_error
from streams.index import StoredVideo, VideoIndex
from streams.runtime import get_runtime
from streams.stages.removal import apply_removal, is_removal
from streams.stages.verdict import fail, model_info, send_verdict
from streams.values import FrameHit, VisualMatch

# How many visual candidates, and how many more audio candidates, get their soundtrack compared (best first).
AUDIO_CHECKED_CANDIDATES = 5


def _items(encoded: str) -> np.ndarray:
    return decode_array(encoded, "uint32") if encoded else np.zeros(0, np.uint32)


def _fingerprint(items: str, items_per_second: float, duration: float, usable_seconds: float, state: str,
                 resampled=()):
    from streams.audio import AudioFingerprint

    return AudioFingerprint(
        items=_items(items),
        items_per_second=items_per_second,
        duration=duration,
        usable_seconds=usable_seconds,
        state=state,
        resampled=resampled,
    )


def query_fingerprint(audio: AudioHalf):
    """The new video's fingerprint, with its resampled copies (only the query has them: the index
    keeps the plain items)."""
    from streams.audio import ResampledItems

    resampled = tuple(ResampledItems(copy.speed, _items(copy.items)) for copy in audio.resampled)
    return _fingerprint(audio.items, audio.items_per_second, audio.duration, audio.usable_seconds, audio.state,
                        resampled)


def stored_fingerprint(video: StoredVideo):
    return _fingerprint(video.audio_items, video.audio_items_per_second, video.duration, video.duration,
                        video.audio_state)


def frame_hits(joined: JoinedVideo, index: VideoIndex, settings: Settings) -> list[FrameHit]:
    """The stored frames nearest to each query frame: plain, mirrored, and cropped to the video's
    active region (a picture-in-picture inset) when it has one. Region hits are their own
    candidates in the alignment (FrameHit.region): the verdict can say the inset matched."""
    frames = joined.frames
    timestamps = np.asarray(frames.timestamps, np.float32)
    views = [(frames.embeddings, timestamps, False, False), (frames.mirrored_embeddings, timestamps, True, False),
             (frames.region_embeddings, np.asarray(frames.region_timestamps, np.float32), False, True)]
    hits = []
    for encoded, times, mirrored, region in views:
        if encoded:
            embeddings = decode_array(encoded, "float16", frames.dim).astype(np.float32)
            found = index.search_frames(embeddings, times, limit=settings.frame_neighbours,
                                        score_floor=settings.frame_score_floor, mirrored=mirrored)
            hits += [hit._replace(region=True) for hit in found] if region else found
    return hits


def audio_candidates(joined: JoinedVideo, index: VideoIndex) -> list[str]:
    """Stored videos whose soundtrack windows line up with ours (streams.audio.windows), best first."""
    from streams.audio.windows import WINDOW_NEIGHBOURS, audio_candidates as voted, query_windows, window_score_floor

    query = query_fingerprint(joined.audio)
    if query.state != AudioState.OK:
        return []
    hits = index.search_audio(*query_windows(query.items, query.items_per_second), limit=WINDOW_NEIGHBOURS,
                              score_floor=window_score_floor())
    return [candidate.video_id for candidate in voted(hits, exclude=joined.accepted.video_id)]


def soundtrack_candidates(visual: list[VisualMatch], by_audio: list[str]) -> list[str]:
    """The stored videos whose soundtrack is compared: the best visual matches, then the audio
    stage's own candidates (audio_candidates)."""
    candidates = [match.video_id for match in visual[:AUDIO_CHECKED_CANDIDATES]]
    return candidates + [video for video in by_audio if video not in candidates][:AUDIO_CHECKED_CANDIDATES]


def compare_soundtracks(joined: JoinedVideo, candidates: list[str], index: VideoIndex, settings: Settings):
    """Audio comparison with each candidate whose soundtrack, and ours, is usable."""
    from streams.audio.match import compare

    query = query_fingerprint(joined.audio)
    results = {}
    if query.state != AudioState.OK:
        return results, {}
    states = {}
    for video_id in candidates:
        stored = index.get_video(video_id)
        if stored is None:
            continue
        states[video_id] = stored.audio_state
        if stored.audio_state == AudioState.OK:
            results[video_id] = compare(query, stored_fingerprint(stored), settings)
    return results, states


def _segment(segment) -> Segment | None:
    return Segment(start=round(segment.start, 2), end=round(segment.end, 2)) if segment is not None else None


def build_verdict(joined: JoinedVideo, decision, duplicate_of: str | None, timings: dict[str, float]) -> Verdict:
    visual = decision.visual
    audio = decision.audio
    return Verdict(
        video_id=joined.accepted.video_id,
        status="ok",
        is_duplicate=decision.is_duplicate,
        duplicate_of=duplicate_of,
        duplicate_for=duplicate_of or "",
        verdict=VerdictClass(decision.verdict),
        reason=decision.reason,
        matched_video=decision.matched_video,
        visual=VisualEvidence(
            video_id=visual.video_id, score=round(visual.score, 4), query_segment=_segment(visual.query_segment),
            reference_segment=_segment(visual.reference_segment), offset=round(visual.offset, 3),
            speed=round(visual.speed, 4), aligned_frames=visual.aligned_frames, mirrored=visual.mirrored,
            region=visual.region,
        ) if visual is not None else None,
        audio=AudioEvidence(
            video_id=decision.matched_video or "", same_recording=audio.same_recording, ber=round(audio.ber, 4),
            offset=round(audio.offset, 3), speed=round(audio.speed, 4),
            query_segment=_segment(audio.query_segment), reference_segment=_segment(audio.reference_segment),
        ) if audio is not None else None,
        audio_state=AudioState(joined.audio.state),
        thresholds=dict(decision.thresholds),
        timings=timings,
        models=model_info(joined.frames.model, joined.frames.model_version),
        decided_at=datetime.now(UTC),
    )


def match_video(joined: JoinedVideo, index: VideoIndex, settings: Settings) -> Verdict:
    from streams.matching.alignment import align
    from streams.matching.decision import decide

    started = time.perf_counter()
    video_id = joined.accepted.video_id
    try:
        already = index.get_video(video_id)
    except Exception as error:
        raise IndexUnavailable(f"cannot read the index: {error}") from error
    if already is not None:
        return Verdict.model_validate_json(already.verdict)

    visual = align(frame_hits(joined, index, settings), query_duration=joined.frames.duration, settings=settings)
    candidates = soundtrack_candidates(visual, audio_candidates(joined, index))
    audio, reference_states = compare_soundtracks(joined, candidates, index, settings)
    decision = decide(visual, audio, joined.audio.state, reference_states, settings)

    duplicate_of = None
    cluster_id = video_id
    if decision.is_duplicate:
        matched = index.get_video(decision.matched_video)
        cluster_id = matched.cluster_id if matched else decision.matched_video
        duplicate_of = cluster_id
    timings = {**joined.timings, "match": round(time.perf_counter() - started, 4)}
    timings["total"] = round((datetime.now(UTC) - joined.accepted.accepted_at).total_seconds(), 4)
    verdict = build_verdict(joined, decision, duplicate_of, timings)
    index_video(joined, index, cluster_id, verdict)
    return verdict


def index_video(joined: JoinedVideo, index: VideoIndex, cluster_id: str, verdict: Verdict) -> None:
    """Store the video, its soundtrack windows and its frames, linked to its cluster."""
    video_id = joined.accepted.video_id
    stored = StoredVideo(
        video_id=video_id,
        cluster_id=cluster_id,
        sequence=index.last_sequence() + 1,  # not the count: removals leave gaps
        published_at=joined.accepted.published_at.isoformat() if joined.accepted.published_at else None,
        duration=joined.frames.duration,
        audio_state=joined.audio.state,
        audio_items=joined.audio.items,
        audio_items_per_second=joined.audio.items_per_second,
        verdict=verdict.model_dump_json(),
        uri=joined.accepted.uri,
    )
    if joined.audio.state == AudioState.OK:
        from streams.audio.windows import stored_windows

        query = query_fingerprint(joined.audio)
        index.add_audio(video_id, *stored_windows(query.items, query.items_per_second))
    embeddings = decode_array(joined.frames.embeddings, "float16", joined.frames.dim).astype(np.float32)
    index.add_video(stored, np.asarray(joined.frames.timestamps, np.float32), embeddings)


@app.agent(joined_topic, name="match", concurrency=1)
async def match(stream):
    runtime = get_runtime()
    async for value in stream:
        if is_removal(stream.current_event):  # takedowns come this way too, in the same one order
            await apply_removal(value)
            continue
        joined = JoinedVideo.model_validate_json(value)
        try:
            # The index opens on first use, in the pool: a Qdrant server that does not answer
            # must not stall the event loop and with it the heartbeats.
            verdict = await runtime.run(lambda: match_video(joined, runtime.index, settings))
        except Exception as exc:
            error = as_error(exc)
            raw = base64.b64decode(joined.accepted.raw_event)
            await fail(joined.accepted.video_id, joined.accepted.video_id.encode(), raw,
                       ErrorInfo(code=error.code, message=error.message, stage="match"), stage="match",
                       timings=joined.timings, models=model_info(joined.frames.model, joined.frames.model_version))
            continue
        await send_verdict(verdict)
