"""decision.decide: every branch of the four-way verdict and the choice among candidates."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from schemas.events import AudioState, VerdictClass
from streams.audio.match import AudioMatch
from streams.matching.decision import AudioResult, ClusterOf, Decision, decide, time_maps_agree
from streams.params import MatchParams
from streams.values import Segment, VisualMatch

# The scenarios below are written against these values, not against whatever calibration chose.
SETTINGS = MatchParams().updated("align", visual_match_score=0.6, visual_min_aligned_frames=3).updated(
    "audio", max_false_alarm=1e-4).updated("decision", co_located_offset_seconds=1.5)


def visual(video_id: str, score: float = 0.85, frames: int = 40, start: float = 0.0) -> VisualMatch:
    return VisualMatch(video_id=video_id, score=score, query_segment=Segment(start, start + frames),
                       reference_segment=Segment(0.0, float(frames)), offset=-start, speed=1.0,
                       aligned_frames=frames, coverage=frames / 60, weighted_frames=float(frames))


def sound(same: bool, ber: float | None = None, offset: float = 0.0, speed: float = 1.0,
          query: tuple[float, float] = (0, 30), decisive: bool = True) -> AudioMatch:
    """A soundtrack comparison; by default on the time line of visual()'s matches starting at 0."""
    return AudioMatch(same_recording=same, ber=ber if ber is not None else (0.1 if same else 0.45),
                      false_alarm=1e-9 if same else 0.3, decisive=decisive, overlap_seconds=query[1] - query[0],
                      offset=offset, speed=speed, query_segment=Segment(*query),
                      reference_segment=Segment(speed * query[0] + offset, speed * query[1] + offset))


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
    assert "1.0e-09 <= audio.max_false_alarm 0.0001" in d.reason and "visual_match_score 0.60" in d.reason


def test_frames_match_but_the_soundtracks_differ():
    d = decide([visual("A")], {"A": sound(False)}, "ok", {"A": "ok"}, SETTINGS)
    check(d, "visual_match_different_audio", False, "A")
    assert d.audio.ber == 0.45 and "3.0e-01 > audio.max_false_alarm 0.0001" in d.reason


def test_too_little_shared_sound_to_tell_is_decided_on_frames():
    """A comparison that could not have found the same recording (identical sound over so short an
    overlap would not pass the test) says nothing about the soundtracks: frames decide."""
    d = decide([visual("A")], {"A": sound(False, ber=0.0, query=(0, 1.5), decisive=False)}, "ok", {"A": "ok"},
               SETTINGS)
    check(d, "duplicate", True, "A")
    assert "share too little sound to tell (1.5 s" in d.reason and d.audio is not None


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
    check(decide([too_few], {}, "no_audio", {}, SETTINGS.updated("align", visual_min_aligned_frames=2)), "duplicate", True, "A")


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
    d = decide(segments, {"A": sound(True, offset=-20.0, query=(20, 50))}, "ok", {"A": "ok"}, SETTINGS)
    check(d, "duplicate", True, "A")
    assert d.visual.aligned_frames == 30


def test_visual_evidence_wins_over_audio_only_evidence():
    d = decide([visual("A")], {"A": sound(False), "B": sound(True)}, "ok", {}, SETTINGS)
    check(d, "visual_match_different_audio", False, "A")


def test_the_parameters_that_decided_are_reported_with_their_digest():
    params = SETTINGS.updated("align", visual_match_score=0.7).updated("audio", max_false_alarm=1e-3)
    d = decide([], {}, "ok", {}, params)
    assert d.thresholds["align.visual_match_score"] == 0.7 and d.thresholds["audio.max_false_alarm"] == 1e-3
    assert set(d.thresholds) >= {"search.frame_score_floor", "search.frame_neighbours",
                                 "align.visual_min_aligned_frames", "align.common_frame_videos",
                                 "align.speed_min", "align.outer_false_alarm_share",
                                 "decision.co_located_offset_seconds", "decision.co_located_speed_share"}
    assert all(isinstance(value, float) for value in d.thresholds.values())
    assert d.params_digest == params.digest() != SETTINGS.digest()


# Issue 12, point 2: sound and frames must agree on one time line.
@pytest.mark.parametrize("frames, heard, agree", [
    ((0.0, 1.0, (0, 30)), (0.3, 1.0, (0, 30)), True),  # A/V desync of 300 ms
    ((8.0, 1.0, (0, 20)), (8.1, 1.0, (0, 20)), True),  # a trimmed copy: both lines shift together
    ((2.0, 1.05, (0, 20)), (2.2, 1.04, (0, 20)), True),  # sped up by resampling: both speeds near 1.05
    ((0.0, 1.0, (3, 20)), (0.0, 1.0, (0, 20)), True),  # an added intro the frames do not match
    ((0.0, 1.0, (0, 30)), (0.0, 1.0, (0, 5)), True),  # sound only in the first seconds
    ((12.4, 0.75, (0, 20)), (4.0, 1.0, (0, 20)), False),  # the case: two coincidences
    ((0.0, 1.0, (0, 20)), (3.0, 1.0, (0, 20)), False),  # same speed, 3 s apart: a loop or a repeat
    ((0.0, 1.0, (20, 40)), (0.0, 1.0, (0, 5)), False),  # the sound matches where the frames do not
    ((0.0, 0.8, (0, 6)), (0.0, 1.0, (0, 6)), False),  # speeds 20 % apart
])
def test_time_maps_agree(frames, heard, agree):
    offset, speed, (start, end) = frames
    match = VisualMatch("A", 0.9, Segment(start, end), Segment(speed * start + offset, speed * end + offset), offset,
                        speed, int(end - start))
    assert time_maps_agree(match, sound(True, offset=heard[0], speed=heard[1], query=heard[2]),
                           SETTINGS.decision) == agree


def test_same_sound_on_another_time_line_is_two_findings_not_a_duplicate():
    frames = visual("A")._replace(offset=12.4, speed=0.75)
    d = decide([frames], {"A": sound(True, 0.2, offset=4.0)}, "ok", {"A": "ok"}, SETTINGS)
    check(d, "visual_match_different_audio", False, "A")
    assert d.sound_agrees is False and d.audio.offset == 4.0
    assert "another time line" in d.reason and "offset +4.0 s, speed 1.00" in d.reason
    assert "offset +12.4 s, speed 0.75" in d.reason


def test_a_candidate_whose_sound_agrees_on_the_time_line_wins():
    shifted = sound(True, 0.1, offset=6.0)  # A's sound is the same recording, elsewhere
    d = decide([visual("A", frames=60), visual("B", frames=30)], {"A": shifted, "B": sound(True, 0.15)}, "ok",
               {"A": "ok", "B": "ok"}, SETTINGS)
    check(d, "duplicate", True, "B")
    assert d.sound_agrees is True


# Issue 12, point 7: candidate choice.
def test_among_equal_candidates_the_earliest_cluster_root_is_named():
    """A hard negative H (R's pictures, other sound) matches as well as R: without sound to tell,
    the original R is named, not H."""
    matches = [visual("H", score=0.86), visual("R", score=0.85)]
    clusters = {"H": ClusterOf("H", 7), "R": ClusterOf("R", 2)}
    d = decide(matches, {}, "too_little_audio", {}, SETTINGS, clusters=clusters)
    check(d, "duplicate", True, "R")
    d = decide(matches, {"H": sound(False), "R": sound(True)}, "ok", {}, SETTINGS, clusters=clusters)
    check(d, "duplicate", True, "R")


def test_a_copy_found_both_directly_and_through_its_copy_names_the_root():
    matches = [visual("C", score=0.9), visual("R", score=0.86)]  # C: an indexed copy of R
    clusters = {"C": ClusterOf("R", 1), "R": ClusterOf("R", 1)}
    d = decide(matches, {"C": sound(True), "R": sound(True)}, "ok", {}, SETTINGS, clusters=clusters)
    check(d, "duplicate", True, "R")


def test_a_much_better_match_is_not_given_up_for_an_older_root():
    matches = [visual("N", frames=60), visual("R", frames=10)]
    clusters = {"N": ClusterOf("N", 9), "R": ClusterOf("R", 1)}
    check(decide(matches, {}, "no_audio", {}, SETTINGS, clusters=clusters), "duplicate", True, "N")


# Issue 12, point 5: too little sound is said, with how much there was.
def test_too_little_sound_says_how_much_there_was():
    d = decide([visual("A")], {}, "too_little_audio", {}, SETTINGS, query_audio_seconds=2.4)
    check(d, "duplicate", True, "A")
    assert "2.4 s of sound, under audio.min_audio_seconds 3 s" in d.reason
    assert "could not confirm" in d.reason


def test_any_object_with_the_audio_fields_is_accepted():
    class AudioComparison(NamedTuple):  # not streams.audio.match's: the decision takes any such object
        same_recording: bool
        ber: float
        false_alarm: float
        decisive: bool
        overlap_seconds: float
        offset: float
        speed: float
        query_segment: Segment
        reference_segment: Segment

    result = AudioComparison(True, 0.08, 1e-7, True, 20.0, 1.5, 1.0, Segment(0, 20), Segment(1.5, 21.5))
    assert isinstance(result, AudioResult)
    d = decide([visual("A")], {"A": result}, AudioState.OK, {"A": AudioState.OK}, SETTINGS)
    check(d, "duplicate", True, "A")
    assert d.audio is result


def test_the_decision_is_the_schemas_verdict_class():
    assert isinstance(decide([], {}, AudioState.OK, {}, SETTINGS).verdict, VerdictClass)


def test_near_static_frames_that_fit_the_sound_s_line_too_are_one_copy():
    """A photo panned slowly: every query frame resembles the reference's frames for seconds
    around, so the frames' own line lands 3.9 s off the sound's; on the sound's line they match."""
    from streams.matching.decision import frames_on_line
    from streams.values import FrameHit

    hits = [FrameHit(float(q), "A", float(r), 0.8 - 0.01 * abs(r - q - 3)) for q in range(20) for r in range(30)
            if abs(r - q - 3) <= 5]
    frames = visual("A", score=0.8, frames=20)._replace(offset=3.9)
    heard = sound(True, 0.05, offset=0.0, query=(0, 20))
    assert not time_maps_agree(frames, heard, SETTINGS.decision)
    moved = frames_on_line(frames, hits, heard, 20.0, SETTINGS)
    assert moved is not None and (moved.offset, moved.speed, moved.aligned_frames) == (0.0, 1.0, 20)
    assert time_maps_agree(moved, heard, SETTINGS.decision)
    check(decide([moved], {"A": heard}, "ok", {}, SETTINGS), "duplicate", True, "A")


def test_distinctive_frames_off_the_sound_s_line_stay_two_findings():
    from streams.matching.decision import frames_on_line
    from streams.values import FrameHit

    hits = [FrameHit(float(q), "A", float(q), 0.9) for q in range(20)]  # moving footage: one line only
    frames = visual("A", score=0.9, frames=20)._replace(offset=0.0)
    assert frames_on_line(frames, hits, sound(True, 0.05, offset=6.0, query=(0, 20)), 20.0, SETTINGS) is None
    # and hits of another view or another video do not count
    other = [hit._replace(mirrored=True, ref_time=hit.ref_time + 6) for hit in hits]
    assert frames_on_line(frames, other, sound(True, 0.05, offset=6.0, query=(0, 20)), 20.0, SETTINGS) is None


def test_the_same_sound_on_the_line_waives_the_same_moment_checks_and_nothing_else_does():
    """A still card's copy: its frames fit the line but have no motion to correlate (false alarm
    0.3); with the same recording of sound on that very line it is a duplicate, without it the
    line is only a look (another moment of one fixed camera looks the same)."""
    still = visual("A")._replace(motion=0.1, false_alarm=0.3, distinctiveness=-0.05)
    d = decide([still], {"A": sound(True)}, "ok", {"A": "ok"}, SETTINGS)
    check(d, "duplicate", True, "A")
    assert "waived: the sound on this line shows the same moment" in d.reason
    check(decide([still], {}, "no_audio", {"A": "no_audio"}, SETTINGS), "unique", False, None)
    check(decide([still], {"A": sound(False)}, "ok", {"A": "ok"}, SETTINGS), "unique", False, None)
    # the same sound on another time line shows nothing of this line's moment
    elsewhere = decide([still], {"A": sound(True, offset=8.0)}, "ok", {"A": "ok"}, SETTINGS)
    assert elsewhere.verdict == "audio_match_different_visuals", elsewhere.reason


def test_a_look_refused_by_the_motion_check_is_unique_and_says_why():
    look = visual("A", score=0.8)._replace(motion=0.05, false_alarm=0.4)
    d = decide([look], {}, "no_audio", {"A": "no_audio"}, SETTINGS)
    check(d, "unique", False, None)
    assert "the best, with A: mean similarity 0.80 over 40 frames" in d.reason
    assert "probability 4.0e-01 > visual_max_false_alarm" in d.reason and "the same look, not a copy" in d.reason


def test_frames_moved_onto_the_sound_s_line_drop_what_their_own_line_measured():
    """A crop of a panned photograph: the crop's view of the photograph was on screen seconds
    later, so its frames' own line is off the sound's and undistinctive there (the same look all
    around). On the sound's line -- the same recording -- they still match, and that line's moment
    is the sound's to show: the other line's distinctiveness and motion are not its measures."""
    from streams.matching.decision import frames_on_line
    from streams.values import FrameHit

    hits = [FrameHit(float(q), "A", float(q), 0.8) for q in range(20)]
    frames = visual("A", score=0.8, frames=20)._replace(offset=7.0, distinctiveness=0.02, motion=0.1,
                                                        false_alarm=0.5, best_false_alarm=1e-9)
    heard = sound(True, 0.05, offset=0.0, query=(0, 20))
    moved = frames_on_line(frames, hits, heard, 20.0, SETTINGS)
    assert moved is not None and (moved.offset, moved.aligned_frames) == (0.0, 20)
    assert (moved.distinctiveness, moved.motion, moved.false_alarm, moved.best_false_alarm) == (None,) * 4
    check(decide([moved], {"A": heard}, "ok", {}, SETTINGS), "duplicate", True, "A")
