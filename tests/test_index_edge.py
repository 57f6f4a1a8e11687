import numpy as np

from streams.index import StoredVideo
from streams.index.edge import EdgeIndex


def unit(rows):
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def video(video_id, **fields):
    defaults = dict(cluster_id=video_id, sequence=1, published_at=None, duration=10.0, audio_state="ok",
                    audio_items="", audio_items_per_second=7.8, verdict="{}")
    return StoredVideo(video_id=video_id, **{**defaults, **fields})


def test_frames_are_found_with_their_video_and_time(tmp_path):
    vectors = unit(np.random.default_rng(0).normal(size=(20, 512)))
    index = EdgeIndex(tmp_path, "t")
    index.add_video(video("a"), np.arange(20, dtype=np.float32), vectors)
    hits = index.search_frames(vectors[[3, 7]], np.array([0.0, 1.0]), limit=2, score_floor=0.9)
    assert [(h.query_time, h.video_id, h.ref_time) for h in hits] == [(0.0, "a", 3.0), (1.0, "a", 7.0)]
    assert all(h.score > 0.99 for h in hits)
    assert index.search_frames(unit(-vectors[:1]), np.zeros(1), limit=5, score_floor=0.5) == []


def test_indexing_twice_changes_nothing_and_survives_a_reopen(tmp_path):
    vectors = unit(np.random.default_rng(1).normal(size=(5, 512)))
    index = EdgeIndex(tmp_path, "t")
    index.add_video(video("a", verdict='{"v": 1}'), np.arange(5, dtype=np.float32), vectors)
    index.add_video(video("a", verdict='{"v": 1}'), np.arange(5, dtype=np.float32), vectors)
    assert index.stats() == {"videos": 1, "frames": 5}
    index.close()
    reopened = EdgeIndex(tmp_path, "t")
    assert reopened.get_video("a").verdict == '{"v": 1}'
    assert reopened.get_video("b") is None
    assert reopened.video_count() == 1
