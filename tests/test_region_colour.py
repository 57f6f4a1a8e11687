"""An inset whose sides are weak in luma (no border, over a busy background or one of like
brightness) is found by its sides' steps in colour (streams.media.region): on constructed
thumbnails, and on real copies decoded from tooling.region_study's class of such insets; a still
shot's coloured contours are not taken for an inset's sides."""

from dataclasses import replace

import numpy as np
import pytest

from streams.config import Settings
from streams.media.region import Region, active_regions
from streams.media.video import sample_frames
from streams.params import MatchParams, RegionParams
from tests.test_media_region import _grids, _scenes
from tooling.region_study import build

SIZE = 224
PARAMS = RegionParams()
INSET = (slice(30, 150), slice(60, 200))  # rows 13-67 %, columns 27-89 % of the frame: 33 % of it


def _thumbnails(luma: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """[N, 3, G, G] thumbnails of frames given as luma and chroma planes, each uint8 [N, SIZE, SIZE]."""
    return np.stack([_grids(plane) for plane in (luma, u, v)], axis=1)


def _tint(count: int, level: float, seed: int) -> np.ndarray:
    """A chroma plane of one colour that drifts a little from frame to frame."""
    drift = np.random.default_rng(seed).normal(0, 2, count)
    return np.stack([np.full((SIZE, SIZE), level + step) for step in drift]).clip(0, 255).astype(np.uint8)


def test_an_inset_differing_only_in_colour_is_found_by_its_colour_edges():
    """Luma runs on across the inset's sides as if one film filled the frame: only the hue tells
    the inset (reddish) from its surroundings (bluish)."""
    luma = _scenes(12, SIZE, SIZE, seed=3)
    u, v = _tint(12, 160, 1), _tint(12, 110, 2)
    u[:, INSET[0], INSET[1]] = _tint(12, 100, 3)[:, :120, :140]
    v[:, INSET[0], INSET[1]] = _tint(12, 170, 4)[:, :120, :140]
    assert active_regions(_grids(luma), PARAMS) == []  # luma alone sees one picture
    found = active_regions(_thumbnails(luma, u, v), PARAMS)
    assert len(found) == 1
    assert found[0] == pytest.approx(Region(30 / SIZE, 150 / SIZE, 60 / SIZE, 200 / SIZE), abs=0.03)


def test_a_coloured_box_in_a_still_shot_is_no_region():
    """A box of another colour whose inside and surroundings change only by the thumbnails'
    rounding (a shelf in a bookcase behind a speaker who hardly moves): its colour contour stays in
    place, but no picture changes beside it, so it is no inset. Were the pictures beside it
    changing, the same contour would make one."""
    rows, columns = np.mgrid[0:SIZE, 0:SIZE]
    still = (90 + 40 * np.sin(rows / 50) + 30 * np.cos(columns / 70)).astype(np.float32)
    jitter = np.random.default_rng(5).integers(-1, 2, (12, 1, 1))  # a level up or down between samples
    luma = (still[None] + jitter).clip(0, 255).astype(np.uint8)
    u, v = _tint(12, 128, 6), _tint(12, 128, 7)
    u[:, INSET[0], INSET[1]], v[:, INSET[0], INSET[1]] = 90, 180
    thumbnails = _thumbnails(luma, u, v)
    assert active_regions(thumbnails, PARAMS) == []
    assert active_regions(thumbnails, replace(PARAMS, colour_change=0.0)) != []


@pytest.fixture(scope="module")
def weak(tmp_path_factory) -> dict:
    """Real copies from tooling.region_study's calibration half: the original (trailer footage) as
    unframed 30 % and 40 % insets over a panned circuit board in grey at its brightness, which
    luma edges alone miss."""
    import json

    from tests.conftest import CACHE

    names = ["cal_burrow_weakpip30", "cal_burrow_weakpip40"]
    manifest = build(tmp_path_factory.mktemp("weak"), CACHE, names)
    return {item["video_id"]: {**item, "path": manifest.parent / item["file"]}
            for item in json.loads(manifest.read_text())}


@pytest.mark.media
@pytest.mark.parametrize("name", ["cal_burrow_weakpip30", "cal_burrow_weakpip40"])
def test_a_real_inset_weak_in_luma_is_found_by_colour(weak, name):
    settings = Settings()
    params = MatchParams.from_settings(settings)
    thumbnails = sample_frames(weak[name]["path"], settings, params).thumbnails
    truth = Region(*weak[name]["region"])
    assert not any(region.iou(truth) > 0.5 for region in active_regions(thumbnails[:, 0], params.region))
    found = active_regions(thumbnails, params.region)
    assert len(found) == 1 and found[0].iou(truth) > 0.8
