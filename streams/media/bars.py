"""Letterbox and pillarbox bars: flat borders that re-uploads add (a 16:9 film padded to a
vertical 9:16 frame, a 4:3 clip pillarboxed in 16:9). A descriptor of the padded frame sees mostly
bar; cropping to the picture inside makes the copy look like its original again. Pure numpy."""

from __future__ import annotations

import numpy as np

from streams.params import BarParams


def _flat_run(means: np.ndarray, spreads: np.ndarray, params: BarParams) -> int:
    """How many leading lines are flat and of the first line's level, from each line's luma mean
    and standard deviation along it."""
    bar = (spreads <= params.max_std) & (np.abs(means - means[0]) <= params.max_luma_distance)
    return len(bar) if bar.all() else int(np.argmin(bar))


def _bar_depth(means: np.ndarray, spreads: np.ndarray, params: BarParams) -> int:
    """How many leading lines are bar, from each line's luma mean and standard deviation. Compression
    smears a bar's inner edge, and the edge of a bar nested inside it, over a few lines: a run may
    start after up to params.seam of them."""
    seam = params.seam
    runs = (start + run for start in range(min(seam, len(means)))
            if (run := _flat_run(means[start:], spreads[start:], params)) > seam)
    return max(runs, default=0)


def _trimmed(before: int, after: int, length: int, params: BarParams) -> tuple[int, int]:
    if length - before - after < params.min_picture_share * length:
        return 0, length
    before = before if before >= params.min_bar_share * length else 0
    after = after if after >= params.min_bar_share * length else 0
    return before, length - after


def picture_box(luma: np.ndarray, params: BarParams) -> tuple[int, int, int, int]:
    """(top, bottom, left, right): the bounds of the picture inside the flat bars of one frame
    (uint8 luma [H, W]); the whole frame when it has none.

    Decided per frame, from its content only: a frame and its padded copy lose the same dark
    edges, so they still look alike after cropping."""
    pixels = luma.astype(np.float32)
    top, bottom, left, right = 0, pixels.shape[0], 0, pixels.shape[1]
    # Bars can nest (a letterboxed film padded again in another colour): peel until none is left.
    while True:
        inside = pixels[top:bottom, left:right]
        height, width = inside.shape
        # Each row's and column's statistics once, read from both ends (not once per side and seam).
        rows, row_spreads = inside.mean(axis=1), inside.std(axis=1)
        columns, column_spreads = inside.mean(axis=0), inside.std(axis=0)
        cut_top, cut_bottom = _trimmed(_bar_depth(rows, row_spreads, params),
                                       _bar_depth(rows[::-1], row_spreads[::-1], params), height, params)
        cut_left, cut_right = _trimmed(_bar_depth(columns, column_spreads, params),
                                       _bar_depth(columns[::-1], column_spreads[::-1], params), width, params)
        if (cut_top, cut_bottom, cut_left, cut_right) == (0, height, 0, width):
            return top, bottom, left, right
        top, bottom, left, right = top + cut_top, top + cut_bottom, left + cut_left, left + cut_right
