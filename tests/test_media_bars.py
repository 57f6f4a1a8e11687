"""Letterbox / pillarbox bars are cropped before embedding: on constructed frames, and on real
padded copies made with ffmpeg, whose cropped frames must look like the original's."""

import numpy as np
import pytest

from streams.config import Settings
from tooling.devset.samples import ffmpeg
from streams.media.bars import picture_box
from streams.params import BarParams

BARS = BarParams()
from streams.media.video import sample_frames


def _textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(30, 220, (height, width), dtype=np.uint8)


def test_a_frame_without_bars_is_left_whole():
    assert picture_box(_textured(100, 160), BARS) == (0, 100, 0, 160)


def test_letterbox_and_pillarbox_bars_are_found():
    frame = np.zeros((200, 300), np.uint8)
    frame[40:160, 60:240] = _textured(120, 180)
    assert picture_box(frame, BARS) == (40, 160, 60, 240)


def test_bars_of_any_flat_colour_are_found():
    frame = np.full((200, 200), 128, np.uint8)
    frame[50:150] = _textured(100, 200)
    assert picture_box(frame, BARS) == (50, 150, 0, 200)


def test_thin_borders_and_flat_frames_are_not_cropped():
    frame = np.zeros((200, 200), np.uint8)
    frame[3:197] = _textured(194, 200)  # a 3-pixel border: under BarParams.min_bar_share
    assert picture_box(frame, BARS) == (0, 200, 0, 200)
    assert picture_box(np.zeros((200, 200), np.uint8), BARS) == (0, 200, 0, 200)  # all "bar": no picture


@pytest.fixture(scope="module")
def padded_copies(media, tmp_path_factory):
    """world.mp4 (16:9) padded to a vertical 9:16 frame with black bars, and pillarboxed to 21:9."""
    directory = tmp_path_factory.mktemp("bars")
    source = str(media["world.mp4"])
    copies = {
        "vertical": ("scale=270:-2,pad=270:480:0:(oh-ih)/2:black", directory / "vertical.mp4"),
        "pillarbox": ("pad=630:270:(ow-iw)/2:0:0x303030", directory / "pillarbox.mp4"),
    }
    for video_filter, path in copies.values():
        ffmpeg("-i", source, "-t", "10", "-vf", video_filter, "-an", "-c:v", "libx264", "-preset", "veryfast",
               str(path))
    return {name: path for name, (_, path) in copies.items()}


@pytest.mark.parametrize("kind", ["vertical", "pillarbox"])
def test_padded_copies_are_cropped_back_to_the_original_picture(media, padded_copies, kind):
    settings = Settings()
    original = sample_frames(media["world.mp4"], settings)
    copy = sample_frames(padded_copies[kind], settings)
    count = min(len(original.pixels), len(copy.pixels))
    difference = np.abs(original.pixels[:count].astype(np.int16) - copy.pixels[:count].astype(np.int16)).mean()
    # Uncropped, the bars alone would differ by far more (a vertical copy is two-thirds bar).
    assert difference < 20, difference
