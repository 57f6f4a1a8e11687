"""Rule 1's commonness weights per view (streams.matching.alignment.view_weights): a view's line
weighs the same whichever other views were searched, and on which seconds."""

import pytest

from streams.matching.alignment import align, view_weights
from streams.params import AlignParams
from streams.values import FrameHit

PARAMS = AlignParams(visual_match_score=0.6, visual_min_aligned_frames=2)


def plain_line() -> list[FrameHit]:
    """A short plain line to video A, each query frame also hitting two other videos."""
    hits = [FrameHit(float(q), "A", float(q + 5), 0.85) for q in range(4)]
    return hits + [FrameHit(float(q), f"other{q}-{n}", 0.0, 0.55) for q in range(4) for n in range(2)]


def turned_hits(seconds, videos: int = 12) -> list[FrameHit]:
    """A turned view hitting many distinct videos on the given seconds (a turned frame looks
    like many things)."""
    return [FrameHit(float(q), f"turned{n}", float(n), 0.6, rotation=90) for q in seconds for n in range(videos)]


def best_line_to(video: str, hits: list[FrameHit]):
    return next(match for match in align(hits, query_duration=8.0, params=PARAMS) if match.video_id == video)


def test_another_view_s_hits_do_not_change_the_plain_line():
    alone = best_line_to("A", plain_line())
    for seconds in (range(4), range(0, 4, 2), range(1, 4, 3)):
        with_turns = best_line_to("A", plain_line() + turned_hits(seconds))
        assert with_turns == alone
    assert alone.weighted_frames == pytest.approx(4.0)


def test_each_view_is_weighed_by_its_own_hits_against_the_plain_view_s_typical_count():
    weights = view_weights(plain_line() + turned_hits(range(2)), n_query_frames=8, common_videos=3)
    assert weights[(False, False, 0)] == {0.0: 1.0, 1.0: 1.0, 2.0: 1.0, 3.0: 1.0}  # 3 videos each: not common
    assert weights[(False, False, 90)] == {0.0: pytest.approx(3 / 12), 1.0: pytest.approx(3 / 12)}


def test_without_plain_hits_the_typical_count_is_none():
    weights = view_weights(turned_hits(range(2), videos=6), n_query_frames=8, common_videos=3)
    assert weights == {(False, False, 90): {0.0: 0.5, 1.0: 0.5}}
