"""streams.pipeline on constructed features and both index engines (fast: no model, no media)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import numpy as np
import pytest

from schemas.internal import AcceptedVideo, AudioHalf, FrameHalf, JoinedVideo, encode_array
from streams.index import StoredVideo
from streams.params import MatchParams
from streams.pipeline import Found, judge, linked_cluster, match_features, search
from streams.values import FrameHit
from tests.test_index import open_edge, open_server, unit


def features(video_id: str, vectors: np.ndarray) -> JoinedVideo:
    accepted = AcceptedVideo(video_id=video_id, uri=f"/v/{video_id}.mp4", raw_event=base64.b64encode(b"{}").decode(),
                             accepted_at=datetime.now(UTC))
    frames = FrameHalf(timestamps=[float(t) for t in range(len(vectors))], embeddings=encode_array(vectors, "float16"),
                       duration=float(len(vectors)))
    return JoinedVideo(accepted=accepted, frames=frames, audio=AudioHalf(state="no_audio"))


def record(video_id: str, cluster_id: str, sequence: int) -> StoredVideo:
    return StoredVideo(video_id, cluster_id, sequence, None, 12.0, "no_audio", "", 0.0, "{}")


@pytest.mark.parametrize("open_at", [open_edge, open_server], ids=["edge", "server"])
def test_a_video_whose_frames_are_stored_without_its_record_does_not_find_itself(tmp_path, open_at):
    """The partial write of a crash (frames stored, record not): a replay leaves its own frames out."""
    own = unit(np.random.default_rng(0).normal(size=(12, 512)))
    index = open_at(tmp_path)
    index.add_video(record("me", "me", 1), np.arange(12, dtype=np.float32), own)  # the frames a crash left
    joined = features("me", own)
    assert search(joined, index, MatchParams()).frame_hits == []
    decision = match_features(joined, index, MatchParams())
    assert decision.verdict.value == "unique" and decision.matched_video is None
    # the same frames under another id are found: the filter is on the id, not on the vectors
    assert {hit.video_id for hit in search(features("other", own), index, MatchParams()).frame_hits} == {"me"}
    index.close()


def test_a_copy_of_a_copy_is_linked_to_the_root_and_names_it_when_it_matches_it_too():
    """c is an indexed copy of r; the query aligns with both, with c a little better."""
    base = unit(np.random.default_rng(1).normal(size=(12, 512)))
    stored = {"r": record("r", "r", 1), "c": record("c", "r", 2)}
    hits = [FrameHit(float(t), video, float(t), score) for t in range(12) for video, score in (("c", 0.95), ("r", 0.9))]

    def frames_of(video_id: str) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(12, dtype=np.float32), base

    decision = judge(features("q", base), Found(hits, []), stored.get, frames_of, MatchParams())
    assert (decision.verdict.value, decision.matched_video, linked_cluster(decision, stored.get)) == (
        "duplicate", "r", "r"), decision.reason
    only_copy = judge(features("q", base), Found([h for h in hits if h.video_id == "c"], []), stored.get, frames_of,
                      MatchParams())
    assert (only_copy.matched_video, linked_cluster(only_copy, stored.get)) == ("c", "r")


def test_a_line_through_an_indexed_copy_composes_and_stays_inside_what_the_copy_matched():
    from streams.pipeline import CopyLine, Line, copy_line, through_copy
    from streams.values import Segment, VisualMatch

    # the copy c shows r's 10-30 s at 1.25x from its own second 2 on: r = 1.25 * c + 7.5 over c's 2-18 s
    copy = CopyLine("r", Line(7.5, 1.25), Segment(2.0, 18.0))
    query = VisualMatch("c", 0.9, Segment(0.0, 8.0), Segment(4.0, 12.0), 4.0, 1.0, 8)  # c = q + 4
    composed = through_copy(query, copy, 8.0, MatchParams())
    assert composed.video_id == "r"
    assert (composed.offset, composed.speed) == pytest.approx((12.5, 1.25))  # r = 1.25 * (q + 4) + 7.5
    assert composed.reference_segment == pytest.approx((12.5, 22.5))
    # a query showing c's own first seconds, before what c took from r, says nothing of r
    assert through_copy(query._replace(reference_segment=Segment(0.0, 2.5), offset=0.0), copy, 8.0,
                        MatchParams()) is None
    verdict = ('{"is_duplicate": true, "visual": {"video_id": "r", "offset": 7.5, "speed": 1.25,'
               ' "query_segment": {"start": 2.0, "end": 18.0}}}')
    assert copy_line(record("c", "r", 2)._replace(verdict=verdict)) == copy
    assert copy_line(record("c", "c", 2)) is None  # not a duplicate: nothing to compose
