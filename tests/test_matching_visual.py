"""streams.matching.visual and alignment.frames_match: a visual match must be a line through the
reference's time, not one look that fits any line. Constructed descriptors in a real (Qdrant
Edge) index; the real-media cases are in test_matching_visual_media.py."""

from __future__ import annotations

import numpy as np
import pytest

from schemas.internal import FrameHalf, encode_array
from streams.index import StoredVideo
from streams.index.edge import EdgeIndex
from streams.matching.alignment import align, at_speed_edge, frames_match, speed_grid
from streams.matching.visual import distinctive_matches, query_views, search_views
from streams.params import AlignParams, MatchParams
from streams.values import FrameHit, Segment, VisualMatch

# The cases below are written against these values, not against whatever calibration chose.
PARAMS = MatchParams().updated("align", visual_match_score=0.6, visual_min_aligned_frames=3)
DIM = 64



def visual_matches(frames: FrameHalf, index, params: MatchParams, exclude_video_id: str | None = None):
    """What the pipeline does with a video's frames: search every view (streams.pipeline.search),
    then align and keep the distinctive lines against the index's stored frames (align_hits)."""
    views = query_views(frames)
    hits = search_views(views, index, params.search, exclude_video_id)
    return distinctive_matches(hits, views, index.get_frames, frames.duration, params.align)

def unit(rows) -> np.ndarray:
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def moving(count: int, seed: int) -> np.ndarray:
    """Footage that changes: each second its own picture, drifting from the last."""
    rng = np.random.default_rng(seed)
    return unit(np.cumsum(rng.normal(size=(count, DIM)), axis=0) + 3 * rng.normal(size=(count, DIM)))


def static(count: int, seed: int, base: np.ndarray, spread: float = 0.35) -> np.ndarray:
    """One look (a fixed camera, a screen): every frame is the base picture, a little changed."""
    return unit(base + spread * np.random.default_rng(seed).normal(size=(count, DIM)) / np.sqrt(DIM))


def copied(frames: np.ndarray, seed: int, noise: float = 0.25) -> np.ndarray:
    """A re-encoded copy: the same frames, a bit changed."""
    return unit(frames + noise * np.random.default_rng(seed).normal(size=frames.shape) / np.sqrt(DIM))


def half(embeddings: np.ndarray, times=None) -> FrameHalf:
    times = np.arange(len(embeddings), dtype=np.float32) if times is None else times
    return FrameHalf(timestamps=[float(t) for t in times], embeddings=encode_array(embeddings, "float16"),
                     dim=DIM, duration=float(len(embeddings)))


@pytest.fixture()
def index(tmp_path):
    opened = EdgeIndex(tmp_path, "t", DIM)
    yield opened
    opened.close()


def store(index, video_id: str, embeddings: np.ndarray) -> None:
    record = StoredVideo(video_id, video_id, index.video_count() + 1, None, float(len(embeddings)), "no_audio", "",
                         0.0, "{}")
    index.add_video(record, np.arange(len(embeddings), dtype=np.float32), embeddings)


def match(**fields) -> VisualMatch:
    defaults = dict(video_id="A", score=0.9, query_segment=Segment(0, 20), reference_segment=Segment(0, 20),
                    offset=0.0, speed=1.0, aligned_frames=20, weighted_frames=20.0)
    return VisualMatch(**{**defaults, **fields})


def test_frames_match_is_one_rule_with_every_check():
    params = PARAMS.align
    assert frames_match(match(), params)
    assert not frames_match(match(score=0.55), params)
    assert not frames_match(match(aligned_frames=2, weighted_frames=2.0), params)
    assert not frames_match(match(weighted_frames=1.5), params)  # common frames discounted below the minimum
    assert not frames_match(match(speed=params.speed_min), params)  # the clamp: no line
    assert not frames_match(match(speed=1 / params.speed_min), params)
    assert not frames_match(match(reference_segment=Segment(4, 6)), params)  # 20 query s on 2 reference s
    assert not frames_match(match(distinctiveness=0.0), params)
    assert frames_match(match(distinctiveness=params.min_distinctiveness + 0.01), params)


def test_the_speeds_a_copy_is_made_at_are_inside_the_trusted_grid():
    params = AlignParams()
    grid = speed_grid(params)
    assert 1.0 in np.round(grid, 12) and len(grid) == params.speed_steps
    # the speed buttons of short-video apps: 0.5x to 2x
    assert not any(at_speed_edge(speed, params) for speed in (0.5, 0.67, 0.75, 0.8, 1.1, 1.25, 1.33, 1.5, 2.0))
    assert at_speed_edge(grid[0], params) and at_speed_edge(grid[-1], params)
    assert np.all(np.diff(np.log(grid)) < 0.0105)  # about 1 % apart


@pytest.mark.parametrize("speed", [0.5, 0.67, 1.5, 2.0])
def test_a_copy_at_a_speed_button_s_speed_is_a_line_at_that_speed(speed):
    """Query frame q shows reference time speed * q + 3: one hit per query frame on the line, and a
    scattered one off it."""
    rng = np.random.default_rng(int(speed * 100))
    duration = 40.0 / speed if speed > 1 else 20.0
    hits = []
    for q in np.arange(0.0, 20.0 if speed < 1 else 40.0 / speed, 1.0):
        hits.append(FrameHit(float(q), "A", round(speed * q + 3.0, 3), 0.9))
        hits.append(FrameHit(float(q), "A", float(rng.uniform(0, 60)), 0.5))
    found = align(hits, query_duration=duration, params=AlignParams())
    assert found and found[0].speed == pytest.approx(speed, rel=0.03), found
    assert found[0].aligned_frames >= 0.9 * len({hit.query_time for hit in hits})


def test_a_line_fitted_to_the_speed_clamp_is_not_a_match():
    """Hits that only fit at the grid's slowest speed: what frames alike everywhere produce."""
    slowest = speed_grid(AlignParams())[0]
    hits = [FrameHit(float(q), "A", round(slowest * q, 3), 0.9) for q in range(30)]
    assert align(hits, query_duration=30.0, params=AlignParams()) == []
    loose = AlignParams(speed_edge_share=-0.5)  # without the rule, the same hits are a match
    assert align(hits, query_duration=30.0, params=loose)[0].speed == pytest.approx(slowest, abs=0.005)


def test_a_copy_of_moving_footage_matches_and_stands_above_its_off_line_frames(index):
    original = moving(40, seed=1)
    store(index, "original", original)
    store(index, "other", moving(40, seed=2))
    found = visual_matches(half(copied(original[10:30], seed=3)), index, PARAMS, exclude_video_id="query")
    assert [m.video_id for m in found] == ["original"]
    best = found[0]
    assert best.offset == pytest.approx(10.0, abs=1.0) and best.speed == pytest.approx(1.0, abs=0.02)
    assert best.distinctiveness > 0.3 and best.offline_score < best.score - 0.3


def test_the_same_fixed_camera_at_another_moment_does_not_match(index):
    """Both moments are the one look, each frame a little changed: every line through the first
    moment fits the second as well as any other, at a high similarity."""
    base = unit(np.random.default_rng(7).normal(size=DIM))
    store(index, "moment-a", static(40, seed=8, base=base))
    query = half(static(20, seed=9, base=base))
    aligned = align(visual_hits(index, query), query_duration=20.0, params=AlignParams(min_distinctiveness=-1.0))
    assert aligned and aligned[0].score > 0.85  # the look alone aligns, as it did before the check
    assert visual_matches(query, index, PARAMS, exclude_video_id="query") == []


def test_a_copy_of_a_static_shot_still_matches(index):
    """The copy's frames are the reference's own, re-encoded: each beats the reference's other
    frames of the same look, which the same look at another moment does not."""
    base = unit(np.random.default_rng(7).normal(size=DIM))
    original = static(40, seed=8, base=base)
    store(index, "original", original)
    found = visual_matches(half(copied(original[5:25], seed=4, noise=0.1)), index, PARAMS, exclude_video_id="q")
    assert [m.video_id for m in found] == ["original"]
    assert found[0].distinctiveness >= AlignParams().min_distinctiveness


def test_a_replayed_video_never_matches_its_own_stored_frames(index):
    """Frames stored, record not (a partial write), then the event replayed."""
    frames = moving(20, seed=5)
    store(index, "replayed", frames)
    assert visual_matches(half(frames), index, PARAMS, exclude_video_id="replayed") == []
    assert [m.video_id for m in visual_matches(half(frames), index, PARAMS)] == ["replayed"]


def test_frame_hits_below_the_score_floor_are_not_searched(index):
    original = moving(30, seed=6)
    store(index, "original", original)
    weak = copied(original, seed=7, noise=6.0)  # similar enough to align at a low floor only
    strict = PARAMS.updated("search", frame_score_floor=0.99)
    assert visual_matches(half(weak), index, strict, exclude_video_id="q") == []


def visual_hits(index, frames: FrameHalf) -> list[FrameHit]:
    from streams.matching.visual import query_views, search_views

    return search_views(query_views(frames), index, PARAMS.search, exclude_video_id="query")


def drifting(count: int, seed: int, base: np.ndarray, step: float = 0.08) -> np.ndarray:
    """Slow footage of one look (a photograph panned, a slow zoom): each second a small step on
    from the last, so consecutive frames change alike."""
    walk = np.cumsum(step * np.random.default_rng(seed).normal(size=(count, DIM)), axis=0)
    return unit(base + walk / np.sqrt(DIM) * 4)


def test_the_effective_count_of_correlated_frames():
    from streams.matching.visual import effective_count

    assert effective_count(20, 0.0) == pytest.approx(20.0)
    assert effective_count(20, -0.5) == pytest.approx(20.0)  # alternating terms never count more than n
    assert effective_count(20, 0.5) == pytest.approx(20 / 2.8, rel=0.05)  # ~ n (1 - rho) / (1 + rho) for long runs
    assert effective_count(24, 0.975) < 1.5  # a slow pan: one frame's worth, however long
    assert 1.0 <= effective_count(3, 0.9) < effective_count(3, 0.5) < 3.0


def test_slow_footage_is_worth_fewer_frames_than_it_has(index):
    """Two stretches of one slowly changing look, unrelated in their changes: the null's terms
    repeat from frame to frame, and the frames count for a few independent ones, so the test is
    less sure of a line through them than it was counting every frame."""
    from streams.matching.visual import motion_false_alarm, query_views

    base = unit(np.random.default_rng(11).normal(size=DIM))
    store(index, "moment-a", drifting(30, seed=12, base=base))
    query = half(drifting(12, seed=13, base=base))
    line = match(query_segment=Segment(0, 12), reference_segment=Segment(10, 22), offset=10.0, aligned_frames=12)
    test = motion_false_alarm(line, query_views(query)[0], *index.get_frames("moment-a"), 12.0, PARAMS.align)
    assert test.lag_correlation > 0.5 and test.effective_frames < test.frames / 3
    assert test.false_alarm >= test.independent_false_alarm


def test_a_copy_of_slow_footage_is_left_to_the_distinctiveness_check(index):
    """A re-encoded copy of a slowly panned shot: identical changes on every frame could not make
    the motion test pass (its reach), so it has no say; the copy's exact frames stand out from the
    reference's others, and the line matches. Another stretch of the same look stays out."""
    from streams.matching.alignment import motion_decides

    base = unit(np.random.default_rng(21).normal(size=DIM))
    original = drifting(40, seed=22, base=base, step=0.05)
    store(index, "original", original)
    found = visual_matches(half(copied(original[8:32], seed=23, noise=0.05)), index, PARAMS, exclude_video_id="q")
    assert [m.video_id for m in found] == ["original"]
    assert not motion_decides(found[0], PARAMS.align) and found[0].best_false_alarm > PARAMS.align.visual_max_false_alarm
    assert found[0].distinctiveness >= PARAMS.align.min_distinctiveness


def test_the_motion_test_decides_only_where_it_can_reach_its_threshold():
    from streams.matching.alignment import motion_decides

    params = PARAMS.align
    assert not frames_match(match(false_alarm=0.5, best_false_alarm=1e-9), params)  # could have passed, did not
    assert frames_match(match(false_alarm=0.5, best_false_alarm=0.2), params)  # could not have passed: no say
    assert not motion_decides(match(false_alarm=0.5, best_false_alarm=0.2), params)
    assert frames_match(match(false_alarm=1e-6, best_false_alarm=1e-9), params)


def test_hits_on_another_line_are_read_from_the_reference_s_frames():
    """Where the search's few nearest frames all sit on the frames' own line, the hits on the
    sound's line are read from the reference's stored frames: the query frame's best within the
    tolerance of that line, none under the floor."""
    from streams.matching.visual import QueryView, hits_on_line

    reference = moving(30, seed=31)
    query = reference[5:15]
    view = QueryView(query, np.arange(10, dtype=np.float32))
    line = match(query_segment=Segment(0, 10), reference_segment=Segment(12, 22), offset=12.0, aligned_frames=10)
    frames_of = lambda video_id: (np.arange(30, dtype=np.float32), reference)  # noqa: E731
    on_sound = hits_on_line(line, [view], frames_of, 5.0, 1.0, 10.0, PARAMS.align, 0.5)
    assert [(hit.query_time, hit.ref_time) for hit in on_sound] == [(float(t), float(t + 5)) for t in range(10)]
    assert all(hit.score == pytest.approx(1.0, abs=1e-5) for hit in on_sound)
    assert hits_on_line(line, [view._replace(mirrored=True)], frames_of, 5.0, 1.0, 10.0, PARAMS.align, 0.5) == []
    assert hits_on_line(line, [view], frames_of, 5.0, 1.0, 10.0, PARAMS.align, 1.01) == []
