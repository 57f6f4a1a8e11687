"""alignment.align on constructed frame hits: what the index would return for each query frame."""

from __future__ import annotations

import random

import pytest

from streams.matching.alignment import align, frame_weights
from streams.params import AlignParams
from streams.values import FrameHit, VisualMatch

# The cases below are written against these values, not against whatever calibration chose.
PARAMS = AlignParams(visual_match_score=0.6, visual_min_aligned_frames=3)


def copy_hits(video: str, query_times, *, speed: float = 1.0, offset: float = 0.0, score: float = 0.85,
              ref_step: float = 1.0, mirrored: bool = False, seed: int = 0) -> list[FrameHit]:
    """A copy: each query frame hits the reference frame sampled nearest to speed*q + offset, and
    the next one, a bit less similar (as SSCD does on neighbouring frames)."""
    rng = random.Random(seed)
    hits = []
    for q in query_times:
        true = speed * q + offset
        nearest = round(true / ref_step) * ref_step
        miss = abs(nearest - true) / ref_step
        hits.append(FrameHit(float(q), video, float(nearest), score - 0.1 * miss + rng.uniform(-0.04, 0.04), mirrored))
        hits.append(FrameHit(float(q), video, float(nearest + ref_step), score - 0.2, mirrored))
    return hits


def noise_hits(query_times, *, videos: int = 50, per_frame: int = 3, seed: int = 1) -> list[FrameHit]:
    """Unrelated frames that still pass frame_score_floor: random videos, times and scores."""
    rng = random.Random(seed)
    return [FrameHit(float(q), f"noise-{rng.randrange(videos)}", rng.uniform(0, 900), rng.uniform(0.5, 0.6))
            for q in query_times for _ in range(per_frame)]


def only(matches: list[VisualMatch]) -> VisualMatch:
    assert len(matches) == 1, matches
    return matches[0]


def assert_segment(segment, start: float, end: float, tol: float = 1.01) -> None:
    assert segment.start == pytest.approx(start, abs=tol) and segment.end == pytest.approx(end, abs=tol), segment


def test_exact_copy():
    match = only(align(copy_hits("A", range(60)) + noise_hits(range(60)), query_duration=60.0, params=PARAMS))
    assert match.video_id == "A" and not match.mirrored
    assert match.speed == pytest.approx(1.0, abs=0.01) and match.offset == pytest.approx(0.0, abs=0.5)
    assert match.aligned_frames == 60 and match.coverage == pytest.approx(1.0)
    assert match.score == pytest.approx(0.85, abs=0.02)
    assert_segment(match.query_segment, 0, 60)
    assert_segment(match.reference_segment, 0, 60)


def test_trimmed_copy_has_a_constant_offset():
    match = only(align(copy_hits("A", range(40), offset=20.0), query_duration=40.0, params=PARAMS))
    assert match.offset == pytest.approx(20.0, abs=0.5) and match.speed == pytest.approx(1.0, abs=0.01)
    assert_segment(match.query_segment, 0, 40)
    assert_segment(match.reference_segment, 20, 60)


@pytest.mark.parametrize("speed", [0.8, 1.25, 0.76, 1.32])
def test_speed_changes(speed):
    hits = copy_hits("A", range(60), speed=speed, offset=5.0) + noise_hits(range(60))
    match = only(align(hits, query_duration=60.0, params=PARAMS))
    assert match.speed == pytest.approx(speed, abs=0.02)
    assert match.offset == pytest.approx(5.0, abs=1.0)
    assert match.aligned_frames >= 55
    assert_segment(match.reference_segment, 5, 5 + speed * 60, tol=1.5)


def test_jittered_sampling_and_a_coarser_reference():
    """Frame times off the 1 s grid (keyframe decoding), reference sampled every 3 s (a long video)."""
    rng = random.Random(5)
    query_times = [t + rng.uniform(0, 0.3) for t in range(90)]
    match = only(align(copy_hits("A", query_times, offset=1000.4, ref_step=3.0), query_duration=90.0,
                       params=PARAMS))
    assert match.offset == pytest.approx(1000.4, abs=1.5) and match.speed == pytest.approx(1.0, abs=0.02)
    assert match.coverage > 0.95


def test_clip_cut_from_a_longer_video():
    match = only(align(copy_hits("A", range(30), offset=300.0) + noise_hits(range(30)), query_duration=30.0,
                       params=PARAMS))
    assert_segment(match.query_segment, 0, 30)
    assert_segment(match.reference_segment, 300, 330)
    assert match.coverage == pytest.approx(1.0)


def test_intro_and_outro_added():
    hits = copy_hits("A", range(12, 50), offset=-12.0) + noise_hits(range(62))
    match = only(align(hits, query_duration=62.0, params=PARAMS))
    assert_segment(match.query_segment, 12, 50)
    assert_segment(match.reference_segment, 0, 38)
    assert match.coverage == pytest.approx(38 / 62, abs=0.02)


def test_compilation_of_two_sources():
    hits = (copy_hits("A", range(0, 25), offset=100.0) + copy_hits("B", range(25, 60), offset=-25.0, seed=2)
            + noise_hits(range(60)))
    matches = align(hits, query_duration=60.0, params=PARAMS)
    assert [m.video_id for m in matches] == ["B", "A"]  # B: longer aligned segment, more evidence
    b, a = matches
    assert_segment(a.query_segment, 0, 25)
    assert_segment(a.reference_segment, 100, 125)
    assert_segment(b.query_segment, 25, 60)
    assert_segment(b.reference_segment, 0, 35)


def test_one_source_used_twice_gives_two_segments():
    """A compilation taking two separate excerpts of the same video, with other material between."""
    hits = (copy_hits("A", range(0, 20), offset=50.0) + copy_hits("A", range(40, 60), offset=160.0, seed=3)
            + noise_hits(range(60)))
    matches = sorted(align(hits, query_duration=60.0, params=PARAMS), key=lambda m: m.query_segment.start)
    assert [m.video_id for m in matches] == ["A", "A"]
    assert_segment(matches[0].reference_segment, 50, 70)
    assert_segment(matches[1].reference_segment, 200, 220)


def test_random_noise_matches_nothing():
    assert align(noise_hits(range(300), per_frame=10, videos=30), query_duration=300.0, params=PARAMS) == []


def test_a_few_scattered_good_frames_are_not_a_match():
    """High-scoring hits that do not lie on one time line: a bag of frames, not a copy."""
    rng = random.Random(4)
    hits = [FrameHit(float(q), "A", rng.uniform(0, 600), 0.9) for q in range(0, 60, 6)]
    assert align(hits, query_duration=60.0, params=PARAMS) == []


def title_card_hits(query_times, videos) -> list[FrameHit]:
    """A static title card: each of its query frames hits the title frames (0-4 s) of many videos."""
    return [FrameHit(float(q), video, float(r), 0.93) for q in query_times for video in videos[:10]
            for r in range(5)][: 10 * len(query_times) * 5]


def test_common_title_card_alone_is_not_a_match():
    videos = [f"channel-{i}" for i in range(12)]
    hits = title_card_hits(range(5), videos) + noise_hits(range(5, 120))
    assert align(hits, query_duration=120.0, params=PARAMS) == []


def test_common_title_card_does_not_hide_the_real_copy():
    videos = [f"channel-{i}" for i in range(12)]
    hits = title_card_hits(range(5), videos) + copy_hits("channel-3", range(5, 120), offset=0.0)
    match = only(align(hits, query_duration=120.0, params=PARAMS))
    assert match.video_id == "channel-3" and match.aligned_frames >= 110


def test_a_popular_video_stored_many_times_matches_every_copy():
    """Every query frame hits 6 videos: that is this query's typical k, not a common frame."""
    hits = [hit for i in range(6) for hit in copy_hits(f"copy-{i}", range(40), seed=i)]
    matches = align(hits, query_duration=40.0, params=PARAMS)
    assert sorted(m.video_id for m in matches) == [f"copy-{i}" for i in range(6)]
    assert all(m.weighted_frames == pytest.approx(40) for m in matches)


def test_frame_weights_rule():
    hits = [FrameHit(0.0, f"v{i}", 0.0, 0.9) for i in range(10)] + [FrameHit(1.0, "v0", 1.0, 0.9)]
    weights = frame_weights(hits, n_query_frames=20, common_videos=3)
    assert weights == {0.0: pytest.approx(0.3), 1.0: 1.0}


def test_static_scene_picks_one_reference_frame_per_query_frame():
    """A near-static shot: every query frame hits five reference frames around the right one."""
    hits = [FrameHit(float(q), "A", float(r), 0.9 if r == q + 7 else 0.86)
            for q in range(30) for r in range(q + 5, q + 10)]
    match = only(align(hits, query_duration=30.0, params=PARAMS))
    assert match.aligned_frames == 30
    assert match.offset == pytest.approx(7.0, abs=1.5)
    assert match.score == pytest.approx(0.9, abs=0.02)


def test_mirrored_copy():
    """The flipped query matches well; the plain one only weakly echoes it: one mirrored match."""
    hits = (copy_hits("A", range(50), offset=10.0, mirrored=True)
            + copy_hits("A", range(50), offset=10.0, score=0.66, seed=7) + noise_hits(range(50)))
    match = only(align(hits, query_duration=50.0, params=PARAMS))
    assert match.mirrored and match.video_id == "A"
    assert match.score == pytest.approx(0.85, abs=0.02)
    assert_segment(match.reference_segment, 10, 60)


def test_picture_in_picture_copy_matches_through_its_region():
    """The whole frames of an inset copy hit nothing; its region's frames align: one region match,
    and a plain echo of the same segment is dropped as the weaker."""
    region = [hit._replace(region=True) for hit in copy_hits("A", range(30), offset=5.0)]
    hits = region + copy_hits("A", range(30), offset=5.0, score=0.62, seed=3) + noise_hits(range(30))
    match = only(align(hits, query_duration=30.0, params=PARAMS))
    assert match.region and not match.mirrored and match.video_id == "A"
    assert_segment(match.reference_segment, 5, 35)


def test_full_copy_ranks_above_a_short_clip_that_scores_higher():
    hits = copy_hits("full", range(60), score=0.8) + copy_hits("clip", range(20, 26), offset=500.0, score=0.95)
    assert [m.video_id for m in align(hits, query_duration=60.0, params=PARAMS)] == ["full", "clip"]


def test_thresholds_decide():
    short = copy_hits("A", range(2))  # fewer aligned frames than visual_min_aligned_frames (3)
    weak = copy_hits("B", range(20), score=0.58)  # mean similarity below visual_match_score (0.6)
    assert align(short + weak, query_duration=20.0, params=PARAMS) == []
    looser = AlignParams(visual_match_score=0.5, visual_min_aligned_frames=2)
    assert sorted(m.video_id for m in align(short + weak, query_duration=20.0, params=looser)) == ["A", "B"]


def test_no_hits():
    assert align([], query_duration=10.0, params=PARAMS) == []


def test_long_query_stays_fast():
    import time

    hits = copy_hits("A", range(1200), speed=1.1, offset=3.0) + noise_hits(range(1200), videos=300, per_frame=9)
    started = time.perf_counter()
    match = only(align(hits, query_duration=1200.0, params=PARAMS))
    assert time.perf_counter() - started < 5.0
    assert match.aligned_frames >= 1150 and match.speed == pytest.approx(1.1, abs=0.01)


def test_static_talk_where_the_index_often_misses_the_right_frame():
    """A static shot: each query frame hits nine random frames of the same talk, all similar, and
    the right one only a third of the time. One match, on the right line; no chance segments."""
    rng = random.Random(3)
    hits = []
    for q in range(120):
        refs = set(rng.sample(range(600), 9))
        if rng.random() < 0.3:
            refs.add(q + 200)
        hits += [FrameHit(float(q), "talk", float(r), 0.93 if r == q + 200 else rng.uniform(0.86, 0.91))
                 for r in refs]
    match = only(align(hits, query_duration=120.0, params=PARAMS))
    assert match.offset == pytest.approx(200.0, abs=1.0) and match.speed == pytest.approx(1.0, abs=0.01)
    assert match.query_segment.end - match.query_segment.start > 100


def test_symmetric_shot_prefers_the_plain_orientation_on_a_tie():
    plain = [FrameHit(float(q), "A", float(q), 0.9) for q in range(20)]
    flipped = [hit._replace(mirrored=True) for hit in plain]
    match = only(align(flipped + plain, query_duration=20.0, params=PARAMS))
    assert not match.mirrored


def test_the_lines_of_some_videos_are_those_of_the_whole_alignment():
    # Frames common to several videos weigh less, whichever videos are aligned: the lines of the
    # videos asked for are the whole alignment's (judge aligns only the unlined ones for review).
    hits = (copy_hits("A", range(30)) + copy_hits("B", range(10, 40), offset=5.0, score=0.7)
            + copy_hits("C", range(0, 40, 2), speed=1.1, seed=3) + noise_hits(range(40)))
    whole = align(hits, query_duration=40.0, params=PARAMS)
    for videos in ({"A"}, {"B", "C"}, set()):
        assert align(hits, query_duration=40.0, params=PARAMS, videos=videos) == [
            match for match in whole if match.video_id in videos]
