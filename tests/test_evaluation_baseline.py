"""The vPDQ-style baseline: PDQ hashes of real decoded clips, matched as a bag of frames."""

from __future__ import annotations

import numpy as np
import pytest

from tooling.evaluation.baseline import BaselineIndex, match_shares, run_baseline, video_hashes


def test_match_shares_count_hashes_within_the_distance_each_way():
    rng = np.random.default_rng(0)
    reference = rng.random((4, 256)) < 0.5
    query = reference[:2].copy()
    query[0, :31] ^= True  # 31 bits off: still a match
    query = np.vstack([query, rng.random((2, 256)) < 0.5])  # two unrelated hashes
    assert match_shares(query, reference) == (0.5, 0.5)
    assert match_shares(query, reference, max_distance=30) == (0.25, 0.25)
    assert match_shares(query[:0], reference) == (0.0, 0.0)


@pytest.fixture(scope="module")
def hashes(media):
    return {name: video_hashes(media[name]) for name in ("world.mp4", "b.mp4", "muted_b.mp4", "bikes.mp4")}


def test_real_clips_hash_once_per_second(hashes):
    assert hashes["world.mp4"].duration == pytest.approx(30.5, abs=0.1)
    assert 20 <= len(hashes["world.mp4"].bits) <= 31
    assert hashes["bikes.mp4"].bits.shape[1] == 256


def test_a_copy_matches_both_ways_and_a_partial_copy_only_one_way(hashes):
    b, muted, world, bikes = (hashes[name].bits for name in ("b.mp4", "muted_b.mp4", "world.mp4", "bikes.mp4"))
    assert min(match_shares(muted, b)) >= 0.8  # the same 5 s
    into_world, from_world = match_shares(b, world)
    assert into_world >= 0.8 and from_world < 0.5  # world's first 5 s of 30: vPDQ misses it
    assert max(match_shares(bikes, world)) < 0.2


def test_the_index_names_the_earliest_member_of_the_cluster(hashes):
    index = BaselineIndex()
    assert index.decide("b", hashes["b.mp4"])[0] is None
    assert index.decide("muted", hashes["muted_b.mp4"])[0] == "b"
    duplicate_of, reason = index.decide("muted_again", hashes["muted_b.mp4"])
    assert duplicate_of == "b" and "PDQ hashes match" in reason
    assert index.decide("bikes", hashes["bikes.mp4"])[0] is None


def test_run_baseline_times_each_video_and_fails_unreadable_files(media, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    verdicts = run_baseline([("bikes", media["bikes.mp4"]), ("broken", broken)])
    assert [v.verdict for v in verdicts] == ["unique", "failed"]
    assert verdicts[0].seconds > 0 and verdicts[0].duration == pytest.approx(10.0, abs=0.1)
