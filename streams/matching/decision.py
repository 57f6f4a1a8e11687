"""The four-way decision, from the visual matches and the soundtrack comparisons. Pure.

Policy, per candidate video (a stored video whose frames align, see alignment.align):

- frames match and the soundtracks are the same recording            -> duplicate
- frames match, either side has no usable audio (or audio not compared) -> duplicate, on frames
- frames match, both sides have usable audio, the recordings differ     -> visual_match_different_audio
                                                                           (same person and set, another talk)
- the soundtrack is the same recording but no frames match             -> audio_match_different_visuals
                                                                           (people dancing to one track)
- nothing                                                              -> unique

"Frames match": VisualMatch.score >= visual_match_score and aligned_frames >=
visual_min_aligned_frames (align only returns such matches; they are checked again here so that
the decision stands on its own). "Same recording": the audio result's same_recording (decided by
the audio matcher with audio_max_false_alarm).

Choice among candidates (matched_video): the frame-matching candidates whose soundtrack is the
same recording come first, then the others in alignment.rank_key order (aligned evidence, then
score). The chosen candidate's audio category gives the verdict: a better visual match whose
soundtrack differs is not overridden by a weaker one without usable audio, and vice versa.
Without any frame match, a same-recording soundtrack (best = lowest bit error rate) gives
audio_match_different_visuals; otherwise the video is unique.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, runtime_checkable

from streams.matching.alignment import COMMON_FRAME_VIDEOS, rank_key
from streams.values import Segment, VisualMatch


class VerdictKind(StrEnum):
    DUPLICATE = "duplicate"
    UNIQUE = "unique"
    VISUAL_MATCH_DIFFERENT_AUDIO = "visual_match_different_audio"
    AUDIO_MATCH_DIFFERENT_VISUALS = "audio_match_different_visuals"


AUDIO_OK = "ok"
AUDIO_NONE = "no_audio"
AUDIO_TOO_LITTLE = "too_little_audio"


@runtime_checkable
class AudioResult(Protocol):
    """What a soundtrack comparison says (streams.audio.match.AudioMatch satisfies it)."""

    @property
    def same_recording(self) -> bool: ...
    @property
    def ber(self) -> float: ...  # bit error rate of the aligned fingerprints, 0..1
    @property
    def offset(self) -> float: ...  # reference_time = speed * query_time + offset
    @property
    def speed(self) -> float: ...
    @property
    def query_segment(self) -> Segment: ...
    @property
    def reference_segment(self) -> Segment: ...


class Decision(NamedTuple):
    verdict: VerdictKind
    is_duplicate: bool
    matched_video: str | None  # the stored video that decided; None when unique
    visual: VisualMatch | None  # the frame evidence for matched_video
    audio: AudioResult | None  # the soundtrack evidence for matched_video (None: not compared)
    reason: str  # one sentence: which threshold decided
    thresholds: dict[str, float]


def _state(value: Any) -> str:
    """An audio state as its string ('ok', 'no_audio', ...); None is unknown ('')."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def thresholds_of(settings: Any) -> dict[str, float]:
    return {
        "frame_score_floor": float(settings.frame_score_floor),
        "frame_neighbours": float(settings.frame_neighbours),
        "visual_match_score": float(settings.visual_match_score),
        "visual_min_aligned_frames": float(settings.visual_min_aligned_frames),
        "common_frame_videos": float(getattr(settings, "common_frame_videos", COMMON_FRAME_VIDEOS)),
        "audio_max_false_alarm": float(settings.audio_max_false_alarm),
    }


_STATE_WORDS = {AUDIO_NONE: "has no audio", AUDIO_TOO_LITTLE: "has too little audio", "failed": "has unreadable audio"}


def _frames_phrase(match: VisualMatch, settings: Any) -> str:
    q = match.query_segment
    view = (", mirrored" if match.mirrored else "") + (", cropped to their active region" if match.region else "")
    speed = f", speed {match.speed:.2f}" if abs(match.speed - 1.0) >= 0.02 else ""
    return (f"frames {q.start:.0f}-{q.end:.0f} s align with {match.video_id} over {match.aligned_frames} frames"
            f"{view}{speed} (mean similarity {match.score:.2f} >= visual_match_score "
            f"{settings.visual_match_score:.2f}, {match.aligned_frames} >= visual_min_aligned_frames "
            f"{settings.visual_min_aligned_frames})")


def _frames_match(match: VisualMatch, settings: Any) -> bool:
    return match.score >= settings.visual_match_score and match.aligned_frames >= settings.visual_min_aligned_frames


def decide(
    visual: list[VisualMatch],
    audio: Mapping[str, AudioResult],
    query_audio_state: Any,
    reference_audio_states: Mapping[str, Any] | None,
    settings: Any,
) -> Decision:
    """The verdict for a query video.

    visual: alignment.align's matches. audio: soundtrack comparisons by stored video id (only for
    candidates where both sides had usable audio). query_audio_state: 'ok' / 'no_audio' /
    'too_little_audio' (or the AudioState enum). reference_audio_states: each candidate's state
    from the index payload; a missing candidate with an audio result counts as 'ok'."""
    thresholds = thresholds_of(settings)
    max_false_alarm = settings.audio_max_false_alarm
    audio = audio or {}
    reference_audio_states = reference_audio_states or {}
    query_state = _state(query_audio_state)

    matches = sorted((m for m in visual if _frames_match(m, settings)), key=rank_key)
    best_per_video: dict[str, VisualMatch] = {}
    for match in matches:
        best_per_video.setdefault(match.video_id, match)
    candidates = list(best_per_video.values())

    confirmed = [m for m in candidates if m.video_id in audio and audio[m.video_id].same_recording]
    chosen = confirmed[0] if confirmed else (candidates[0] if candidates else None)

    if chosen is not None:
        video_id = chosen.video_id
        frames = _frames_phrase(chosen, settings)
        result = audio.get(video_id)
        if result is not None and result.same_recording:
            reason = (f"Duplicate: {frames}, and the soundtracks are the same recording (bit error rate "
                      f"{result.ber:.2f}; chance alignment at most audio_max_false_alarm {max_false_alarm:g}).")
            return Decision(VerdictKind.DUPLICATE, True, video_id, chosen, result, reason, thresholds)
        if result is not None:
            reason = (f"Not a duplicate: {frames}, but the soundtracks differ (bit error rate {result.ber:.2f}: "
                      f"as likely by chance as audio_max_false_alarm {max_false_alarm:g} or more): same scene, "
                      "different recording.")
            return Decision(VerdictKind.VISUAL_MATCH_DIFFERENT_AUDIO, False, video_id, chosen, result, reason,
                            thresholds)
        reference_state = _state(reference_audio_states.get(video_id))
        if query_state != AUDIO_OK:
            why = f"the query {_STATE_WORDS.get(query_state, 'has no usable audio')}"
        elif reference_state and reference_state != AUDIO_OK:
            why = f"{video_id} {_STATE_WORDS.get(reference_state, 'has no usable audio')}"
        else:
            why = "the soundtracks were not compared"
        reason = f"Duplicate on frames alone: {frames}; {why}."
        return Decision(VerdictKind.DUPLICATE, True, video_id, chosen, None, reason, thresholds)

    same_audio = sorted(((result.ber, video_id) for video_id, result in audio.items() if result.same_recording))
    if same_audio:
        ber, video_id = same_audio[0]
        result = audio[video_id]
        weak = next((m for m in sorted(visual, key=rank_key) if m.video_id == video_id), None)
        if weak is not None:
            frames = (f"its frames do not match (best aligned segment: mean similarity {weak.score:.2f} over "
                      f"{weak.aligned_frames} frames; needs visual_match_score {settings.visual_match_score:.2f} "
                      f"and visual_min_aligned_frames {settings.visual_min_aligned_frames})")
        else:
            frames = (f"no frames align (visual_match_score {settings.visual_match_score:.2f}, "
                      f"visual_min_aligned_frames {settings.visual_min_aligned_frames})")
        reason = (f"Not a duplicate: the soundtrack is the same recording as {video_id}'s (bit error rate "
                  f"{ber:.2f}; chance alignment at most audio_max_false_alarm {max_false_alarm:g}) but {frames}: "
                  "different visuals on one track.")
        return Decision(VerdictKind.AUDIO_MATCH_DIFFERENT_VISUALS, False, video_id, weak, result, reason,
                        thresholds)

    reason = (f"Unique: no stored video has {settings.visual_min_aligned_frames} or more aligned frames with mean "
              f"similarity >= visual_match_score {settings.visual_match_score:.2f}, and no soundtrack is the same "
              f"recording (audio_max_false_alarm {max_false_alarm:g}).")
    return Decision(VerdictKind.UNIQUE, False, None, None, None, reason, thresholds)
