"""Regions worth describing on their own: a picture-in-picture inset over another video, each half
of a split screen or side-by-side duet, the sharp centre of a vertical re-post filled with a
blurred copy of itself. A descriptor of the whole frame sees mostly the other picture; the frames
cropped to the region look like the original again. Pure numpy.

Found from the sampled frames' thumbnails (luma_grid, chroma_grid) by what makes two pictures laid
side by side differ from one picture: their common border is a straight edge that stays in place in
most frames while the pictures on both sides change (two unrelated pictures meet in a step almost
everywhere along it; one picture has such a step only where an object is, and a moving camera moves
it). An edge's strength at a line of the thumbnail is the median over frames of the difference
across it, and it is an edge where it stands well above the parallel lines nearby. Luma and colour
are tested apart, and either makes an edge: an inset over a background of like brightness, or over
busy texture whose luma steps drown its border's, still differs from it in hue almost everywhere.

Candidate rectangles are built from the lines along which much is edge (and the frame's own
borders), and kept when each side inside the frame is an edge along most of its length. Edges
alone suffice for a rectangle with three or four such sides (an inset); with one or two (an inset in
a corner, a half of a split screen, a horizontal band) they must be backed by a second cue across
them: the inside changes much more than the outside (an inset over a still background), is much
sharper (a blurred fill), or is another picture of the same kind next to it (a split line along
the whole frame with both sides moving and equally sharp). A rectangle whose inside barely changes
(a logo box, a caption banner, a lower third) is not a picture; one whose outside is flat and still
is a picture between bars (streams.media.bars crops those from every frame).

Several candidates may be proposed (both halves of a duet): searching a wrong crop costs one pass
of the descriptor over the sampled frames but cannot make a match by itself."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from streams.params import RegionParams


class Region(NamedTuple):
    """A rectangle as shares (0..1) of the picture's height and width."""

    top: float
    bottom: float
    left: float
    right: float

    @property
    def area(self) -> float:
        return (self.bottom - self.top) * (self.right - self.left)

    def common(self, other: Region) -> float:
        """The area both rectangles cover."""
        height = max(0.0, min(self.bottom, other.bottom) - max(self.top, other.top))
        width = max(0.0, min(self.right, other.right) - max(self.left, other.left))
        return height * width

    def iou(self, other: Region) -> float:
        common = self.common(other)
        return common / (self.area + other.area - common) if common > 0 else 0.0

    def overlap(self, other: Region) -> float:
        """The share of the smaller rectangle inside the other: 1 when one holds the other."""
        return self.common(other) / max(min(self.area, other.area), 1e-9)


def luma_grid(luma: np.ndarray, grid: int) -> np.ndarray:
    """One frame's luma (uint8 [H, W], H and W >= grid) as uint8 [grid, grid] block means."""
    height, width = luma.shape
    rows, cols = height // grid, width // grid
    if rows == 0 or cols == 0:
        raise ValueError(f"a frame of {height}x{width} is smaller than the {grid}-cell grid")
    blocks = luma[:rows * grid, :cols * grid].reshape(grid, rows, grid, cols)
    return blocks.mean(axis=(1, 3), dtype=np.float32).round().astype(np.uint8)


def chroma_grid(yuv: np.ndarray) -> np.ndarray:
    """One frame converted to planar yuv420p at 2G x 2G pixels (uint8 [3G, 2G]) as uint8 [2, G, G]:
    its two chroma planes (U, V), each G x G."""
    grid = yuv.shape[1] // 2
    return yuv[2 * grid:].reshape(2, grid, grid)


def activity(grids: np.ndarray) -> np.ndarray:
    """[G, G]: each cell's mean absolute luma change between consecutive frames' grids
    (luma [N, G, G], N >= 2)."""
    return np.abs(np.diff(grids.astype(np.float32), axis=0)).mean(axis=0)


class Cues(NamedTuple):
    """What the proposals are made from, all on the grid of G cells."""

    vertical: np.ndarray  # bool [G rows, G + 1 lines]: the line left of column x is an edge at that row
    horizontal: np.ndarray  # bool [G columns, G + 1 lines]: the line above row y is an edge at that column
    activity: np.ndarray  # float [G, G]: mean absolute change between consecutive frames
    sharpness: np.ndarray  # float [G, G]: mean absolute luma difference to the next cell right and below


def _edges(strength: np.ndarray, min_level: float, contrast: float, params: RegionParams) -> np.ndarray:
    """bool [along, lines + 2]: where the median step across an inner line (strength [along, lines])
    is contrast times that of the parallel lines nearby (counted at least min_level); the frame's
    border lines (first and last) are False."""
    along, lines = strength.shape
    padded = np.pad(strength, ((0, 0), (max(params.edge_near), max(params.edge_near))), mode="edge")
    start = max(params.edge_near)
    near = [padded[:, start + sign * offset:start + sign * offset + lines]
            for offset in params.edge_near for sign in (-1, 1)]
    level = np.maximum(np.median(np.stack(near), axis=0), min_level)
    edge = strength >= contrast * level
    return np.pad(edge, ((0, 0), (1, 1)))


def _step_edges(planes: np.ndarray, min_level: float, contrast: float,
                params: RegionParams) -> tuple[np.ndarray, np.ndarray]:
    """The vertical and horizontal edges (Cues) of planes (float [N, C, G, G]): the step across a
    line is the length of the C channels' differences."""
    across_columns = np.sqrt((np.diff(planes, axis=3) ** 2).sum(axis=1))  # [N, G, G - 1]
    across_rows = np.sqrt((np.diff(planes, axis=2) ** 2).sum(axis=1))  # [N, G - 1, G]
    return (_edges(np.median(across_columns, axis=0), min_level, contrast, params),
            _edges(np.median(across_rows, axis=0).T, min_level, contrast, params))


def _beside(changing: np.ndarray) -> np.ndarray:
    """bool [G, G + 1]: whether a cell next to each line between columns (changing: bool [G, G])
    is changing; False for the frame's border lines."""
    return np.pad(changing[:, 1:] | changing[:, :-1], ((0, 0), (1, 1)))


def cues(grids: np.ndarray, params: RegionParams) -> Cues:
    """The cues of a video's thumbnails, from at most params.max_frames of them, evenly spread:
    uint8 [N, G, G] of luma (luma_grid), or [N, 3, G, G] of luma and chroma (chroma_grid), N >= 2.
    A line is an edge where it stands out in luma or in colour (two pictures of equal brightness
    still differ in hue); how much cells change and how sharp they are is read from luma."""
    if len(grids) > params.max_frames:
        grids = grids[np.linspace(0, len(grids) - 1, params.max_frames).round().astype(int)]
    planes = grids.astype(np.float32).reshape(len(grids), -1, *grids.shape[-2:])
    values = planes[:, 0]
    vertical, horizontal = _step_edges(planes[:, :1], params.edge_min_level, params.edge_contrast, params)
    if planes.shape[1] > 1:
        colour_vertical, colour_horizontal = _step_edges(planes[:, 1:], params.chroma_min_level,
                                                         params.chroma_contrast, params)
        # Colour is flat within an object, so the still contours of a still shot (a bookcase
        # behind a speaker) stand out in it: a step in colour counts only where the picture on
        # one side of it changes between most samples, as at two pictures' border.
        changing = np.median(np.abs(np.diff(values, axis=0)), axis=0) >= params.colour_change  # [G, G]
        vertical |= colour_vertical & _beside(changing)
        horizontal |= colour_horizontal & _beside(changing.T)
    across_columns = np.abs(np.diff(values, axis=2))  # [N, G, G - 1]
    across_rows = np.abs(np.diff(values, axis=1))  # [N, G - 1, G]
    sharpness = (np.pad(across_columns, ((0, 0), (0, 0), (0, 1)))
                 + np.pad(across_rows, ((0, 0), (0, 1), (0, 0)))).mean(axis=0)
    return Cues(vertical, horizontal, activity(values), sharpness)


def _candidate_lines(edges: np.ndarray, params: RegionParams) -> np.ndarray:
    """Inner lines along which at least a shortest side's worth of cells is edge, the strongest
    first (at most params.max_lines), with the frame's two border lines."""
    size = edges.shape[0]
    counts = edges.sum(axis=0)
    lines = np.flatnonzero(counts >= params.min_side * size)
    lines = lines[np.argsort(-counts[lines], kind="stable")][:params.max_lines]
    return np.unique(np.concatenate([[0, size], lines]))


def _side_covers(edges: np.ndarray, lines: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """[starts, stops, lines]: the share of cells start..stop along each line that is edge; 1 for
    the frame's border lines (they need no edge), 0 for an empty span."""
    size = edges.shape[0]
    prefix = np.vstack([np.zeros((1, edges.shape[1])), np.cumsum(edges, axis=0)])[:, lines]  # [size + 1, lines]
    length = (stops[None, :] - starts[:, None]).astype(np.float32)
    counts = prefix[stops][None, :, :] - prefix[starts][:, None, :]
    cover = np.where(length[..., None] > 0, counts / np.maximum(length, 1)[..., None], 0.0)
    border = (lines == 0) | (lines == size)
    return np.where(border[None, None, :], 1.0, cover)


def _integral(values: np.ndarray) -> np.ndarray:
    return np.pad(values, ((1, 0), (1, 0))).cumsum(axis=0).cumsum(axis=1)


def _ends_cover(edges: np.ndarray, lines: np.ndarray, starts: np.ndarray, stops: np.ndarray,
                params: RegionParams) -> np.ndarray:
    """The edge cover of the ends (params.side_end of the length, at least 2 cells) of each side
    start..stop along its line that lie on the frame's border (1 elsewhere): a side must run up to
    the frame's border when the rectangle is open there, or a band of picture beside a still box
    (a lower third) would pass as the box's continuation to the border. An end inside the frame
    meets another side, whose own cover counts."""
    size = edges.shape[0]
    prefix = np.vstack([np.zeros((1, edges.shape[1])), np.cumsum(edges, axis=0)])
    end = np.maximum(2, np.round(params.side_end * (stops - starts))).astype(int)
    head = np.where(starts == 0, (prefix[starts + end, lines] - prefix[starts, lines]) / end, 1.0)
    tail = np.where(stops == size, (prefix[stops, lines] - prefix[stops - end, lines]) / end, 1.0)
    return np.minimum(head, tail)


def _inside_outside(prefix: np.ndarray, box, inside_cells: np.ndarray, outside_cells: np.ndarray):
    """The mean of a cue inside each box and outside it, from the cue's integral image."""
    top, bottom, left, right = box
    inside = prefix[bottom, right] - prefix[top, right] - prefix[bottom, left] + prefix[top, left]
    return inside / np.maximum(inside_cells, 1), (prefix[-1, -1] - inside) / np.maximum(outside_cells, 1)


def proposals(found: Cues, params: RegionParams) -> list[tuple[float, tuple[int, int, int, int]]]:
    """(score, (top, bottom, left, right) in cells, exclusive ends) of every rectangle whose inner
    sides are edges and whose cues say it is a picture, best first; the score is the sum of the
    inner sides' edge covers."""
    size = found.activity.shape[0]
    rows, columns = _candidate_lines(found.horizontal, params), _candidate_lines(found.vertical, params)
    # covers[t, b, l, r] of each side, from the lines' prefix sums.
    left_right = _side_covers(found.vertical, columns, rows, rows)  # [top, bottom, column line]
    top_bottom = _side_covers(found.horizontal, rows, columns, columns)  # [left, right, row line]
    t, b, l, r = np.meshgrid(np.arange(len(rows)), np.arange(len(rows)), np.arange(len(columns)),
                             np.arange(len(columns)), indexing="ij")
    top, bottom, left, right = rows[t], rows[b], columns[l], columns[r]
    height, width = bottom - top, right - left
    valid = (height > 0) & (width > 0)
    area = height * width / size ** 2
    valid &= (area >= params.min_area) & (area <= params.max_area)
    valid &= np.maximum(height, width) <= params.max_elongation * np.maximum(np.minimum(height, width), 1)
    sides = np.stack([left_right[t, b, l], left_right[t, b, r], top_bottom[l, r, t], top_bottom[l, r, b]])
    inner = np.stack([left > 0, right < size, top > 0, bottom < size])
    valid &= inner.any(axis=0) & np.all(~inner | (sides >= params.edge_cover), axis=0)
    picked = np.flatnonzero(valid)
    if not len(picked):
        return []
    top, bottom, left, right = (side.ravel()[picked] for side in (top, bottom, left, right))
    inner = inner.reshape(4, -1)[:, picked]
    score = (sides.reshape(4, -1)[:, picked] * inner).sum(axis=0)
    ends = np.stack([_ends_cover(found.vertical, left, top, bottom, params),
                     _ends_cover(found.vertical, right, top, bottom, params),
                     _ends_cover(found.horizontal, top, left, right, params),
                     _ends_cover(found.horizontal, bottom, left, right, params)])
    reaching = np.all(~inner | (ends >= params.edge_cover), axis=0)
    moving = found.activity >= params.still
    dead = ~moving & (found.sharpness < params.flat)
    inside_cells = (bottom - top) * (right - left)
    outside_cells = size ** 2 - inside_cells
    (active, active_out), (moving_in, moving_out), (sharp, sharp_out), (_, dead_out) = (
        _inside_outside(_integral(cue.astype(np.float32)), (top, bottom, left, right), inside_cells, outside_cells)
        for cue in (found.activity, moving, found.sharpness, dead))
    sides = inner.sum(axis=0)
    backed = ((sides >= 3) | (active >= params.min_contrast * np.maximum(active_out, 1e-3))
              | (sharp >= params.sharp_contrast * np.maximum(sharp_out, 1e-3))
              | ((sides == 1) & (moving_out >= params.min_moving_share)))
    keep = reaching & (moving_in >= params.min_moving_share) & (dead_out < params.bar_share) & backed
    order = sorted(np.flatnonzero(keep), key=lambda index: (-score[index], -inside_cells[index]))
    return [(float(score[index]), (int(top[index]), int(bottom[index]), int(left[index]), int(right[index])))
            for index in order]


def active_regions(grids: np.ndarray, params: RegionParams) -> list[Region]:
    """The regions worth searching on their own (see the module's docstring), best first, at most
    params.max_regions, none overlapping another by more than params.max_overlap (IoU), from the
    whole frames' thumbnails (cues: luma [N, G, G], or luma and chroma [N, 3, G, G]); [] for too
    few frames."""
    if len(grids) < params.min_frames:
        return []
    size = grids.shape[-1]
    chosen: list[Region] = []
    for _, (top, bottom, left, right) in proposals(cues(grids, params), params):
        region = Region(top / size, bottom / size, left / size, right / size)
        if all(region.overlap(other) <= params.max_overlap for other in chosen):
            chosen.append(region)
        if len(chosen) == params.max_regions:
            break
    margin = params.margin
    return [Region(min(1.0, r.top + margin), max(0.0, r.bottom - margin), min(1.0, r.left + margin),
                   max(0.0, r.right - margin)) for r in chosen]
