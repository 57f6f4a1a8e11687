"""The active region (a picture-in-picture inset) is found where the picture changes inside a
rectangle: on constructed frames, and on a real inset made with ffmpeg, whose region frames must
look like the original's to the frame descriptor."""

import numpy as np
import pytest

from streams.config import Settings
from streams.devset.devset import GRADIENT_COLOURS
from streams.devset.samples import ffmpeg
from streams.media.region import GRID, MIN_CONTRAST, Region, active_region, activity, luma_grid
from streams.media.video import sample_frames, sample_region

SIZE = 224
INSET = (slice(22, 122), slice(112, 212))  # rows 10-54 %, columns 50-95 % of the frame: 20 % of it


def _grids(frames: np.ndarray) -> np.ndarray:
    return np.stack([luma_grid(frame) for frame in frames])


def _scenes(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Film-like footage: a textured shot that drifts, with a cut to a new shot every third frame."""
    rng = np.random.default_rng(seed)
    frames = []
    for index in range(count):
        if index % 3 == 0:
            shot = rng.integers(0, 256, (height // 8 + 4, width // 8 + 4), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
        drift = 4 * (index % 3)
        frames.append(shot[drift:drift + height, drift:drift + width])
    return np.stack(frames)


def _gradient(count: int) -> np.ndarray:
    """A smooth background whose colours drift slowly, like ffmpeg's gradients source."""
    rows, columns = np.mgrid[0:SIZE, 0:SIZE]
    return np.stack([(100 + 60 * np.sin(rows / 70 + columns / 90 + 0.05 * t)).astype(np.uint8) for t in range(count)])


def test_an_inset_over_a_moving_background_is_found():
    frames = _gradient(12)
    frames[:, INSET[0], INSET[1]] = _scenes(12, 100, 100)
    region = active_region(_grids(frames))
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
    inset[6:30, 28:53] = True
    assert cells[inset].mean() < MIN_CONTRAST * cells[~inset].mean()  # the activity alone does not tell
    region = active_region(grids)
    assert region is not None
    assert region == pytest.approx(Region(22 / SIZE, 122 / SIZE, 112 / SIZE, 212 / SIZE), abs=0.04)


def test_an_inset_over_a_still_background_is_found():
    frames = np.repeat(np.random.default_rng(1).integers(0, 256, (1, SIZE, SIZE), dtype=np.uint8), 9, axis=0)
    frames[:, INSET[0], INSET[1]] = _scenes(9, 100, 100)
    region = active_region(_grids(frames))
    assert region is not None and 0.15 < region.area < 0.25


def test_a_full_frame_video_has_no_region():
    assert active_region(_grids(_scenes(12, SIZE, SIZE))) is None


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
    assert active_region(_grids(np.stack(frames))) is None


def test_bars_and_still_videos_have_no_region():
    letterboxed = np.zeros((12, SIZE, SIZE), np.uint8)
    letterboxed[:, 70:154] = _scenes(12, 84, SIZE)  # bars.py crops those: no second view
    assert active_region(_grids(letterboxed)) is None
    assert active_region(_grids(np.repeat(_gradient(1), 8, axis=0))) is None  # nothing moves
    assert active_region(_grids(_scenes(3, SIZE, SIZE))) is None  # too few frames to tell


@pytest.fixture(scope="module")
def original_and_inset(media, tmp_path_factory):
    """The first 10 s of the Big Buck Bunny trailer, and the same at 45 % size, framed, in the upper
    right of a moving gradient (as the development set's picture-in-picture copies are made). The
    gradient's colours are given: FFmpeg picks random ones otherwise, whatever the seed, and the
    copy would differ from run to run."""
    directory = tmp_path_factory.mktemp("region")
    original, inset = directory / "original.mp4", directory / "pip.mp4"
    encode = ["-an", "-c:v", "libx264", "-preset", "veryfast"]
    ffmpeg("-t", "10", "-i", str(media["trailer_bbb.mp4"]), *encode, str(original))
    graph = ("[1:v]scale=576:-2,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=6[small];"
             "[0:v][small]overlay=x=W*0.5:y=H*0.1:shortest=1,format=yuv420p[v]")
    ffmpeg("-f", "lavfi", "-i", f"gradients=size=1280x720:rate=25:speed=0.02:duration=10:{GRADIENT_COLOURS[0]}", "-i", str(original),
           "-filter_complex", graph, "-map", "[v]", *encode, str(inset))
    return original, inset


def test_a_real_inset_is_found_and_its_frames_look_like_the_original(original_and_inset):
    from streams.embedding.onnx import OnnxEmbedder

    original_path, inset_path = original_and_inset
    settings = Settings()
    copy = sample_frames(inset_path, settings)
    region = active_region(copy.luma)
    assert region is not None
    assert region == pytest.approx(Region(0.1, 0.55, 0.5, 0.95), abs=0.04)
    inset = sample_region(inset_path, settings, region)
    np.testing.assert_allclose(inset.timestamps, copy.timestamps)
    original = sample_frames(original_path, settings)
    count = min(len(inset.timestamps), len(original.timestamps))
    embedder = OnnxEmbedder("sscd")
    try:
        whole, cropped, reference = (embedder.embed(frames.pixels[:count]) for frames in (copy, inset, original))
    finally:
        embedder.close()
    region_similarity = (cropped * reference).sum(axis=1)
    whole_similarity = (whole * reference).sum(axis=1)
    assert np.median(region_similarity) > 0.7, region_similarity
    assert np.median(region_similarity) > np.median(whole_similarity) + 0.2, (region_similarity, whole_similarity)


def test_grid_cells_are_block_means():
    frame = np.zeros((2 * GRID, 2 * GRID), np.uint8)
    frame[:2, :2] = [[0, 100], [100, 200]]
    assert luma_grid(frame)[0, 0] == 100 and luma_grid(frame).shape == (GRID, GRID)
