"""One video matched against the index: the per-video work of the match stage, as the stream
(streams.stages.match), `dupstream calibrate` and the tests run it. Knows nothing of Kafka.

- `search(joined, index, params)` -> Found: what the index returns for the video (the stored
  frames nearest to each of its frames, in every view, and the stored soundtrack windows nearest
  to its own), the video's own id left out: after a partial index write (frames stored, record
  not) a replayed event must not find the video a duplicate of itself.
- `judge(joined, found, stored, params)` -> Decision: the alignment of the frame hits, the
  soundtrack comparisons with the candidates, the decision (streams.matching.decision). Pure
  given `stored`, a lookup of the stored videos: calibration searches once and judges under many
  parameter settings.
- `match_features(joined, index, params)` -> Decision: both, as the stream runs them.
- `linked_cluster`, `index_video`, `build_verdict`: what follows a decision.
- `near_misses`: the candidates that fell short of a duplicate, for moderators (the stream asks
  judge for them: Verdict.runners_up).

Every function takes the one MatchParams built from the Settings (streams.params), never a
module constant or the global Settings.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from schemas.events import (AudioEvidence, AudioState, ModelInfo, RunnerUp, Segment, Verdict, VerdictClass,
                           VisualEvidence)
from schemas.internal import AudioHalf, FrameHalf, JoinedVideo, array_text, decode_array
from streams.index import AudioHit, StoredVideo, VideoIndex
from streams.matching.alignment import (at_speed_edge, collapsed, evidence, frames_match, motion_decides, rank_key,
                                       sampling_interval, without_moment_checks)
from streams.matching.decision import AudioResult, ClusterOf, Decision, decide, frames_on_line, time_maps_agree
from streams.matching.visual import FramesLookup
from streams.params import MatchParams
from streams.values import FrameHit, Segment as Span, VisualMatch

StoredLookup = Callable[[str], StoredVideo | None]

RUNNERS_UP = 3  # near misses a verdict lists (Verdict.runners_up): enough to review, few enough to read


class Found(NamedTuple):
    """What the index returned for one video, its own id left out."""

    frame_hits: list[FrameHit]  # plain, mirrored, region and turned views
    audio_hits: list[AudioHit]  # soundtrack windows (none when the video has no usable sound)
    audio_min_votes: float = 1.0  # votes a stored video needs from audio_hits (streams.audio.windows.window_hits)
    views: tuple = ()  # the query's views as searched (streams.matching.visual.QueryView), decoded once


def _items(encoded: bytes | str) -> np.ndarray:
    """uint32 in the machine's order, so that np.asarray(items, np.uint32) is the array itself and
    what streams.audio.match derives from it is kept with it (streams.audio.memo)."""
    return decode_array(encoded, "uint32").view(np.uint32) if encoded else np.zeros(0, np.uint32)


def _fingerprint(items: bytes | str, items_per_second: float, duration: float, usable_seconds: float, state: str,
                 resampled=(), landmarks: bytes | str = b""):
    from streams.audio import AudioFingerprint

    return AudioFingerprint(
        items=_items(items),
        items_per_second=items_per_second,
        duration=duration,
        usable_seconds=usable_seconds,
        state=state,
        resampled=resampled,
        landmarks=_items(landmarks),
    )


def query_fingerprint(audio: AudioHalf):
    """The new video's fingerprint, with its resampled copies (only the query has them: the index
    keeps the plain items) and its landmarks."""
    from streams.audio import ResampledItems

    resampled = tuple(ResampledItems(copy.speed, _items(copy.items)) for copy in audio.resampled)
    return _fingerprint(audio.items, audio.items_per_second, audio.duration, audio.usable_seconds, audio.state,
                        resampled, audio.landmarks)


def stored_fingerprint(video: StoredVideo):
    """A stored video's fingerprint: the plain items and the landmarks (none when indexed before them)."""
    return _fingerprint(video.audio_items, video.audio_items_per_second, video.duration, video.duration,
                        video.audio_state, landmarks=video.audio_landmarks)


def sound_window_hits(joined: JoinedVideo, index: VideoIndex, params: MatchParams) -> tuple[list[AudioHit], float]:
    """The stored soundtrack windows nearest to the query's, and the votes a candidate needs
    (streams.audio.windows.window_hits)."""
    from streams.audio.windows import window_hits

    query = query_fingerprint(joined.audio)
    if query.state != AudioState.OK:
        return [], params.audio.window_min_votes
    return window_hits(index, query.items, query.items_per_second, params.audio)


def search(joined: JoinedVideo, index: VideoIndex, params: MatchParams) -> Found:
    from streams.matching.visual import query_views, search_views

    own = joined.accepted.video_id
    sound_hits, min_votes = sound_window_hits(joined, index, params)
    views = tuple(query_views(joined.frames))
    return Found(search_views(list(views), index, params.search, exclude_video_id=own),
                 [hit for hit in sound_hits if hit.video_id != own], min_votes, views)


def soundtrack_candidates(visual: list[VisualMatch], by_audio: list[str], params: MatchParams) -> list[str]:
    """The stored videos whose soundtrack is compared: the best visual matches, then the audio
    windows' own candidates (streams.audio.windows.audio_candidates)."""
    checked = params.decision.audio_checked_candidates
    candidates = list(dict.fromkeys(match.video_id for match in visual))[:checked]
    return candidates + [video for video in by_audio if video not in candidates][:checked]


def compare_sound(query, stored, params: MatchParams, near: VisualMatch | None = None):
    """One soundtrack comparison (streams.audio.match.compare). near: the frames' time line with
    this stored video, judged by streams.audio.match.compare_on_line (on the line: within
    decision.time_maps_agree)."""
    from streams.audio.match import TimeMap, compare, compare_on_line
    from streams.matching.alignment import speed_uncertainty

    if near is None:
        return compare(query, stored, params.audio)
    line = TimeMap(near.offset, near.speed, speed_uncertainty(near, params.align))
    return compare_on_line(query, stored, params.audio, line,
                           params.decision.co_located_offset_seconds,
                           lambda result: time_maps_agree(near, result, params.decision))


class Line(NamedTuple):
    """A time map between two videos: other_time = speed * own_time + offset."""

    offset: float
    speed: float

    def then(self, next_line: Line) -> Line:
        """This map followed by next_line (own -> this map's target -> next_line's target)."""
        return Line(next_line.speed * self.offset + next_line.offset, next_line.speed * self.speed)

    def inverse(self) -> Line:
        return Line(-self.offset / self.speed, 1.0 / self.speed)

    def segment(self, segment: Span) -> Span:
        return Span(self.speed * segment.start + self.offset, self.speed * segment.end + self.offset)


class CopyLine(NamedTuple):
    """What an indexed duplicate matched, as its verdict states it: its own segment `segment` maps
    onto video `of` by `line`."""

    of: str
    line: Line
    segment: Span


def copy_line(video: StoredVideo) -> CopyLine | None:
    """The frames' time line an indexed duplicate's verdict states to the video it matched (None:
    not a duplicate, or not on frames). The verdict is stored with the video (StoredVideo.verdict)."""
    return _copy_line(video.verdict)


@lru_cache(maxsize=4096)
def _copy_line(verdict: str) -> CopyLine | None:
    try:
        stated = json.loads(verdict)
    except ValueError:
        return None
    visual = stated.get("visual") if isinstance(stated, dict) and stated.get("is_duplicate") else None
    if not visual or not visual.get("speed"):
        return None
    own = visual["query_segment"]
    return CopyLine(visual["video_id"], Line(float(visual["offset"]), float(visual["speed"])),
                    Span(float(own["start"]), float(own["end"])))


def through_copy(match: VisualMatch, copy: CopyLine, query_duration: float, params: MatchParams) -> VisualMatch | None:
    """The query's frame line to the video an indexed copy matched, composed through the copy
    (query -> copy -> copy.of), over the query frames whose place in the copy lies in what the copy
    matched. None when that is less than the shortest match (visual_min_aligned_frames sampling
    steps): the query shows a part of the copy that is not the other video's, and the copy's match
    says nothing of it."""
    to_copy = Line(match.offset, match.speed)
    inside = Span(max(match.reference_segment.start, copy.segment.start),
                     min(match.reference_segment.end, copy.segment.end))
    if inside.end <= inside.start:
        return None
    query = to_copy.inverse().segment(inside)
    step = sampling_interval(query_duration, params.align)
    if query.end - query.start < params.align.visual_min_aligned_frames * step - 1e-6:
        return None
    composed = to_copy.then(copy.line)
    return match._replace(video_id=copy.of, offset=composed.offset, speed=composed.speed, query_segment=query,
                          reference_segment=copy.line.segment(inside))


def in_copy_time(result, copy_to_root: Line):
    """A soundtrack comparison with a video stated in the time of its indexed copy (the sound's
    line composed with the copy's inverse line): what decide compares with the frames' line to
    the copy."""
    back = copy_to_root.inverse()
    line = Line(result.offset, result.speed).then(back)
    return result._replace(offset=line.offset, speed=line.speed,
                           reference_segment=back.segment(result.reference_segment))


def sound_through_copies(query, match: VisualMatch, query_duration: float, stored: StoredLookup,
                         compare: Callable[..., Any], params: MatchParams) -> tuple[str, Any] | None:
    """A candidate without sound to compare (or too little to tell) that is itself an indexed copy:
    the query's sound compared with the sound of what it copies, on the frames' line composed
    through the copy's own match (and on through copies of copies to the first with sound), the
    result stated in the candidate's time. (that video's id, the comparison), or None when no
    video along the chain has sound or the query's line leaves what a copy matched. Sound that
    differs there is "same pictures, other sound", as it would be against the original itself."""
    seen = {match.video_id}
    video = stored(match.video_id)
    line, to_root = match, Line(0.0, 1.0)
    while video is not None:
        copy = copy_line(video)
        if copy is None or copy.of in seen:
            return None
        line = through_copy(line, copy, query_duration, params)
        if line is None:
            return None
        to_root = to_root.then(copy.line)
        seen.add(copy.of)
        video = stored(copy.of)
        if video is not None and video.audio_state == AudioState.OK:
            return copy.of, in_copy_time(compare(query, stored_fingerprint(video), params, line), to_root)
    return None


def align_hits(found: Found, frames: FrameHalf, frames_of: FramesLookup, params: MatchParams,
               videos: Collection[str] | None = None) -> list[VisualMatch]:
    """The frame hits aligned in time, each line's temporal structure measured against the
    reference's own frames (frames_of), and the lines that match, best first
    (streams.matching.visual.distinctive_matches). videos: only these stored videos' lines."""
    from streams.matching.visual import distinctive_matches, query_views

    views = list(found.views) or query_views(frames)
    return distinctive_matches(found.frame_hits, views, frames_of, frames.duration, params.align, videos)


def judge(joined: JoinedVideo, found: Found, stored: StoredLookup, frames_of: FramesLookup, params: MatchParams,
          compare: Callable[..., Any] = compare_sound,
          align: Callable[..., list[VisualMatch]] = align_hits, runners_up: int = 0) -> Decision:
    """The decision for one video from what the index returned. stored: the stored videos by id
    (their soundtracks, audio states and clusters); frames_of: their frames (times, embeddings);
    compare, align: compare_sound and align_hits or stand-ins with their signatures (calibration
    memoises them; align takes videos= only when near misses are asked for). runners_up: keep up
    to this many near misses on the decision (near_misses; the stream asks for RUNNERS_UP,
    calibration for none: they may cost a second alignment)."""
    from streams.audio.windows import audio_candidates

    video_id = joined.accepted.video_id
    # Every measured line: those that fail only the "same moment" checks still match where the
    # sound, the same recording on their line, shows the moment (decide).
    every_line = align(found, joined.frames, frames_of, replace(params, align=without_moment_checks(params.align)))
    visual = [match for match in every_line if frames_match(match, params.align)]
    by_audio = [candidate.video_id for candidate in audio_candidates(found.audio_hits, params.audio, exclude=video_id,
                                                                     min_votes=found.audio_min_votes)]
    candidates = soundtrack_candidates(visual + every_line, by_audio, params)
    query = query_fingerprint(joined.audio)
    first_match = {}
    for match in visual + every_line:
        first_match.setdefault(match.video_id, match)
    audio, states, clusters = {}, {}, {}
    for candidate in dict.fromkeys([*candidates, *first_match]):
        video = stored(candidate)
        if video is None:
            continue
        root = stored(video.cluster_id) if video.cluster_id != candidate else video
        clusters[candidate] = ClusterOf(video.cluster_id, root.sequence if root is not None else video.sequence)
        if candidate not in candidates:
            continue
        states[candidate] = video.audio_state
        if query.state == AudioState.OK and video.audio_state == AudioState.OK:
            audio[candidate] = compare(query, stored_fingerprint(video), params, first_match.get(candidate))
    through = {}
    if query.state == AudioState.OK:
        for candidate in candidates:
            if candidate in first_match and not (candidate in audio and audio[candidate].decisive):
                found_through = sound_through_copies(query, first_match[candidate], joined.frames.duration, stored,
                                                     compare, params)
                if found_through is not None:
                    through[candidate], audio[candidate] = found_through
    lines = on_the_sound_s_line(every_line, audio, found, joined.frames.duration, params, frames_of)
    decision = decide(lines, audio, joined.audio.state, states, params, clusters=clusters,
                      query_audio_seconds=joined.audio.usable_seconds, through=through)
    if not runners_up:
        return decision
    # near_misses takes a video's line from `lines` first: the review's lines count only for the
    # videos with none there, and when every video the search found has one, none is aligned again.
    unlined = {hit.video_id for hit in found.frame_hits} - {match.video_id for match in lines}
    below = align(found, joined.frames, frames_of, review_params(params), videos=unlined) if unlined else []
    return decision._replace(runners_up=near_misses(decision, lines, below, audio, params, runners_up))


def on_the_sound_s_line(visual: list[VisualMatch], audio: dict, found: Found, query_duration: float,
                        params: MatchParams, frames_of: FramesLookup | None = None) -> list[VisualMatch]:
    """The visual matches, each whose sound is the same recording on another time line replaced
    by its frames re-aligned on the sound's line when they still match there
    (decision.frames_on_line), from the search's hits and, given frames_of, the query frames'
    similarities to the reference's frames on that line (visual.hits_on_line)."""
    from streams.matching.visual import hits_on_line

    moved = []
    for match in visual:
        result = audio.get(match.video_id)
        if result is not None and result.same_recording and not time_maps_agree(match, result, params.decision):
            hits = found.frame_hits
            if frames_of is not None and found.views:
                hits = hits + hits_on_line(match, list(found.views), frames_of, result.offset, result.speed,
                                           query_duration, params.align, params.search.frame_score_floor)
            match = frames_on_line(match, hits, result, query_duration, params) or match
        moved.append(match)
    return moved


def match_features(joined: JoinedVideo, index: VideoIndex, params: MatchParams, runners_up: int = RUNNERS_UP) -> Decision:
    from functools import lru_cache

    frames_of = lru_cache(maxsize=None)(index.get_frames)  # the near misses' alignment reads the same references
    return judge(joined, search(joined, index, params), index.get_video, frames_of, params, runners_up=runners_up)


class NearMiss(NamedTuple):
    """A stored video judge looked at that fell short of a duplicate."""

    video_id: str
    short_of: tuple[str, ...]  # the thresholds it missed, as 'section.field' (Verdict.thresholds' keys)
    visual: VisualMatch | None  # its best frame line, even below the thresholds (None: none aligned)
    audio: AudioResult | None  # its soundtrack comparison (None: not compared)
    sound_agrees: bool | None  # the sound's time line is the frames' (None: no frames or no same sound)


def review_params(params: MatchParams) -> MatchParams:
    """The alignment's thresholds lowered to what the search returns at all (frame_score_floor),
    the temporal-structure, motion and collapsed-line checks off: the lines judge's own alignment drops,
    so a moderator sees how close they came."""
    return params.updated("align", visual_match_score=params.search.frame_score_floor,
                          min_distinctiveness=float("-inf"), visual_max_false_alarm=1.0, min_reference_span_share=0.0)


def missed_thresholds(match: VisualMatch | None, audio: AudioResult | None, params: MatchParams) -> tuple[str, ...]:
    """Which thresholds stand between this candidate and a duplicate: the checks of
    alignment.frames_match one by one, then the sound's (decision's policy)."""
    align = params.align
    if match is None:
        missed = ["align.visual_min_aligned_frames"]  # no line of at least that many frames
    else:
        weighted = match.weighted_frames or float(match.aligned_frames)
        missed = [name for name, short in (
            ("align.visual_match_score", match.score < align.visual_match_score),
            ("align.visual_min_aligned_frames", min(match.aligned_frames, weighted) < align.visual_min_aligned_frames - 1e-9),
            ("align.speed_edge_share", at_speed_edge(match.speed, align)),
            ("align.min_reference_span_share", collapsed(match, align)),
            ("align.min_distinctiveness", match.distinctiveness is not None
             and match.distinctiveness < align.min_distinctiveness),
            ("align.visual_max_false_alarm", motion_decides(match, align)
             and match.false_alarm > align.visual_max_false_alarm)) if short]
    if audio is not None and audio.decisive and not audio.same_recording:
        missed.append("audio.max_false_alarm")
    elif (audio is not None and audio.same_recording and match is not None
          and not time_maps_agree(match, audio, params.decision)):
        missed.append("decision.co_located_offset_seconds")
    return tuple(missed)


def near_misses(decision: Decision, lines: list[VisualMatch], below: list[VisualMatch], audio: dict,
                params: MatchParams, limit: int) -> tuple[NearMiss, ...]:
    """The candidates other than the matched video that missed a threshold, closest first (fewest
    thresholds missed, then the most frame evidence, then the likeliest same sound), at most limit.
    lines: the frame lines the decision weighed; below: the lines of the same hits under
    review_params; audio: the soundtrack comparisons by video id."""
    best: dict[str, VisualMatch] = {}
    for match in [*sorted(lines, key=rank_key), *sorted(below, key=rank_key)]:
        best.setdefault(match.video_id, match)
    found = []
    for video_id in dict.fromkeys([*best, *audio]):
        if video_id == decision.matched_video:
            continue
        match, result = best.get(video_id), audio.get(video_id)
        missed = missed_thresholds(match, result, params)
        if not missed:  # as good as the matched video: a member of its cluster, not a near miss
            continue
        agrees = (time_maps_agree(match, result, params.decision)
                  if match is not None and result is not None and result.same_recording else None)
        found.append(NearMiss(video_id, missed, match, result, agrees))
    found.sort(key=lambda miss: (len(miss.short_of), -evidence(miss.visual) if miss.visual else 0.0,
                                 miss.audio.false_alarm if miss.audio is not None else 1.0))
    return tuple(found[:limit])


def linked_cluster(decision: Decision, stored: StoredLookup) -> str | None:
    """duplicate_of: the cluster root of the matched video (a copy of a copy names the original)."""
    if not decision.is_duplicate:
        return None
    matched = stored(decision.matched_video)
    return matched.cluster_id if matched is not None else decision.matched_video


def _segment(segment) -> Segment | None:
    return Segment(start=round(segment.start, 2), end=round(segment.end, 2)) if segment is not None else None


def _visual_evidence(visual: VisualMatch | None) -> VisualEvidence | None:
    if visual is None:
        return None
    return VisualEvidence(
        video_id=visual.video_id, score=round(visual.score, 4), query_segment=_segment(visual.query_segment),
        reference_segment=_segment(visual.reference_segment), offset=round(visual.offset, 3),
        speed=round(visual.speed, 4), aligned_frames=visual.aligned_frames, mirrored=visual.mirrored,
        region=visual.region, rotation=visual.rotation,
        distinctiveness=round(visual.distinctiveness, 4) if visual.distinctiveness is not None else None,
    )


def _audio_evidence(video_id: str, audio: AudioResult | None, agrees: bool | None) -> AudioEvidence | None:
    if audio is None:
        return None
    return AudioEvidence(
        video_id=video_id, same_recording=audio.same_recording, ber=round(audio.ber, 4),
        false_alarm=float(f"{audio.false_alarm:.3g}"), offset=round(audio.offset, 3), speed=round(audio.speed, 4),
        query_segment=_segment(audio.query_segment), reference_segment=_segment(audio.reference_segment),
        agrees_with_frames=agrees,
    )


def build_verdict(joined: JoinedVideo, decision: Decision, duplicate_of: str | None, timings: dict[str, float],
                  models: ModelInfo | None) -> Verdict:
    """The verdict of a decision; models gains the frame model's digest, which names the index
    generation the video was compared with (streams.index: generations)."""
    from streams.index import frame_model_digest

    if models is not None and models.frame_model:
        models = models.model_copy(update={"frame_model_digest": frame_model_digest(models.frame_model)})
    return Verdict(
        video_id=joined.accepted.video_id,
        status="ok",
        is_duplicate=decision.is_duplicate,
        duplicate_of=duplicate_of,
        duplicate_for=duplicate_of or "",
        verdict=VerdictClass(decision.verdict),
        reason=decision.reason,
        matched_video=decision.matched_video,
        visual=_visual_evidence(decision.visual),
        audio=_audio_evidence(decision.matched_video or "", decision.audio, decision.sound_agrees),
        runners_up=[RunnerUp(video_id=miss.video_id, short_of=list(miss.short_of),
                             visual=_visual_evidence(miss.visual),
                             audio=_audio_evidence(miss.video_id, miss.audio, miss.sound_agrees))
                    for miss in decision.runners_up],
        audio_state=AudioState(joined.audio.state),
        thresholds=dict(decision.thresholds),
        params_digest=decision.params_digest,
        timings=timings,
        models=models,
        decided_at=datetime.now(UTC),
    )


def index_video(joined: JoinedVideo, index: VideoIndex, cluster_id: str, verdict: Verdict, params: MatchParams) -> None:
    """Store the video, its soundtrack windows and its frames, linked to its cluster."""
    video_id = joined.accepted.video_id
    stored = StoredVideo(
        video_id=video_id,
        cluster_id=cluster_id,
        sequence=index.last_sequence() + 1,  # not the count: removals leave gaps
        published_at=joined.accepted.published_at.isoformat() if joined.accepted.published_at else None,
        duration=joined.frames.duration,
        audio_state=joined.audio.state,
        audio_items=array_text(joined.audio.items),
        audio_items_per_second=joined.audio.items_per_second,
        verdict=verdict.model_dump_json(),
        uri=joined.accepted.uri,
        audio_landmarks=array_text(joined.audio.landmarks),
    )
    if joined.audio.state == AudioState.OK:
        from streams.audio.windows import stored_windows

        query = query_fingerprint(joined.audio)
        index.add_audio(video_id, *stored_windows(query.items, query.items_per_second, params.audio))
    embeddings = decode_array(joined.frames.embeddings, "float16", joined.frames.dim).astype(np.float32)
    index.add_video(stored, np.asarray(joined.frames.timestamps, np.float32), embeddings)
