"""The frame stage's further views: turned frames for rotated re-posts (the likely turns for the
upload's shape in full, the others on every third frame, more on a short clip), whole
frames kept while decoding to cut regions from, and a real rotated copy found through its turned
view in a real index."""

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from schemas.internal import AcceptedVideo, AudioHalf, JoinedVideo
from streams.config import Settings
from streams.media.region import Region
from tooling.region_study import build
from streams.media.video import KeptFrames
from streams.params import ViewParams
from streams.stages.frames import rotation_plan, turned


def test_a_vertical_upload_is_turned_by_90_and_270_in_full_and_the_other_turns_share_every_third_frame():
    views = ViewParams()
    assert rotation_plan(True, 30, views) == {90: (1, 0), 270: (1, 0), 180: (3, 0)}
    assert rotation_plan(False, 30, views) == {90: (3, 0), 180: (3, 1), 270: (3, 2)}  # one pass
    assert rotation_plan(None, 30, views) == {90: (3, 0), 180: (3, 1), 270: (3, 2)}
    alternate = ViewParams(likely_step=2)
    assert rotation_plan(True, 30, alternate) == {90: (2, 0), 270: (2, 1), 180: (3, 0)}


def test_a_short_clip_keeps_enough_frames_for_each_turn():
    views = ViewParams()  # at least 3 frames a turn
    assert rotation_plan(False, 8, views) == {90: (2, 0), 180: (2, 1), 270: (2, 0)}  # 4 frames each, not 2-3
    assert rotation_plan(False, 5, views) == {90: (1, 0), 180: (1, 0), 270: (1, 0)}
    assert rotation_plan(True, 6, views) == {90: (1, 0), 270: (1, 0), 180: (2, 0)}
    assert rotation_plan(True, 5, ViewParams(likely_step=2)) == {90: (1, 0), 270: (1, 0), 180: (1, 0)}


def test_the_turns_of_a_chunk_take_the_frames_their_plan_gives_them():
    from streams.stages.frames import describe_chunk
    from streams.values import SampledFrames

    class Counting:
        def embed(self, frames):
            return np.zeros((len(frames), 512), np.float32)

    rng = np.random.default_rng(0)
    chunk = SampledFrames(timestamps=np.arange(12, dtype=np.float32) * 1.001,
                          pixels=rng.integers(0, 255, (12, 8, 8, 3), np.uint8), duration=12.0)
    described = describe_chunk(chunk, Counting(), Settings(), rotation_plan(True, 12, ViewParams(likely_step=2)))
    assert list(described.turned[90][0].round()) == [0, 2, 4, 6, 8, 10]
    assert list(described.turned[270][0].round()) == [1, 3, 5, 7, 9, 11]
    assert list(described.turned[180][0].round()) == [0, 3, 6, 9]


def test_turning_is_clockwise_and_four_quarter_turns_are_none():
    frames = np.zeros((1, 4, 4, 3), np.uint8)
    frames[0, 0, 0] = 255  # top left
    assert turned(frames, 90)[0, 0, 3, 0] == 255  # top right after a clockwise quarter turn
    assert turned(frames, 180)[0, 3, 3, 0] == 255
    np.testing.assert_array_equal(turned(turned(frames, 90), 270), frames)


class _Frame:
    """What KeptFrames reads of a decoded frame."""

    def __init__(self, time: float, width: int = 64, height: int = 36):
        self.time, self.width, self.height = time, width, height


def _scaled(frame: _Frame, width: int, height: int, format: str) -> np.ndarray:
    """A stand-in for streams.media.video.Scaler: the frame's time as every pixel's value."""
    return np.full((height, width, 3), int(frame.time) % 256, np.uint8)


def test_kept_frames_stay_few_and_evenly_spread_over_a_long_video():
    kept = KeptFrames(cap=4, short_side=18, scaled=_scaled)
    for second in range(100):
        kept.offer(_Frame(float(second)), second)
    assert 4 <= len(kept.times) < 8
    assert len(set(np.diff(kept.times))) == 1  # one step between all of them
    assert kept.pictures[0].shape == (18, 32, 3)  # the shorter side brought to short_side
    assert kept.portrait is False
    cut = kept.cropped(Region(0.0, 0.5, 0.5, 1.0), 16)
    assert cut.pixels.shape == (len(kept.times), 16, 16, 3)


def test_no_frame_is_kept_when_no_region_is_wanted():
    kept = KeptFrames(cap=0, short_side=18, scaled=_scaled)
    kept.offer(_Frame(0.0, width=36, height=64), 0)
    assert kept.times == [] and kept.portrait is True


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    from tests.conftest import CACHE

    manifest = build(tmp_path_factory.mktemp("rotated"), CACHE, ["cal_burrow", "cal_burrow_rot90"])
    return {item["video_id"]: manifest.parent / item["file"] for item in json.loads(manifest.read_text())}


@pytest.mark.media
def test_a_copy_turned_by_90_degrees_matches_its_original_through_the_turned_view(rotated, tmp_path):
    from streams.embedding.onnx import OnnxEmbedder
    from streams.index import StoredVideo
    from streams.index.edge import EdgeIndex
    from streams.matching.alignment import align
    from streams.stages.frames import describe_frames
    from streams.pipeline import search
    from streams.params import MatchParams

    settings = Settings(media_roots=[rotated["cal_burrow"].parent])

    def accepted(video_id: str) -> AcceptedVideo:
        return AcceptedVideo(video_id=video_id, uri=str(rotated[video_id]), raw_event="", accepted_at=datetime.now(UTC))

    embedder = OnnxEmbedder("sscd")
    try:
        original, copy = (describe_frames(accepted(name), embedder, settings) for name in rotated)
    finally:
        embedder.close()
    assert {view.rotation for view in copy.views} == {90, 180, 270}
    index = EdgeIndex(tmp_path / "index", "t")
    try:
        from schemas.internal import decode_array

        index.add_video(StoredVideo("cal_burrow", "cal_burrow", 1, None, original.duration, "no_audio", "", 0.0, "{}"),
                        np.asarray(original.timestamps, np.float32),
                        decode_array(original.embeddings, "float16", original.dim).astype(np.float32))
        joined = JoinedVideo(accepted=accepted("cal_burrow_rot90"), frames=copy, audio=AudioHalf(state="no_audio"))
        hits = search(joined, index, MatchParams.from_settings(settings)).frame_hits
    finally:
        index.close()
    # The copy was turned clockwise by 90 degrees: turning it by 270 more brings the original back.
    by_rotation = {rotation: [hit.score for hit in hits if hit.rotation == rotation and hit.ref_time == pytest.approx(
        hit.query_time, abs=1.01)] for rotation in (0, 90, 180, 270)}
    turned_270 = next(view for view in copy.views if view.rotation == 270)
    assert len(turned_270.timestamps) >= len(copy.timestamps) // 2  # a vertical upload: every other frame
    assert len(by_rotation[270]) >= 0.8 * len(turned_270.timestamps)
    assert np.median(by_rotation[270]) > 0.9
    assert max(by_rotation[0], default=0.0) < np.median(by_rotation[270]) - 0.1
    matches = align(hits, query_duration=copy.duration, params=MatchParams.from_settings(settings).align)
    assert matches and matches[0].video_id == "cal_burrow" and matches[0].rotation == 270 and matches[0].score > 0.9
