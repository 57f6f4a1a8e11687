"""The four-way decision, from the visual matches and the soundtrack comparisons. Pure.

Policy, per candidate video (a stored video whose frames align, see alignment.align):

- frames match, and the sound is the same recording on the same time line -> duplicate
- frames match, the sound is the same recording but on another time line  -> visual_match_different_audio
  (two separate findings, both reported: not one copy)
- frames match, both sides have usable audio, the recordings differ     -> visual_match_different_audio
  (AudioResult.decisive: positive evidence, streams.audio.match)          (same person and set, another talk)
- frames match, either side has no usable audio, the audio was not      -> duplicate, on frames alone
  compared, or the sound is inconclusive: too short for the test to        (the reason says which side and why)
  tell, or agreeing better than unrelated tracks mostly do but short of
  the same-recording test (neither same_recording nor decisive)
- the soundtrack is the same recording but no frames match             -> audio_match_different_visuals
                                                                           (people dancing to one track)
- nothing                                                              -> unique

A candidate without sound of its own to compare (or too little to tell) that is itself an indexed
copy is heard through what it copies: the caller (streams.pipeline.sound_through_copies) passes
the comparison with that video's sound on the frames' line composed through the copy's own match,
stated in the candidate's time, and names that video in `through`. A fixed camera at another
moment that aligns with a muted copy of the first moment thus meets the first moment's sound.

"Frames match" (`frames_match`; its two "same moment" checks, distinctiveness and motion, waived
for a line on which the sound is the same recording: the sound shows the same moment; a still
card has no motion to show it): VisualMatch.score >= align.visual_match_score and aligned frames
(and weighted frames) >= align.visual_min_aligned_frames, the thresholds alignment.align's rule 5
applies. "Same recording": the audio result's same_recording.

"The same time line" (`time_maps_agree`): both matches state reference_time = speed * query_time +
offset. They are one copy when, over the query stretch both cover, the two lines put it at the
same reference times within decision.co_located_offset_seconds (an A/V desync of a few hundred ms,
the frames' one-second sampling), their speeds differ by at most decision.co_located_speed_share
(a speed fitted on a few frames is known to a few percent), and the stretch they share is at least
decision.co_located_min_overlap of the shorter of the two. A trimmed copy shifts both lines
together; a sped-up copy (audio resampled too) has both speeds near the same value; an added
intro or outro leaves the stretch both cover unchanged. Frames at 12 s and speed 0.75 with sound
at 4 s and speed 1.0 are two coincidences, not one copy -- unless the frames, re-aligned on the
sound's line (`frames_on_line`), still match there: near-static footage pins its own line loosely,
and the caller then passes that re-aligned match.

Choice among candidates (matched_video): the frame-matching candidates whose sound agrees (same
recording, same time line) come first, then the others; within that group, the candidates whose
visual evidence is at least decision.equal_evidence_share of the group's best count as equal, and
among those the earliest cluster root wins (a copy found both directly and through one of its
indexed copies names the root: "clusters" gives each candidate's root and the root's position in
the index order), then alignment.rank_key order (aligned evidence, then score). The chosen
candidate's audio category gives the verdict. Without any frame match, a same-recording
soundtrack (best = lowest false-alarm probability) gives audio_match_different_visuals; otherwise unique.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, runtime_checkable

from schemas.events import AudioState, VerdictClass
from streams.matching.alignment import evidence, frames_match, motion_decides, rank_key, sampling_interval
from streams.params import AudioParams, DecisionParams, MatchParams
from streams.values import FrameHit, Segment, VisualMatch


@runtime_checkable
class AudioResult(Protocol):
    """What a soundtrack comparison says (streams.audio.match.AudioMatch satisfies it)."""

    @property
    def same_recording(self) -> bool: ...
    @property
    def ber(self) -> float: ...  # bit error rate of the aligned fingerprints, 0..1
    @property
    def false_alarm(self) -> float: ...  # probability that unrelated tracks align as well
    @property
    def decisive(self) -> bool: ...  # the recordings differ, on positive evidence (neither: inconclusive)
    @property
    def overlap_seconds(self) -> float: ...  # sound the best hypothesis compared
    @property
    def offset(self) -> float: ...  # reference_time = speed * query_time + offset
    @property
    def speed(self) -> float: ...
    @property
    def query_segment(self) -> Segment: ...
    @property
    def reference_segment(self) -> Segment: ...


class ClusterOf(NamedTuple):
    """Where a candidate stands in the index: its cluster's root and the root's position."""

    root: str
    root_sequence: int


class Decision(NamedTuple):
    verdict: VerdictClass
    is_duplicate: bool
    matched_video: str | None  # the stored video that decided; None when unique
    visual: VisualMatch | None  # the frame evidence for matched_video
    audio: AudioResult | None  # the soundtrack evidence for matched_video (None: not compared)
    reason: str  # one sentence: which threshold decided
    thresholds: dict[str, float]  # the decision-relevant parameters (decision_values)
    params_digest: str = ""  # MatchParams.digest() of every parameter that applied
    sound_agrees: bool | None = None  # the sound's time line is the frames' (None: no frames or no same sound)
    runners_up: tuple = ()  # the other candidates that fell short, for moderators (streams.pipeline.near_misses)


def _state(value: Any) -> str:
    """An audio state as its string ('ok', 'no_audio', ...); None is unknown ('')."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


# The values a reader needs to check a verdict by hand; the digest names all the others.
DECISION_FIELDS = {
    "search": ("frame_score_floor", "frame_neighbours"),
    "align": ("visual_match_score", "visual_min_aligned_frames", "visual_max_false_alarm", "min_distinctiveness",
              "common_frame_videos", "speed_min", "outer_false_alarm_share"),
    "audio": ("max_false_alarm", "differ_min_false_alarm", "landmark_max_false_alarm", "landmark_max_partial",
              "landmark_kept_share", "landmark_kept_per_step", "min_audio_seconds"),
}


def decision_values(params: MatchParams) -> dict[str, float]:
    """'section.field' -> value, for the fields that decide (every numeric one of `decision`)."""
    values = {f"{section}.{name}": float(getattr(getattr(params, section), name))
              for section, names in DECISION_FIELDS.items() for name in names}
    values.update({f"decision.{name}": float(value) for name, value in asdict(params.decision).items()})
    return values


@lru_cache(maxsize=64)
def _stated(params: MatchParams) -> tuple[dict[str, float], str]:
    """What every verdict under these parameters states: computed once per parameter object (a
    calibration sweep judges every video under each of hundreds)."""
    return decision_values(params), params.digest()


_STATE_WORDS = {AudioState.NO_AUDIO: "has no audio", AudioState.TOO_LITTLE_AUDIO: "has too little audio",
                AudioState.FAILED: "has unreadable audio"}


def time_maps_agree(visual: VisualMatch, audio: AudioResult, params: DecisionParams) -> bool:
    """Whether the sound match lies on the frames' time line (see the module's docstring)."""
    if visual.speed <= 0 or abs(audio.speed / visual.speed - 1.0) > params.co_located_speed_share:
        return False
    start = max(visual.query_segment.start, audio.query_segment.start)
    end = min(visual.query_segment.end, audio.query_segment.end)
    shorter = min(visual.query_segment.end - visual.query_segment.start,
                  audio.query_segment.end - audio.query_segment.start)
    if shorter <= 0 or end - start < params.co_located_min_overlap * shorter:
        return False
    apart = max(abs((visual.speed * t + visual.offset) - (audio.speed * t + audio.offset)) for t in (start, end))
    return apart <= params.co_located_offset_seconds


def frames_on_line(match: VisualMatch, hits: Iterable[FrameHit], line: AudioResult, query_duration: float,
                   params: MatchParams) -> VisualMatch | None:
    """The frames of `match` re-aligned on the sound's time line: for each query frame of the
    match's segment, its best hit of the same video and view within the alignment's tolerance of
    reference = line.speed * query + line.offset. A match on that line when it keeps at least
    decision.on_line_min_share of the match's aligned frames and still is a frame match; else
    None. Near-static footage (a photo panned slowly) fixes its own time line to a few seconds
    only, the sound to a fraction of one: when the frames fit the sound's line as well, the two
    findings are one copy.

    The match's distinctiveness and motion measured the frames' own line, not this one, so they
    are dropped; and this line is the sound's, the same recording: the sound shows the same
    moment, and the "same moment" checks are waived (frames_match's moment_shown), as decide
    waives them for any line the sound agrees with. (Keeping the other line's measures refused
    a crop of a panned photograph: its own line is seconds off, where the crop's view of the
    photograph was, and undistinctive there.)"""
    step = sampling_interval(query_duration, params.align)
    tolerance = params.align.tolerance_steps * step
    segment = match.query_segment
    best: dict[float, float] = {}
    for hit in hits:
        if (hit.video_id != match.video_id or hit.mirrored != match.mirrored or hit.region != match.region
                or hit.rotation != match.rotation or not segment.start - 1e-6 <= hit.query_time < segment.end):
            continue
        if abs(hit.ref_time - (line.speed * hit.query_time + line.offset)) <= tolerance + 1e-6:
            best[hit.query_time] = max(best.get(hit.query_time, 0.0), hit.score)
    if len(best) < params.decision.on_line_min_share * match.aligned_frames:
        return None
    times = sorted(best)
    on_line = match._replace(score=float(sum(best.values()) / len(best)), aligned_frames=len(best),
                             weighted_frames=float(len(best)), offset=line.offset, speed=line.speed,
                             distinctiveness=None, motion=None, false_alarm=None, best_false_alarm=None,
                             offline_score=None,
                             query_segment=Segment(times[0], min(times[-1] + step, segment.end)),
                             reference_segment=Segment(line.speed * times[0] + line.offset,
                                                       line.speed * min(times[-1] + step, segment.end) + line.offset))
    return on_line if frames_match(on_line, params.align, moment_shown=True) else None


def _frames_phrase(match: VisualMatch, params: MatchParams) -> str:
    q = match.query_segment
    view = ((", mirrored" if match.mirrored else "") + (", cropped to their active region" if match.region else "")
            + (f", turned {match.rotation} degrees" if match.rotation else ""))
    speed = f", speed {match.speed:.2f}" if abs(match.speed - 1.0) >= 0.02 else ""
    motion = ""
    if match.false_alarm is not None and not motion_decides(match, params.align):
        motion = (f", their changes too slow to test along the line ({match.motion:.2f}; even identical changes on "
                  f"every frame would leave a false alarm of {match.best_false_alarm:.1e} > visual_max_false_alarm "
                  f"{params.align.visual_max_false_alarm:g}, so the distinctiveness decides)")
    elif match.false_alarm is not None:
        passed = match.false_alarm <= params.align.visual_max_false_alarm
        motion = (f", their changes {'correlate' if passed else 'do not correlate beyond chance'} along the line "
                  f"({match.motion:.2f}; a line through unrelated changes does as well with probability "
                  f"{match.false_alarm:.1e} {'<=' if passed else '>'} visual_max_false_alarm "
                  f"{params.align.visual_max_false_alarm:g}"
                  f"{'' if passed else ', waived: the sound on this line shows the same moment'})")
    return (f"frames {q.start:.0f}-{q.end:.0f} s align with {match.video_id} over {match.aligned_frames} frames"
            f"{view}{speed} (mean similarity {match.score:.2f} >= visual_match_score "
            f"{params.align.visual_match_score:.2f}, {match.aligned_frames} >= visual_min_aligned_frames "
            f"{params.align.visual_min_aligned_frames}{motion})")


def _landmarks_differ(result: AudioResult, audio: AudioParams) -> str:
    """What the second test said of sound that differs, when it was made (streams.audio.landmarks)."""
    found = getattr(result, "landmarks", None)
    if found is None:
        return ""
    if found.false_alarm > audio.landmark_max_false_alarm:
        return (f"; spectral-peak landmarks: {found.matches} peak pairs on one offset where {found.expected:.1f} "
                f"are expected, probability {found.false_alarm:.1e} > audio.landmark_max_false_alarm "
                f"{audio.landmark_max_false_alarm:g}")
    return (f"; spectral-peak landmarks agree on one offset but not over the whole stored recording, only a shared "
            f"part or background ({min(found.partial, found.contained):.1e} <= audio.landmark_max_partial "
            f"{audio.landmark_max_partial:g})")


def _same_phrase(result: AudioResult, audio: AudioParams) -> str:
    """Which test found the same recording, with its false alarm and threshold."""
    found = getattr(result, "landmarks", None)
    if getattr(result, "test", "chromaprint") == "landmarks" and found is not None:
        return (f"spectral-peak landmarks, sound added on top: {found.matches} peak pairs agree on one offset where "
                f"{found.expected:.1f} are expected, which unrelated tracks do with probability "
                f"{result.false_alarm:.1e} <= audio.landmark_max_false_alarm {audio.landmark_max_false_alarm:g}; "
                f"Chromaprint's bit error rate {result.ber:.2f}")
    return (f"unrelated tracks align as well with probability {result.false_alarm:.1e} <= audio.max_false_alarm "
            f"{audio.max_false_alarm:g}; bit error rate {result.ber:.2f}")


def _line(match: VisualMatch | AudioResult) -> str:
    return f"offset {match.offset:+.1f} s, speed {match.speed:.2f}"


def _chosen(candidates: list[VisualMatch], clusters: Mapping[str, ClusterOf], share: float) -> VisualMatch:
    """Among candidates (rank_key order) as good as the first, the earliest cluster root's."""
    floor = share * evidence(candidates[0])
    equal = [match for match in candidates if evidence(match) >= floor - 1e-9]

    def root_first(position: int) -> tuple[float, bool, int]:
        video_id = equal[position].video_id
        cluster = clusters.get(video_id)
        if cluster is None:
            return float("inf"), True, position
        return float(cluster.root_sequence), cluster.root != video_id, position

    return equal[min(range(len(equal)), key=root_first)]


def _no_audio_why(video_id: str, query_state: str, reference_state: str, query_audio_seconds: float | None,
                  params: MatchParams) -> str:
    needed = f"audio.min_audio_seconds {params.audio.min_audio_seconds:g} s"
    if query_state != AudioState.OK:
        heard = (f" ({query_audio_seconds:.1f} s of sound, under {needed})"
                 if query_state == AudioState.TOO_LITTLE_AUDIO and query_audio_seconds is not None
                 else f" (under {needed})" if query_state == AudioState.TOO_LITTLE_AUDIO else "")
        return f"the query {_STATE_WORDS.get(query_state, 'has no usable audio')}{heard}, so the sound could not confirm it"
    if reference_state and reference_state != AudioState.OK:
        heard = f" (under {needed})" if reference_state == AudioState.TOO_LITTLE_AUDIO else ""
        return f"{video_id} {_STATE_WORDS.get(reference_state, 'has no usable audio')}{heard}, so the sound could not confirm it"
    return "the soundtracks were not compared"


def decide(
    visual: list[VisualMatch],
    audio: Mapping[str, AudioResult],
    query_audio_state: Any,
    reference_audio_states: Mapping[str, Any] | None,
    params: MatchParams,
    *,
    clusters: Mapping[str, ClusterOf] | None = None,
    query_audio_seconds: float | None = None,
    through: Mapping[str, str] | None = None,
) -> Decision:
    """The verdict for a query video.

    visual: alignment.align's matches. audio: soundtrack comparisons by stored video id (only for
    candidates where both sides had usable audio). query_audio_state: 'ok' / 'no_audio' /
    'too_little_audio' (or the AudioState enum). reference_audio_states: each candidate's state
    from the index payload; a missing candidate with an audio result counts as 'ok'. clusters:
    each candidate's cluster root (the candidate choice prefers the earliest); query_audio_seconds:
    the query's seconds of sound, for the reason when it has too little. through: candidates
    whose audio result is the comparison with another video's sound, that of the video the
    candidate is an indexed copy of (streams.pipeline.sound_through_copies), by candidate."""
    thresholds, digest = _stated(params)
    max_false_alarm = params.audio.max_false_alarm
    audio = audio or {}
    reference_audio_states = reference_audio_states or {}
    clusters = clusters or {}
    through = through or {}
    query_state = _state(query_audio_state)

    def made(kind: VerdictClass, video_id: str | None, match: VisualMatch | None, result: AudioResult | None,
             reason: str, agrees: bool | None = None) -> Decision:
        return Decision(kind, kind == VerdictClass.DUPLICATE, video_id, match, result, reason, thresholds, digest,
                        agrees)

    def agrees(match: VisualMatch) -> bool:
        result = audio.get(match.video_id)
        return result is not None and result.same_recording and time_maps_agree(match, result, params.decision)

    # The same recording of sound on a line shows it joins the same moment: the checks asking
    # just that are waived for it (alignment.frames_match's moment_shown).
    matches = sorted((m for m in visual if frames_match(m, params.align, moment_shown=agrees(m))), key=rank_key)
    best_per_video: dict[str, VisualMatch] = {}
    for match in matches:
        best_per_video.setdefault(match.video_id, match)
    candidates = list(best_per_video.values())

    confirmed = [m for m in candidates if agrees(m)]
    pool = confirmed or candidates
    if pool:
        chosen = _chosen(pool, clusters, params.decision.equal_evidence_share)
        video_id = chosen.video_id
        frames = _frames_phrase(chosen, params)
        result = audio.get(video_id)
        if video_id in through:  # the candidate's own sound could not tell: its original's did
            frames += (f"; {video_id} is an indexed copy of {through[video_id]}, whose soundtrack was compared "
                       f"on the frames' line composed through that copy")
        if chosen in confirmed:
            reason = (f"Duplicate: {frames}, and the soundtrack is the same recording on the same time line "
                      f"({_same_phrase(result, params.audio)}; sound at {_line(result)}, frames at "
                      f"{_line(chosen)}).")
            return made(VerdictClass.DUPLICATE, video_id, chosen, result, reason, True)
        if result is not None and result.same_recording:
            reason = (f"Not a duplicate: {frames}, and the soundtrack is the same recording "
                      f"({_same_phrase(result, params.audio)}) but on another time line (sound at {_line(result)}, "
                      f"frames at {_line(chosen)}; they must agree within decision.co_located_offset_seconds "
                      f"{params.decision.co_located_offset_seconds:g} s and decision.co_located_speed_share "
                      f"{params.decision.co_located_speed_share:g}): two separate findings, not one copy.")
            return made(VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO, video_id, chosen, result, reason, False)
        if result is not None and result.decisive:
            differ_level = params.audio.differ_min_false_alarm
            beyond = (f", > audio.differ_min_false_alarm {differ_level:g}" if result.false_alarm > differ_level
                      else "")  # else the landmarks' finding is the evidence
            reason = (f"Not a duplicate: {frames}, but the soundtracks differ (unrelated tracks align as well with "
                      f"probability {result.false_alarm:.1e} > audio.max_false_alarm {max_false_alarm:g}{beyond}; "
                      f"bit error rate {result.ber:.2f}{_landmarks_differ(result, params.audio)}): same scene, "
                      f"different recording.")
            return made(VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO, video_id, chosen, result, reason)
        if result is not None and getattr(result, "could_find", False):  # compared: between a copy and chance
            why = (f"the soundtracks agree better than unrelated tracks mostly do, yet not enough to be the same "
                   f"recording (probability {result.false_alarm:.1e}, between audio.max_false_alarm "
                   f"{max_false_alarm:g} and audio.differ_min_false_alarm {params.audio.differ_min_false_alarm:g}; "
                   f"bit error rate {result.ber:.2f}): inconclusive, so the sound could not confirm it")
        elif result is not None:  # compared, but over too little shared sound to tell either way
            why = (f"the soundtracks share too little sound to tell ({result.overlap_seconds:.1f} s: even identical "
                   f"sound would not reach audio.max_false_alarm {max_false_alarm:g}), so the sound could not "
                   f"confirm it")
        else:
            why = _no_audio_why(video_id, query_state, _state(reference_audio_states.get(video_id)),
                                query_audio_seconds, params)
        reason = f"Duplicate on frames alone: {frames}; {why}."
        return made(VerdictClass.DUPLICATE, video_id, chosen, result, reason)

    same_audio = sorted(((result.false_alarm, result.ber, video_id) for video_id, result in audio.items()
                         if result.same_recording))
    if same_audio:
        video_id = same_audio[0][-1]
        result = audio[video_id]
        weak = next((m for m in sorted(visual, key=rank_key) if m.video_id == video_id), None)
        if weak is not None:
            frames = (f"its frames do not match (best aligned segment: mean similarity {weak.score:.2f} over "
                      f"{weak.aligned_frames} frames; needs visual_match_score {params.align.visual_match_score:.2f} "
                      f"and visual_min_aligned_frames {params.align.visual_min_aligned_frames})")
        else:
            frames = (f"no frames align (visual_match_score {params.align.visual_match_score:.2f}, "
                      f"visual_min_aligned_frames {params.align.visual_min_aligned_frames})")
        reason = (f"Not a duplicate: the soundtrack is the same recording as {video_id}'s "
                  f"({_same_phrase(result, params.audio)}) but {frames}: different visuals on one track.")
        return made(VerdictClass.AUDIO_MATCH_DIFFERENT_VISUALS, video_id, weak, result, reason)

    frames = (f"no stored video has {params.align.visual_min_aligned_frames} or more aligned frames with mean "
              f"similarity >= visual_match_score {params.align.visual_match_score:.2f}")
    looks = [m for m in sorted(visual, key=rank_key) if frames_match(m, params.align, moment_shown=True)]
    if looks:  # lines that only the "same moment" checks refused: say so, with the best one's figures
        look = looks[0]
        motion = (f"; their changes correlate {look.motion:.2f}, as well as a line through unrelated changes "
                  f"with probability {look.false_alarm:.1e} > visual_max_false_alarm "
                  f"{params.align.visual_max_false_alarm:g}" if motion_decides(look, params.align)
                  and look.false_alarm > params.align.visual_max_false_alarm else "")
        frames += (f" on a line that stands for the same moment (the best, with {look.video_id}: mean similarity "
                   f"{look.score:.2f} over {look.aligned_frames} frames{motion}; the same look, not a copy)")
    reason = (f"Unique: {frames}, and no soundtrack is the same recording (audio.max_false_alarm "
              f"{max_false_alarm:g}).")
    return made(VerdictClass.UNIQUE, None, None, None, reason)
