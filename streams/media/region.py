"""The active region of a video: the rectangle where the picture changes while the rest stays
still or drifts slowly — a picture-in-picture inset over a background, a clip framed inside a
template. A descriptor of the whole frame sees mostly background; the frames cropped to the region
look like the inset's original again. Pure numpy.

Found from the sampled frames at once, on a coarse luma grid: each cell's activity is its mean
absolute change between consecutive samples (scene cuts and motion inside an inset change every
cell of it; a slowly moving background changes little between samples a second apart). The
rectangle is the one with the most activity above the frame's typical level (a maximum-sum
sub-rectangle), and it is taken only when it looks like an inset: a clear part of the frame, far
more active than its surroundings, and with activity jumping across each of its inner sides along
the whole side. A moving person in front of a still background (a talking head) is active in a
blob, not up to straight sides, and is left alone: cropping it would only zoom in on the person,
and would cost a second pass on a very common kind of video."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

GRID = 56  # cells per side of the coarse luma grid
MIN_FRAMES = 4  # fewer samples than this say too little about what moves
MIN_AREA = 0.10  # the region's share of the frame: smaller insets are too small to describe
MAX_AREA = 0.70  # larger: it is the picture itself, with a still corner or a logo
MIN_CONTRAST = 2.0  # mean activity inside / outside (a moving gradient background: 2.2-5 times less than its inset)
MIN_SIDE_CONTRAST = 2.0  # along each inner side: activity just inside / just outside
MIN_SIDE_ACTIVE = 0.6  # share of each inner side's cells that are active
SIDE_CELLS = 2  # cells on each side of an edge compared
MAX_ELONGATION = 4.0  # height share / width share (or the inverse): a thin band is a caption, not a picture
STILL = 1.0  # mean activity below which the surroundings do not move at all
MARGIN = 0.01  # the crop is pulled in this share of the frame on each side, off the inset's frame


class Region(NamedTuple):
    """A rectangle as shares (0..1) of the picture's height and width."""

    top: float
    bottom: float
    left: float
    right: float

    @property
    def area(self) -> float:
        return (self.bottom - self.top) * (self.right - self.left)


def luma_grid(luma: np.ndarray) -> np.ndarray:
    """One frame's luma (uint8 [H, W], H and W >= GRID) as uint8 [GRID, GRID] block means."""
    height, width = luma.shape
    rows, cols = height // GRID, width // GRID
    if rows == 0 or cols == 0:
        raise ValueError(f"a frame of {height}x{width} is smaller than the {GRID}-cell grid")
    blocks = luma[:rows * GRID, :cols * GRID].reshape(GRID, rows, GRID, cols)
    return blocks.mean(axis=(1, 3), dtype=np.float32).round().astype(np.uint8)


def activity(grids: np.ndarray) -> np.ndarray:
    """[GRID, GRID]: each cell's mean absolute luma change between consecutive frames' grids
    (uint8 [N, GRID, GRID], N >= 2)."""
    return np.abs(np.diff(grids.astype(np.float32), axis=0)).mean(axis=0)


def _max_sum_rectangle(values: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), exclusive ends: the sub-rectangle with the largest sum."""
    height, width = values.shape
    prefix = np.vstack([np.zeros((1, width)), np.cumsum(values, axis=0)])
    tops, bottoms = np.triu_indices(height + 1, k=1)
    columns = prefix[bottoms] - prefix[tops]  # [pairs, width]: column sums of each row band
    # Kadane for all bands at once: the best sum ending at column j is C_j - min_{i<=j} C_{i-1}.
    running = np.hstack([np.zeros((len(columns), 1)), np.cumsum(columns, axis=1)])
    lowest = np.minimum.accumulate(running[:, :-1], axis=1)
    gains = running[:, 1:] - lowest
    band, right = np.unravel_index(int(np.argmax(gains)), gains.shape)
    left = int(np.argmin(running[band, :right + 1]))
    return int(tops[band]), int(bottoms[band]), left, int(right) + 1


def _side_ok(inside: np.ndarray, outside: np.ndarray | None, active_level: float) -> bool:
    """An inner side is an inset's edge: active all along, and much more than just across it."""
    if (inside > active_level).mean() < MIN_SIDE_ACTIVE:
        return False
    return outside is None or inside.mean() >= MIN_SIDE_CONTRAST * max(outside.mean(), 1e-3)


def _sides_ok(cells: np.ndarray, box: tuple[int, int, int, int], active_level: float) -> bool:
    top, bottom, left, right = box
    size = cells.shape[0]
    k = SIDE_CELLS
    band_rows, band_cols = slice(top, bottom), slice(left, right)
    sides = [
        (cells[top:top + k, band_cols], cells[max(0, top - k):top, band_cols] if top > 0 else None),
        (cells[bottom - k:bottom, band_cols], cells[bottom:bottom + k, band_cols] if bottom < size else None),
        (cells[band_rows, left:left + k], cells[band_rows, max(0, left - k):left] if left > 0 else None),
        (cells[band_rows, right - k:right], cells[band_rows, right:right + k] if right < size else None),
    ]
    return all(_side_ok(inside, outside, active_level) for inside, outside in sides)


def active_region(grids: np.ndarray) -> Region | None:
    """The inset where the picture changes (see the module's docstring), from the whole frames'
    luma grids (uint8 [N, GRID, GRID], luma_grid), or None: too few frames, nothing moves, it
    moves everywhere, or not up to a rectangle's sides."""
    if len(grids) < MIN_FRAMES:
        return None
    cells = activity(grids)
    typical = float(cells.mean())
    if typical <= 0:
        return None
    box = _max_sum_rectangle(cells - typical)
    top, bottom, left, right = box
    area = (bottom - top) * (right - left) / cells.size
    height, width = bottom - top, right - left
    if not MIN_AREA <= area <= MAX_AREA or max(height / width, width / height) > MAX_ELONGATION:
        return None
    inside = np.zeros(cells.shape, bool)
    inside[top:bottom, left:right] = True
    outside = float(cells[~inside].mean())
    if cells[inside].mean() < MIN_CONTRAST * max(outside, 1e-3):
        return None
    if (height == GRID or width == GRID) and outside < STILL:
        return None  # a picture between still bars: streams.media.bars crops those from every frame
    if not _sides_ok(cells, box, active_level=typical):
        return None
    return Region(
        top=min(1.0, top / GRID + MARGIN), bottom=max(0.0, bottom / GRID - MARGIN),
        left=min(1.0, left / GRID + MARGIN), right=max(0.0, right / GRID - MARGIN),
    )
