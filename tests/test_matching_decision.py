"""decision.decide: every branch of the four-way verdict and the choice among candidates."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from schemas.events import AudioState, VerdictClass
from streams.config import Settings
from streams.audio.match import AudioMatch
from streams.matching.decision import AudioResult, Decision, VerdictKind, decide
from streams.values import Segment, VisualMatch

SETTINGS = Settings()


def visual(video_id: str, score: float = 0.85, frames: int = 40, start: float = 0.0) -> VisualMatch:
    return VisualMatch(video_id=video_id, score=score, query_segment=Segment(start, start + frames),
                       reference_segment=Segment(0.0, float(frames)), offset=-start, speed=1.0,
                       aligned_frames=frames, coverage=frames / 60, weighted_frames=float(frames))


def sound(same: bool, ber: float | None = None) -> AudioMatch:
    return AudioMatch(same_recording=same, ber=ber if ber is not None else (0.1 if same else 0.45),
                           offset=0.0, speed=1.0, query_segment=Segment(0, 30), reference_segment=Segment(0, 30))


def check(decision: Decision, verdict: str, duplicate: bool, video: str | None) -> None:
    assert (decision.verdict, decision.is_duplicate, decision.matched_video) == (verdict, duplicate, video), \
        decision.reason
    VerdictClass(decision.verdict)  # the stream's enum accepts it
    assert decision.reason.endswith(".") and "\n" not in decision.reason
    # the evidence is about the video that decided
    if decision.visual is not None:
        assert decision.visual.video_id == video


def test_frames_and_same_recording_is_a_duplicate():
    d = decide([visual("A")], {"A": sound(True)}, "ok", {"A": "ok"}, SETTINGS)
    check(d, "duplicate", True, "A")
    assert d.audio.same_recording and d.visual.video_id == "A"
    assert "audio_max_false_alarm 0.0001" in d.reason and "visual_match_score 0.60" in d.reason


def test_frames_match_but_the_soundtracks_differ():
    d = decide([visual("A")], {"A": sound(False)}, "ok", {"A": "ok"}, SETTINGS)
    check(d, "visual_match_different_audio", False, "A")
    assert d.audio.ber == 0.45 and "0.45: as likely by chance as audio_max_false_alarm" in d.reason


def test_same_recording_but_frames_differ():
    d = decide([], {"B": sound(True, 0.12)}, "ok", {"B": "ok"}, SETTINGS)
    check(d, "audio_match_different_visuals", False, "B")
    assert d.visual is None and d.audio.ber == 0.12


def test_same_recording_with_a_weak_visual_match_reports_it():
    weak = visual("B", score=0.55)  # below visual_match_score: not a frame match
    d = decide([weak], {"B": sound(True)}, "ok", {"B": "ok"}, SETTINGS)
    check(d, "audio_match_different_visuals", False, "B")
    assert d.visual == weak and "0.55" in d.reason


def test_same_recording_lowest_bit_error_rate_wins():
    d = decide([], {"B": sound(True, 0.2), "C": sound(True, 0.05), "D": sound(False)}, "ok", {}, SETTINGS)
    check(d, "audio_match_different_visuals", False, "C")


@pytest.mark.parametrize("query_state, reference_state, words", [
    ("no_audio", None, "the query has no audio"),
    ("too_little_audio", None, "the query has too little audio"),
    (AudioState.NO_AUDIO, None, "the query has no audio"),
    ("ok", "no_audio", "A has no audio"),
    ("ok", "too_little_audio", "A has too little audio"),
    ("ok", AudioState.TOO_LITTLE_AUDIO, "A has too little audio"),
    ("ok", None, "not compared"),
])
def test_frames_match_without_usable_audio_is_decided_on_frames(query_state, reference_state, words):
    states = {"A": reference_state} if reference_state is not None else {}
    d = decide([visual("A")], {}, query_state, states, SETTINGS)
    check(d, "duplicate", True, "A")
    assert d.audio is None and words in d.reason and "frames alone" in d.reason


def test_nothing_is_unique():
    d = decide([], {}, "ok", {}, SETTINGS)
    check(d, "unique", False, None)
    assert d.visual is None and d.audio is None


def test_different_soundtracks_without_frames_is_unique():
    check(decide([], {"A": sound(False)}, "ok", {"A": "ok"}, SETTINGS), "unique", False, None)


def test_matches_below_the_thresholds_are_not_frame_matches():
    too_few = visual("A", frames=2)
    too_weak = visual("B", score=0.59)
    check(decide([too_few, too_weak], {}, "no_audio", {}, SETTINGS), "unique", False, None)
    check(decide([too_few], {}, "no_audio", {}, Settings(visual_min_aligned_frames=2)), "duplicate", True, "A")


def test_tie_break_audio_confirmed_beats_a_better_visual_match():
    matches = [visual("A", score=0.95, frames=60), visual("B", score=0.7, frames=20)]
    d = decide(matches, {"A": sound(False), "B": sound(True)}, "ok", {"A": "ok", "B": "ok"}, SETTINGS)
    check(d, "duplicate", True, "B")


def test_tie_break_among_confirmed_the_stronger_visual_match():
    matches = [visual("A", score=0.75, frames=30), visual("B", score=0.9, frames=30)]
    d = decide(matches, {"A": sound(True), "B": sound(True)}, "ok", {}, SETTINGS)
    check(d, "duplicate", True, "B")


def test_tie_break_equal_evidence_higher_score():
    a = visual("A", score=0.75, frames=42)  # evidence 0.75 * 42 = 31.5
    b = visual("B", score=0.875, frames=40)._replace(weighted_frames=36.0)  # 0.875 * 36 = 31.5
    check(decide([a, b], {}, "no_audio", {}, SETTINGS), "duplicate", True, "B")


def test_tie_break_more_aligned_evidence_beats_a_slightly_higher_score():
    full = visual("A", score=0.8, frames=60)
    clip = visual("B", score=0.9, frames=6)
    check(decide([clip, full], {}, "no_audio", {}, SETTINGS), "duplicate", True, "A")


def test_without_confirmation_the_best_visual_match_decides():
    """The best match's soundtrack differs; a weaker one has no audio: not a duplicate."""
    matches = [visual("A", frames=60), visual("B", frames=10)]
    d = decide(matches, {"A": sound(False)}, "ok", {"A": "ok", "B": "no_audio"}, SETTINGS)
    check(d, "visual_match_different_audio", False, "A")
    # and the other way round: the best has no usable audio, a weaker one differs
    d = decide(matches, {"B": sound(False)}, "ok", {"A": "no_audio", "B": "ok"}, SETTINGS)
    check(d, "duplicate", True, "A")


def test_several_segments_of_one_video_count_once():
    segments = [visual("A", frames=10, start=0), visual("A", frames=30, start=20)]
    d = decide(segments, {"A": sound(True)}, "ok", {"A": "ok"}, SETTINGS)
    check(d, "duplicate", True, "A")
    assert d.visual.aligned_frames == 30


def test_visual_evidence_wins_over_audio_only_evidence():
    d = decide([visual("A")], {"A": sound(False), "B": sound(True)}, "ok", {}, SETTINGS)
    check(d, "visual_match_different_audio", False, "A")


def test_thresholds_are_reported():
    d = decide([], {}, "ok", {}, Settings(visual_match_score=0.7, audio_max_false_alarm=1e-3))
    assert d.thresholds["visual_match_score"] == 0.7 and d.thresholds["audio_max_false_alarm"] == 1e-3
    assert set(d.thresholds) >= {"frame_score_floor", "frame_neighbours", "visual_min_aligned_frames",
                                 "common_frame_videos"}
    assert all(isinstance(value, float) for value in d.thresholds.values())


def test_any_object_with_the_audio_fields_is_accepted():
    class AudioComparison(NamedTuple):  # not streams.audio.match's: the decision takes any such object
        same_recording: bool
        ber: float
        offset: float
        speed: float
        query_segment: Segment
        reference_segment: Segment

    result = AudioComparison(True, 0.08, 1.5, 1.0, Segment(0, 20), Segment(1.5, 21.5))
    assert isinstance(result, AudioResult)
    d = decide([visual("A")], {"A": result}, AudioState.OK, {"A": AudioState.OK}, SETTINGS)
    check(d, "duplicate", True, "A")
    assert d.audio is result


def test_verdict_values_match_the_schema():
    assert {v.value for v in VerdictKind} <= {v.value for v in VerdictClass}
