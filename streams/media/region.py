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
and would cost a second pass on a very common kind of video.

A background that moves almost as much as the inset (a fast colour drift) leaves the activity
contrast too low and the rectangle loose; then the inset's sides, straight edges that stay in place
in every frame while both pictures change, fix the rectangle, which is taken at a lower contrast."""

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
# The second cue, for an inset over a background that moves almost as much: its sides are edges that
# stay in place while the pictures on both sides change. An edge's strength at a grid line is the
# median over frames of the absolute luma difference across it (a passing contour is not there in
# most frames). In the development set only the two inset copies have four such sides (each side's
# cover 0.65-1.0); letterbox bars, logo boxes, banners and intro cards have two or three at most.
EDGE_SNAP = 8  # cells each side of the activity rectangle is moved at most to the strongest edge line
EDGE_NEAR = range(2, 6)  # offsets (cells) of the parallel lines an edge is compared with, on both sides
EDGE_CONTRAST = 3.0  # a side's cell is on an edge when its strength is this many times the nearby lines' median
EDGE_MIN_LEVEL = 1.0  # luma steps: the nearby lines' level counted at least (a flat background has none)
EDGE_COVER = 0.6  # share of each side's cells that must be on the edge
EDGE_MIN_CONTRAST = 1.5  # activity inside / outside of a rectangle with four edges (the set's insets: 1.9 and 3.1)
EDGE_MIN_SIDE_CONTRAST = 1.3  # across each of its inner sides (the set's insets: 1.4 at least, over a gradient)
EDGE_GAP = 1  # cells on each side of an edge left out of the inner-side check: the inset's own frame


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


def _side_ok(inside: np.ndarray, outside: np.ndarray | None, active_level: float, contrast: float) -> bool:
    """An inner side is an inset's edge: active all along, and much more than just across it."""
    if (inside > active_level).mean() < MIN_SIDE_ACTIVE:
        return False
    return outside is None or inside.mean() >= contrast * max(outside.mean(), 1e-3)


def _sides_ok(cells: np.ndarray, box: tuple[int, int, int, int], active_level: float, contrast: float,
              gap: int) -> bool:
    """Each inner side passes _side_ok, comparing SIDE_CELLS cells each side of it, gap cells away."""
    top, bottom, left, right = box
    size = cells.shape[0]
    k, g = SIDE_CELLS, gap
    band_rows, band_cols = slice(top + g, bottom - g), slice(left + g, right - g)
    sides = [
        (cells[top + g:top + g + k, band_cols], cells[max(0, top - g - k):top - g, band_cols] if top - g > 0 else None),
        (cells[bottom - g - k:bottom - g, band_cols], cells[bottom + g:bottom + g + k, band_cols] if bottom + g < size else None),
        (cells[band_rows, left + g:left + g + k], cells[band_rows, max(0, left - g - k):left - g] if left - g > 0 else None),
        (cells[band_rows, right - g - k:right - g], cells[band_rows, right + g:right + g + k] if right + g < size else None),
    ]
    return all(_side_ok(inside, outside, active_level, contrast) for inside, outside in sides)


def edge_strength(grids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(across vertical lines, across horizontal lines), both [GRID along the line, GRID - 1 lines]:
    the median over frames of the absolute luma difference between the cells either side of each
    grid line (uint8 [N, GRID, GRID] grids)."""
    values = grids.astype(np.float32)
    vertical = np.median(np.abs(np.diff(values, axis=2)), axis=0)
    horizontal = np.median(np.abs(np.diff(values, axis=1)), axis=0).T
    return vertical, horizontal


def _edge_cover(strength: np.ndarray, line: int, start: int, stop: int) -> float:
    """The share of cells start..stop along a side at line (0 < line < GRID: between cells line - 1
    and line) that stand out from the parallel lines nearby: how much of the side is an edge."""
    if not 0 < line < GRID or stop <= start:
        return 0.0
    column = line - 1
    near = [column + sign * offset for offset in EDGE_NEAR for sign in (-1, 1) if 0 <= column + sign * offset < GRID - 1]
    level = np.maximum(np.median(strength[start:stop][:, near], axis=1), EDGE_MIN_LEVEL)
    return float((strength[start:stop, column] >= EDGE_CONTRAST * level).mean())


def _snap(strength: np.ndarray, line: int, start: int, stop: int) -> int:
    """The line within EDGE_SNAP of line that is most of an edge along start..stop."""
    lines = range(max(1, line - EDGE_SNAP), min(GRID - 1, line + EDGE_SNAP) + 1)
    return max(lines, key=lambda candidate: _edge_cover(strength, candidate, start, stop))


def _edge_box(grids: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The activity rectangle's sides moved onto the persistent edges nearby, or None unless all four
    sides are such edges inside the frame (a frame's own border is no edge: bars are bars.py's)."""
    vertical, horizontal = edge_strength(grids)
    top, bottom, left, right = box
    left, right = _snap(vertical, left, top, bottom), _snap(vertical, right, top, bottom)
    top, bottom = _snap(horizontal, top, left, right), _snap(horizontal, bottom, left, right)
    covers = (_edge_cover(vertical, left, top, bottom), _edge_cover(vertical, right, top, bottom),
              _edge_cover(horizontal, top, left, right), _edge_cover(horizontal, bottom, left, right))
    return (top, bottom, left, right) if min(covers) >= EDGE_COVER else None


def _inset(cells: np.ndarray, box: tuple[int, int, int, int], contrast: float, side_contrast: float,
           gap: int) -> bool:
    """The rectangle looks like an inset: a clear part of the frame, contrast times as active as its
    surroundings, and side_contrast times across each inner side."""
    top, bottom, left, right = box
    height, width = bottom - top, right - left
    if height <= 0 or width <= 0:
        return False
    area = height * width / cells.size
    if not MIN_AREA <= area <= MAX_AREA or max(height / width, width / height) > MAX_ELONGATION:
        return False
    inside = np.zeros(cells.shape, bool)
    inside[top:bottom, left:right] = True
    outside = float(cells[~inside].mean())
    if cells[inside].mean() < contrast * max(outside, 1e-3):
        return False
    if (height == GRID or width == GRID) and outside < STILL:
        return False  # a picture between still bars: streams.media.bars crops those from every frame
    return _sides_ok(cells, box, float(cells.mean()), side_contrast, gap)


def active_region(grids: np.ndarray) -> Region | None:
    """The inset where the picture changes (see the module's docstring), from the whole frames'
    luma grids (uint8 [N, GRID, GRID], luma_grid), or None: too few frames, nothing moves, it
    moves everywhere, or not up to a rectangle's sides. An inset over a background that moves
    almost as much is taken at a lower contrast when its four sides are persistent edges."""
    if len(grids) < MIN_FRAMES:
        return None
    cells = activity(grids)
    typical = float(cells.mean())
    if typical <= 0:
        return None
    box = _max_sum_rectangle(cells - typical)
    if not _inset(cells, box, MIN_CONTRAST, MIN_SIDE_CONTRAST, gap=0):
        box = _edge_box(grids, box)
        if box is None or not _inset(cells, box, EDGE_MIN_CONTRAST, EDGE_MIN_SIDE_CONTRAST, gap=EDGE_GAP):
            return None
    top, bottom, left, right = box
    return Region(
        top=min(1.0, top / GRID + MARGIN), bottom=max(0.0, bottom / GRID - MARGIN),
        left=min(1.0, left / GRID + MARGIN), right=max(0.0, right / GRID - MARGIN),
    )
