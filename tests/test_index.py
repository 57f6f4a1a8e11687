"""One contract, two engines: every test runs against the embedded Qdrant Edge index and the
qdrant-client one. The latter runs in qdrant-client's local mode (`QdrantClient(path=...)`),
which stands in for a Qdrant server because no server binary installs here; the production path
(an http URL) is covered up to the connection."""

import json
import warnings

import numpy as np
import pytest

from streams.config import Settings
from streams.index import (AUDIO_WINDOW_BITS, Generation, IndexError_, StoredVideo, frame_model_digest, frame_points,
                           open_index, video_point_id)
from streams.index.edge import EdgeIndex, _field_is
from streams.index.server import SEARCH_BATCH, UPSERT_BATCH, ServerIndex

# Both engines at the sizes that matter (scroll pages, request batches, an HNSW build): half the
# fast tier's time on their own, so they run with the media tier.
pytestmark = pytest.mark.media


def open_edge(path):
    return EdgeIndex(path, "t")


def open_server(path):
    from qdrant_client import QdrantClient

    with warnings.catch_warnings():
        # Local mode says payload indexes have no effect there; a server builds them.
        warnings.simplefilter("ignore", UserWarning)
        return ServerIndex(QdrantClient(path=str(path)), "t")


@pytest.fixture(params=[open_edge, open_server], ids=["edge", "server"])
def open_at(request):
    return request.param


def unit(rows):
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def video(video_id, **fields):
    defaults = dict(cluster_id=video_id, sequence=1, published_at=None, duration=10.0, audio_state="ok",
                    audio_items="", audio_items_per_second=7.8, verdict="{}")
    return StoredVideo(video_id=video_id, **{**defaults, **fields})


def test_frames_are_found_with_their_video_and_time(tmp_path, open_at):
    vectors = unit(np.random.default_rng(0).normal(size=(20, 512)))
    index = open_at(tmp_path)
    index.add_video(video("a"), np.arange(20, dtype=np.float32), vectors)
    hits = index.search_frames(vectors[[3, 7]], np.array([0.0, 1.0]), limit=2, score_floor=0.9)
    assert [(h.query_time, h.video_id, h.ref_time) for h in hits] == [(0.0, "a", 3.0), (1.0, "a", 7.0)]
    assert all(h.score > 0.99 and not h.mirrored for h in hits)
    assert index.search_frames(unit(-vectors[:1]), np.zeros(1), limit=5, score_floor=0.5) == []
    assert index.search_frames(np.zeros((0, 512), np.float32), np.zeros(0), limit=5, score_floor=0.5) == []


def test_indexing_twice_changes_nothing_and_survives_a_reopen(tmp_path, open_at):
    vectors = unit(np.random.default_rng(1).normal(size=(5, 512)))
    index = open_at(tmp_path)
    index.add_video(video("a", verdict='{"v": 1}'), np.arange(5, dtype=np.float32), vectors)
    index.add_video(video("a", verdict='{"v": 1}'), np.arange(5, dtype=np.float32), vectors)
    assert index.stats() == {"videos": 1, "frames": 5, "audio": 0}
    index.close()
    reopened = open_at(tmp_path)
    assert reopened.get_video("a").verdict == '{"v": 1}'
    assert reopened.get_video("b") is None
    assert reopened.video_count() == 1


def test_a_long_video_goes_in_and_is_searched_in_batches(tmp_path, open_at):
    """More frames than one upsert and more query frames than one search request carry."""
    count = max(UPSERT_BATCH, SEARCH_BATCH) + 44
    vectors = unit(np.random.default_rng(2).normal(size=(count, 512)))
    index = open_at(tmp_path)
    stored = video("long", cluster_id="orig", sequence=7, published_at="2024-05-01T10:00:00+00:00", duration=300.0,
                   audio_state="no_audio", audio_items="AAAA", audio_items_per_second=7.8125, verdict='{"x": 2}')
    index.add_video(stored, np.arange(count, dtype=np.float32) * 0.5, vectors)
    hits = index.search_frames(vectors, np.arange(count, dtype=np.float32), limit=1, score_floor=0.95,
                               mirrored=True)
    assert [(h.query_time, h.ref_time) for h in hits] == [(float(i), i * 0.5) for i in range(count)]
    assert all(h.video_id == "long" and h.mirrored for h in hits)
    assert index.get_video("long") == stored
    assert index.stats() == {"videos": 1, "frames": count, "audio": 0}


def test_neighbours_come_from_every_video_above_the_floor(tmp_path, open_at):
    base = unit(np.random.default_rng(3).normal(size=(4, 512)))
    near = unit(base + 0.3 * unit(np.random.default_rng(4).normal(size=(4, 512))))
    index = open_at(tmp_path)
    index.add_video(video("a"), np.arange(4, dtype=np.float32), base)
    index.add_video(video("b", cluster_id="a", sequence=2), np.arange(4, dtype=np.float32) + 10, near)
    hits = index.search_frames(base[:1], np.zeros(1), limit=5, score_floor=0.8)
    assert [(h.video_id, h.ref_time) for h in hits] == [("a", 0.0), ("b", 10.0)]
    assert hits[0].score > hits[1].score
    assert index.video_count() == 2


def test_a_stored_videos_frames_come_back_in_time_order_and_only_its_own(tmp_path, open_at):
    """More frames than one scroll page of either engine, stored out of time order."""
    count = 1000 + 37
    vectors = unit(np.random.default_rng(6).normal(size=(count, 512)))
    times = np.random.default_rng(7).permutation(count).astype(np.float32) * 0.5
    index = open_at(tmp_path)
    index.add_video(video("a"), times, vectors)
    index.add_video(video("b"), np.arange(3, dtype=np.float32), vectors[:3])
    got_times, got_vectors = index.get_frames("a")
    order = np.argsort(times)
    assert got_times.dtype == np.float32 and got_vectors.dtype == np.float32
    assert np.array_equal(got_times, times[order])
    assert np.allclose(got_vectors, vectors[order], atol=1e-5)
    missing_times, missing_vectors = index.get_frames("nobody")
    assert missing_times.shape == (0,) and missing_vectors.shape == (0, 512)


def test_soundtrack_windows_are_found_at_their_offsets_and_stored_once(tmp_path, open_at):
    signs = np.where(np.random.default_rng(5).random((6, AUDIO_WINDOW_BITS)) < 0.5, -1.0, 1.0).astype(np.float32)
    index = open_at(tmp_path)
    index.add_audio("a", signs, np.arange(6, dtype=np.float32) * 1.024)
    index.add_audio("a", signs, np.arange(6, dtype=np.float32) * 1.024)
    query = signs[[4, 1]].copy()
    query[1, :64] *= -1  # 64 of 1024 bits differ: dot product 1024 - 2 x 64
    hits = index.search_audio(query, np.array([0.0, 8.0]), limit=1, score_floor=800)
    assert [(h.query_offset, h.video_id, h.ref_offset) for h in hits] == [(0.0, "a", 4.096), (8.0, "a", 1.024)]
    assert [h.score for h in hits] == pytest.approx([1024, 896])
    assert index.search_audio(-signs[:1], np.zeros(1), limit=3, score_floor=800) == []
    assert index.stats()["audio"] == 6


def found_at(index, vectors):
    """(query number, video, stored time) of each vector's best hit."""
    hits = index.search_frames(vectors, np.arange(len(vectors), dtype=np.float32), limit=1, score_floor=0.99)
    return sorted((hit.query_time, hit.video_id, hit.ref_time) for hit in hits)


def test_edge_frames_get_graphs_built_in_a_child_process_and_merged_in_tiers(tmp_path):
    """100-frame shards: each full live shard is frozen and built apart; four built ones merge into one."""
    vectors = unit(np.random.default_rng(6).normal(size=(500, 512)))
    index = EdgeIndex(tmp_path, "t", seal_frames=100)
    for number in range(5):
        index.add_video(video(f"v{number}"), np.arange(100, dtype=np.float32), vectors[number * 100:(number + 1) * 100])
        index.settle()  # one build at a time: five shards of the first tier, the first four merged
    assert index._frames.built_frames() == 500 and index._frames.shard_count() == 3  # live, 400, 100
    picks = np.arange(0, 500, 50)
    expected = [(float(i), f"v{pick // 100}", float(pick % 100)) for i, pick in enumerate(picks)]
    assert found_at(index, vectors[picks]) == expected
    index.close()
    assert len(list((tmp_path / f"{index.generation.name}_frames").glob("points-*.npz"))) == 2  # merged ones go
    reopened = EdgeIndex(tmp_path, "t", seal_frames=100)
    assert found_at(reopened, vectors[picks]) == expected and reopened.stats()["frames"] == 500
    reopened.close()


def test_the_steady_layout_is_the_tiers_the_builds_leave_at_the_stream_s_pace():
    from streams.index.frameshards import steady_layout

    # 1 M frames are 250 frozen shards of 4000: 3 x 64 + 3 x 16 + 2 x 4 + 2 in base 4.
    assert steady_layout(1_000_000) == ([(4, 256_000)] * 3 + [(3, 64_000)] * 3 + [(2, 16_000)] * 2
                                        + [(1, 4_000)] * 2, 0)
    assert steady_layout(9_100, seal_frames=1000) == ([(2, 4000)] * 2 + [(1, 1000)], 100)


def add_bulk_shard(index: EdgeIndex, vectors: np.ndarray, tier: int) -> None:
    """Video "bulk", one frame a second, loaded straight into a built shard of this tier (as the benchmark loads)."""
    times = np.arange(float(len(vectors)))
    points = frame_points(video("bulk"), times, vectors)
    index._frames.add_built({"id": np.array([point_id for point_id, _, _ in points]),
                             "vector": vectors.astype(np.float16), "video_id": np.array(["bulk"] * len(vectors)),
                             "t": times, "cluster_id": np.array(["bulk"] * len(vectors))}, tier=tier)


def test_a_bulk_loaded_shard_is_searched_merged_and_kept_like_a_built_one(tmp_path):
    """What the benchmark loads straight into a built shard: found, then merged by the stream's own builds."""
    vectors = unit(np.random.default_rng(10).normal(size=(700, 512)))
    index = EdgeIndex(tmp_path, "t", seal_frames=100)
    add_bulk_shard(index, vectors[:400], tier=1)
    assert index._frames.built_frames() == 400 and index._frames.shard_count() == 2
    for number in range(3):  # three more tier-1 shards through the stream's path: four merge into one
        index.add_video(video(f"v{number}"), np.arange(100, dtype=np.float32), vectors[400 + number * 100:500 + number * 100])
        index.settle()
    assert index._frames.built_frames() == 700 and index._frames.shard_count() == 2  # live, the merge
    assert found_at(index, vectors[[0, 399]]) == [(0.0, "bulk", 0.0), (1.0, "bulk", 399.0)]
    index.close()
    reopened = EdgeIndex(tmp_path, "t", seal_frames=100)
    assert found_at(reopened, vectors[[7]]) == [(0.0, "bulk", 7.0)]
    reopened.close()


def test_a_larger_graph_is_walked_wider_and_every_shard_answers(tmp_path, monkeypatch):
    """A merged graph keeps its recall with more candidates (frameshards.graph_search_width): each
    shard is asked with the width its size calls for, and the answers still merge into one list."""
    from streams.index import HNSW_EF_SEARCH, HNSW_EF_SEARCH_WIDE, frameshards

    monkeypatch.setattr(frameshards, "WIDE_GRAPH_FRAMES", 300)
    vectors = unit(np.random.default_rng(11).normal(size=(450, 512)))
    index = EdgeIndex(tmp_path, "t", seal_frames=100)
    add_bulk_shard(index, vectors[:400], tier=2)
    index.add_video(video("live"), np.arange(50, dtype=np.float32), vectors[400:])
    widths = []
    monkeypatch.setattr("streams.index.edge.search_params",
                        lambda exact, width: widths.append(width) or frameshards.search_params(exact, width))
    assert found_at(index, vectors[[3, 420]]) == [(0.0, "bulk", 3.0), (1.0, "live", 20.0)]
    assert sorted(widths) == [HNSW_EF_SEARCH, HNSW_EF_SEARCH_WIDE]  # the live shard's, the large one's
    index.close()


def test_removals_and_cluster_changes_while_a_shard_is_built_reach_it(tmp_path):
    vectors = unit(np.random.default_rng(8).normal(size=(250, 512)))
    index = EdgeIndex(tmp_path, "t", seal_frames=200)
    for name, frames in (("a", vectors[:100]), ("b", vectors[100:200]), ("c", vectors[200:])):
        index.add_video(video(name), np.arange(len(frames), dtype=np.float32), frames)
    # b's write froze a and b: their build is running now.
    index.delete_video("a")
    index.set_cluster(["b"], "c")
    index.add_video(video("a"), np.arange(100, dtype=np.float32), vectors[:100])  # published again
    index.settle()
    assert index._frames.built_frames() == 100  # b's; a's new frames wait in the live shard with c's
    assert found_at(index, vectors[[0, 150, 220]]) == [(0.0, "a", 0.0), (1.0, "b", 50.0), (2.0, "c", 20.0)]
    assert len(index.get_frames("a")[0]) == 100 and index.stats()["frames"] == 250
    clustered_c = index._frames.scroll(_field_is("cluster_id", "c"), with_vector=False)
    assert {record.payload["video_id"] for record in clustered_c} == {"b", "c"}
    index.close()


def test_an_index_of_the_single_shard_layout_is_kept_as_a_shard(tmp_path):
    from qdrant_edge import Distance, EdgeConfig, EdgeShard, EdgeVectorParams, Point, UpdateOperation

    vectors = unit(np.random.default_rng(9).normal(size=(3, 512)))
    (tmp_path / "t_frames").mkdir()
    (tmp_path / "t_videos").mkdir()  # the other collections of that layout, empty
    old = EdgeShard.create(str(tmp_path / "t_frames"), EdgeConfig(vectors=EdgeVectorParams(size=512, distance=Distance.Cosine)))
    old.update(UpdateOperation.upsert_points([Point(*point) for point in frame_points(video("old"), np.arange(3.0), vectors)]))
    old.flush()
    old.close()
    index = EdgeIndex(tmp_path, "t", seal_frames=2)
    index.add_video(video("new"), np.arange(2, dtype=np.float32), vectors[:2] * -1)
    index.settle()
    assert found_at(index, vectors) == [(0.0, "old", 0.0), (1.0, "old", 1.0), (2.0, "old", 2.0)]
    assert index.stats()["frames"] == 5
    index.close()


def test_server_collections_explain_themselves_in_the_dashboard(tmp_path):
    index = open_server(tmp_path)
    frames = index.client.get_collection("t_frames")
    videos = index.client.get_collection("t_videos")
    assert "one point per sampled frame" in frames.config.metadata["description"]
    assert "one point per indexed video" in videos.config.metadata["description"]
    assert "soundtrack windows" in index.client.get_collection("t_audio").config.metadata["description"]
    assert "verdict_json" in index.client.get_collection("t_video_data").config.metadata["description"]
    assert "audio_items" not in videos.config.metadata["description"]
    assert frames.config.params.vectors.size == 512
    index.close()
    assert open_server(tmp_path).stats() == {"videos": 0, "frames": 0, "audio": 0}  # opening again keeps what exists


def test_a_server_url_selects_the_client_and_an_unreachable_server_is_a_clear_error(tmp_path):
    settings = Settings(qdrant_location="http://127.0.0.1:9", data_dir=tmp_path)
    with pytest.raises(IndexError_, match=r"dupstream_frames.*http://127.0.0.1:9"):
        open_index(settings)


def test_index_stats_command_counts_the_points(tmp_path, monkeypatch, capsys):
    from streams.cli import main

    index = open_edge(tmp_path)
    index.add_video(video("a"), np.arange(3, dtype=np.float32), unit(np.eye(3, 512)))
    index.close()
    monkeypatch.setenv("DUPSTREAM_QDRANT_LOCATION", str(tmp_path))
    monkeypatch.setenv("DUPSTREAM_COLLECTION_PREFIX", "t")
    assert main(["index", "stats"]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert lines[0] == f"Qdrant Edge in {tmp_path}"
    assert lines[1] == f"t_* -> t_sscd_{frame_model_digest('sscd')}_* (frame model sscd)"
    assert [line.split() for line in lines[2:5]] == [["t_videos", "1", "points"], ["t_frames", "3", "points"],
                                                     ["t_audio", "0", "points"]]


def test_an_engine_failing_after_open_is_index_unavailable(tmp_path, open_at):
    from streams.errors import IndexUnavailable

    index = open_at(tmp_path)
    index.close()  # the engine goes away under the worker: every call now fails inside it
    for call in (lambda: index.get_video("a"),
                 lambda: index.search_frames(unit(np.ones((1, 512))), np.zeros(1), limit=2, score_floor=0.5),
                 lambda: index.add_video(video("a"), np.zeros(1, np.float32), unit(np.ones((1, 512))))):
        with pytest.raises(IndexUnavailable) as caught:
            call()
        assert caught.value.code == "index_unavailable" and caught.value.retriable


def clustered(index, count: int = 3):
    """Videos a (the root), then b, c... duplicates of a, each with 2 frames and soundtrack windows."""
    rng = np.random.default_rng(7)
    names = [chr(ord("a") + i) for i in range(count)]
    for sequence, name in enumerate(names, 1):
        signs = np.where(rng.random((2, AUDIO_WINDOW_BITS)) < 0.5, -1.0, 1.0).astype(np.float32)
        index.add_audio(name, signs, np.array([0.0, 1.024], np.float32))
        index.add_video(video(name, cluster_id="a", sequence=sequence), np.arange(2, dtype=np.float32),
                        unit(rng.normal(size=(2, 512))))
    return names


def test_removing_a_root_hands_the_cluster_to_the_earliest_member(tmp_path, open_at):
    from streams.index.takedown import take_down

    index = open_at(tmp_path)
    clustered(index)
    assert [member.video_id for member in index.cluster_members("a")] == ["a", "b", "c"]
    done = take_down(index, "a")
    assert done == (True, "a", "b", ["b", "c"], {"frames": 2, "audio": 2, "videos": 1})
    assert index.get_video("a") is None
    assert [(m.video_id, m.cluster_id) for m in index.cluster_members("b")] == [("b", "b"), ("c", "b")]
    assert index.cluster_members("a") == []
    assert index.stats() == {"videos": 2, "frames": 4, "audio": 4}
    # The frames carry the new root too, and none of a's frames or windows is found any more.
    assert {hit.video_id for hit in index.search_frames(unit(np.ones((1, 512))), np.zeros(1), limit=10,
                                                        score_floor=-1)} == {"b", "c"}
    assert index.last_sequence() == 3


def test_removing_twice_or_an_unknown_id_changes_nothing(tmp_path, open_at):
    from streams.index.takedown import take_down

    index = open_at(tmp_path)
    clustered(index)
    assert take_down(index, "c") == (True, "a", None, [], {"frames": 2, "audio": 2, "videos": 1})
    assert take_down(index, "c") == (False, None, None, [], {"frames": 0, "audio": 0, "videos": 0})
    assert take_down(index, "nobody") == (False, None, None, [], {"frames": 0, "audio": 0, "videos": 0})
    assert [(m.video_id, m.cluster_id) for m in index.cluster_members("a")] == [("a", "a"), ("b", "a")]
    index.close()
    assert open_at(tmp_path).stats() == {"videos": 2, "frames": 4, "audio": 4}


def test_sequences_keep_growing_after_a_removal(tmp_path, open_at):
    """The next video's sequence is past the highest stored, not the count, which removals lower."""
    from streams.index.takedown import take_down

    index = open_at(tmp_path)
    assert index.last_sequence() == 0
    clustered(index, count=12)  # sequences 1..12: ordered as numbers, not as text
    take_down(index, "b")
    assert (index.video_count(), index.last_sequence()) == (11, 12)
    take_down(index, "l")
    assert index.last_sequence() == 11


def test_a_record_is_readable_and_the_blobs_live_beside_it(tmp_path, open_at):
    """The record (what the dashboard shows) has no fingerprint and no verdict JSON; get_video
    still returns them, from the <prefix>_video_data collection."""
    index = open_at(tmp_path)
    stored = video("a", uri="/media/a.mp4", published_at="2024-05-01T10:00:00+00:00", audio_items="AAAAAQAAAAI=",
                   verdict='{"verdict": "unique", "video_id": "a"}', duration=12.3456)
    index.add_video(stored, np.arange(2, dtype=np.float32), unit(np.eye(2, 512)))
    assert index.video_record("a") == {
        "video_id": "a", "uri": "/media/a.mp4", "published_at": "2024-05-01T10:00:00+00:00", "cluster_id": "a",
        "verdict": "unique", "duration": 12.346, "has_sound": True, "audio_state": "ok", "sequence": 1}
    assert index.get_video("a") == stored._replace(duration=12.346)
    assert index.video_record("b") is None
    index.delete_video("a")
    assert index.get_video("a") is None and index.video_record("a") is None


def test_nearest_videos_are_the_others_by_mean_descriptor(tmp_path, open_at):
    base = unit(np.random.default_rng(8).normal(size=(3, 512)))
    index = open_at(tmp_path)
    index.add_video(video("a"), np.arange(3, dtype=np.float32), base)
    near = unit(base + 0.3 * unit(np.random.default_rng(9).normal(size=(3, 512))))
    index.add_video(video("near", sequence=2), np.arange(3, dtype=np.float32), near)
    index.add_video(video("far", sequence=3), np.arange(3, dtype=np.float32), unit(-base))
    nearest = index.nearest_videos("a", limit=2)
    assert [name for name, _ in nearest] == ["near", "far"] and nearest[0][1] > 0.9 > nearest[1][1]
    assert index.nearest_videos("nobody", limit=2) == []


def test_index_show_prints_the_record_the_cluster_and_the_neighbours(tmp_path, monkeypatch, capsys):
    from streams.cli import main

    index = open_edge(tmp_path)
    clustered(index)
    index.close()
    monkeypatch.setenv("DUPSTREAM_QDRANT_LOCATION", str(tmp_path))
    monkeypatch.setenv("DUPSTREAM_COLLECTION_PREFIX", "t")
    assert main(["index", "show", "b"]) == 0
    out = capsys.readouterr().out
    assert '"cluster_id": "a"' in out and "audio_items" not in out
    cluster = out.split("cluster a: 3 videos\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[:2] for line in cluster[1:]] == [["1", "a"], ["2", "b"], ["3", "c"]]
    assert "nearest videos" in out
    assert main(["index", "show", "nobody"]) == 1
    assert "no video nobody in the index" in capsys.readouterr().err


def test_a_record_written_with_its_blobs_inside_still_reads():
    """Indexes written before <prefix>_video_data existed keep the fingerprint and the verdict JSON
    in the record itself."""
    from streams.index import video_from_payload

    old = {"video_id": "a", "cluster_id": "a", "sequence": 3, "published_at": None, "duration": 5.0,
           "audio_state": "ok", "audio_items": "AAAA", "audio_items_per_second": 7.8, "verdict": '{"v": 1}'}
    assert video_from_payload(old, None) == video("a", sequence=3, duration=5.0, audio_items="AAAA",
                                                  verdict='{"v": 1}')


def test_the_videos_are_listed_in_indexing_order_and_drop_deletes_every_collection(tmp_path, open_at):
    index = open_at(tmp_path)
    names = clustered(index, count=12)
    assert index.video_ids() == names  # by sequence, 1..12 as numbers
    index.drop()
    assert open_at(tmp_path).stats() == {"videos": 0, "frames": 0, "audio": 0}


def test_collections_are_a_generation_named_by_the_frame_model_and_a_pointer_names_the_current_one(tmp_path, open_at):
    """Qdrant Edge: a pointer file; qdrant-client (local mode too): collection aliases. A process
    keeps the generation it opened; one opening the index after a switch gets the new one."""
    sscd = f"t_sscd_{frame_model_digest('sscd')}"
    distilled = Generation(f"t_sscd_distilled_{frame_model_digest('sscd_distilled')}", "sscd_distilled",
                           frame_model_digest("sscd_distilled"))
    assert frame_model_digest("sscd") != frame_model_digest("sscd_distilled")
    worker = open_at(tmp_path)
    assert worker.generation == Generation(sscd, "sscd", frame_model_digest("sscd"))
    worker.add_video(video("old"), np.zeros(1, np.float32), unit(np.eye(1, 512)))
    new = worker.open_generation(distilled)
    new.add_video(video("new"), np.zeros(1, np.float32), unit(np.eye(1, 512)))
    assert [g.name for g in worker.generations()] == [sscd, distilled.name]

    worker.switch(distilled)
    assert worker.get_video("old") is not None and worker.get_video("new") is None  # kept what it opened
    new.close()
    if open_at is open_server:
        aliases = {a.alias_name: a.collection_name for a in worker.client.get_aliases().aliases}
        assert aliases == {f"t_{kind}": f"{distilled.name}_{kind}" for kind in ("frames", "videos", "audio",
                                                                                 "video_data")}
        # a second client cannot open local mode's directory while the first holds it: read through the aliases
        assert worker.client.retrieve("t_videos", [video_point_id("new")])
        worker.close()
    else:
        worker.close()
        assert json.loads((tmp_path / "t.current.json").read_text())["name"] == distilled.name
    reopened = open_at(tmp_path)
    assert reopened.generation == distilled and reopened.get_video("new") is not None and reopened.get_video("old") is None
    reopened.close()


def test_a_process_embedding_with_another_model_than_the_current_generation_s_refuses_to_open(tmp_path):
    EdgeIndex(tmp_path, "t", frame_model="sscd_distilled").close()
    settings = Settings(qdrant_location=str(tmp_path), collection_prefix="t", frame_model="sscd")
    with pytest.raises(IndexError_, match="hold the descriptors of sscd_distilled .*set DUPSTREAM_FRAME_MODEL=sscd_distilled"):
        open_index(settings)
    open_index(settings, check_model=False).close()  # inspection reads any generation
    open_index(settings.model_copy(update={"frame_model": "sscd_distilled"})).close()


@pytest.mark.parametrize("engine", ["edge", "server"])
def test_a_takedown_leaves_every_generation(tmp_path, engine):
    from streams.index.takedown import take_down

    index = (open_edge if engine == "edge" else open_server)(tmp_path)
    other = Generation(f"t_sscd_distilled_{frame_model_digest('sscd_distilled')}", "sscd_distilled",
                       frame_model_digest("sscd_distilled"))
    older = index.open_generation(other)  # the one a migration left, or the one migrated into
    for each in (index, older):
        each.add_video(video("a"), np.arange(2, dtype=np.float32), unit(np.eye(2, 512)))
        each.add_video(video("b", cluster_id="a", sequence=2), np.arange(2, dtype=np.float32), unit(np.eye(2, 512)))
    older.close()
    done = take_down(index, "a")
    assert done.found and done.new_root == "b" and done.removed_points == {"frames": 4, "audio": 0, "videos": 2}
    older = index.open_generation(other)
    assert older.get_video("a") is None and older.get_video("b").cluster_id == "b"
    older.close()
    index.close()


def test_collections_from_before_generations_keep_working_and_a_server_will_not_alias_over_them(tmp_path, open_at):
    """An index made before generations (<prefix>_* collections, no pointer) is opened as it is;
    its model was not recorded, so no process is refused. Qdrant Edge's pointer is a file and
    switches away from it; a server's aliases cannot take the names those collections hold."""
    from streams.index import generation_for

    if open_at is open_edge:
        def make(generation=None):
            return EdgeIndex(tmp_path, "t", generation=generation)
    else:
        from qdrant_client import QdrantClient

        client = QdrantClient(path=str(tmp_path))

        def make(generation=None):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return ServerIndex(client, "t", generation=generation, owns_client=False)
    legacy = make(Generation("t", ""))
    legacy.add_video(video("a"), np.zeros(1, np.float32), unit(np.eye(1, 512)))
    legacy.close()
    index = make()
    assert index.generation == Generation("t", "") and index.get_video("a") is not None
    sscd = index.open_generation(generation_for("t", "sscd"))
    sscd.close()
    if open_at is open_edge:
        index.switch(sscd.generation)
        index.close()
        reopened = make()
        assert reopened.generation == sscd.generation
        reopened.close()
    else:
        with pytest.raises(IndexError_, match="made before generations.*--drop-old"):
            index.switch(sscd.generation)
        client.close()
