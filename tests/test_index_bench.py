"""The index benchmark's own models (tooling.bench.index_bench): no engine, no media."""

import numpy as np

from streams.index.frameshards import SEAL_FRAMES, steady_layout
from tooling.bench.index_bench import merge_policy_layouts, representatives


def test_the_current_policy_simulated_holds_the_steady_layout():
    for frames in (100_000, 1_000_000):
        current = next(r for r in merge_policy_layouts(frames, SEAL_FRAMES) if r["fanin"] == 4 and r["absorb_share"] is None)
        assert current["shards_at_end"] == len(steady_layout(frames)[0])


def test_one_graph_holds_one_shard_and_rebuilds_everything():
    (one,) = [r for r in merge_policy_layouts(40_000, 4_000) if r["absorb_share"] == 0.0]
    assert (one["shards_max"], one["largest_build_frames"]) == (1, 40_000)
    # each of the 10 frozen shards built on its own, then all the frames again at each freeze after the first
    assert one["frames_built_per_frame"] == (10 + sum(range(2, 11))) / 10


def test_representatives_take_their_near_identical_followers():
    base = np.eye(4, dtype=np.float32)
    near = base[0] * 0.99 + base[1] * np.sqrt(1 - 0.99 ** 2)  # cosine 0.99 with the first
    vectors = np.stack([base[0], base[2], near, base[1]])
    assert representatives(vectors, 0.98).tolist() == [0, 1, 0, 3]
    assert representatives(vectors, 0.995).tolist() == [0, 1, 2, 3]
