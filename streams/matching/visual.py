"""The visual side of matching: search the index with every view of a video's frames, align the
hits (streams.matching.alignment), and keep the matches that are distinctive.

Distinctive: frames that look like every frame of a reference (a fixed camera, a screen recording,
a static set) fit any time line through it, at a high similarity. What a copy has and such a look
has not is temporal structure: each aligned query frame resembles the reference frame on the line
more than the reference's frames away from it. This is the VSC22 baseline's score normalisation
(CSLS, as in the Image Similarity Challenge: sim(query, ref) - beta x sim(query, nearest
background frame)) with the same reference's off-line frames as the background:

    distinctiveness = mean over the aligned query frames of
                      on-line similarity - offline_beta x (offline_neighbour-th most similar off-line frame)

where the on-line frames lie within the alignment's tolerance of the line and the off-line ones
further than offline_window_steps sampling steps from it. A copy of moving footage scores ~0.3-0.6
(its off-line frames are other shots); a copy of a static shot a few hundredths (the exact frame
still beats its neighbours); the same fixed camera at another moment ~0 or below (the on-line
frame is one of many alike, and the off-line maximum is taken over many). The background is the
reference itself, not a bank of unrelated frames nor the index's other videos: it exists as soon as
the reference does (an empty index, the first videos), it is the background that a static look
matches equally well, and it never holds another copy of the same original (the index's other
videos do: normalising against them would erase a copy whose original is stored twice). See
`streams.evaluation.visual_study` for the measurement behind that choice.

A reference too short to have off-line frames (all of it within the window of the line) keeps
distinctiveness None: there the speed-edge and collapsed-line checks of frames_match remain.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from schemas.internal import FrameHalf, decode_array
from streams.index import VideoIndex
from streams.matching.alignment import align, frames_match, sampling_interval
from streams.params import AlignParams, MatchParams, SearchParams
from streams.values import FrameHit, VisualMatch


class QueryView(NamedTuple):
    """One way of looking at the query's frames, searched on its own; its hits align on their own."""

    embeddings: np.ndarray  # float32 [N, dim]
    timestamps: np.ndarray  # float32 [N]
    mirrored: bool = False
    region: bool = False
    rotation: int = 0

    def key(self) -> tuple[bool, bool, int]:
        return self.mirrored, self.region, self.rotation


def query_views(frames: FrameHalf) -> list[QueryView]:
    """The plain frames, the flipped ones, and the frames cropped to the video's active region (a
    picture-in-picture inset) when it has one. Region hits are their own candidates in the
    alignment (FrameHit.region): the verdict can say the inset matched."""
    timestamps = np.asarray(frames.timestamps, np.float32)
    views = [(frames.embeddings, timestamps, False, False), (frames.mirrored_embeddings, timestamps, True, False),
             (frames.region_embeddings, np.asarray(frames.region_timestamps, np.float32), False, True)]
    return [QueryView(decode_array(encoded, "float16", frames.dim).astype(np.float32), times, mirrored, region)
            for encoded, times, mirrored, region in views if encoded]


def search_views(views: list[QueryView], index: VideoIndex, params: SearchParams,
                 exclude_video_id: str | None = None) -> list[FrameHit]:
    """The stored frames nearest to each query frame of every view, but for the query's own (a
    replayed video whose frames were stored before its record must not match itself)."""
    hits = []
    for view in views:
        found = index.search_frames(view.embeddings, view.timestamps, limit=params.frame_neighbours,
                                    score_floor=params.frame_score_floor, mirrored=view.mirrored)
        hits += [hit._replace(region=view.region, rotation=view.rotation) for hit in found
                 if hit.video_id != exclude_video_id]
    return hits


def temporal_structure(match: VisualMatch, view: QueryView, ref_times: np.ndarray, ref_embeddings: np.ndarray,
                       query_duration: float, params: AlignParams) -> tuple[float, float] | None:
    """(mean off-line similarity, distinctiveness) of the match's query frames against the
    reference's frames (see the module's docstring); None when no aligned frame has both on-line
    and enough off-line reference frames."""
    if len(ref_times) == 0:
        return None
    inside = (view.timestamps >= match.query_segment.start - 1e-6) & (view.timestamps < match.query_segment.end)
    times, queries = view.timestamps[inside], view.embeddings[inside]
    if len(times) == 0:
        return None
    r_step = float(np.median(np.diff(ref_times))) if len(ref_times) > 1 else 1.0 / params.sample_fps
    step = max(sampling_interval(query_duration, params), r_step)
    similarity = queries @ ref_embeddings.T  # [n, m]: both unit-norm, cosine
    distance = np.abs(ref_times[None, :] - (match.speed * times[:, None] + match.offset))
    on_line = np.where(distance <= params.tolerance_steps * step + 1e-6, similarity, -np.inf).max(axis=1)
    off_line = np.where(distance > params.offline_window_steps * step, similarity, -np.inf)
    k = params.offline_neighbour
    if off_line.shape[1] < k:
        return None
    background = -np.partition(-off_line, k - 1, axis=1)[:, k - 1]  # the k-th most similar off-line frame
    usable = np.isfinite(on_line) & np.isfinite(background)
    if not usable.any():
        return None
    on_line, background = on_line[usable], background[usable]
    return float(background.mean()), float(np.mean(on_line - params.offline_beta * background))


def with_temporal_structure(matches: list[VisualMatch], views: list[QueryView], index: VideoIndex,
                            query_duration: float, params: AlignParams) -> list[VisualMatch]:
    """Each match with its off-line score and distinctiveness (the reference's frames read once)."""
    by_key = {view.key(): view for view in views}
    references: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    measured = []
    for match in matches:
        if match.video_id not in references:
            references[match.video_id] = index.get_frames(match.video_id)
        view = by_key.get((match.mirrored, match.region, match.rotation))
        structure = (temporal_structure(match, view, *references[match.video_id], query_duration, params)
                     if view is not None else None)
        if structure is not None:
            match = match._replace(offline_score=structure[0], distinctiveness=structure[1])
        measured.append(match)
    return measured


def visual_matches(frames: FrameHalf, index: VideoIndex, params: MatchParams,
                   exclude_video_id: str | None = None) -> list[VisualMatch]:
    """The stored videos whose frames match the query's (alignment.frames_match), best first,
    each with its temporal structure measured."""
    views = query_views(frames)
    hits = search_views(views, index, params.search, exclude_video_id)
    aligned = align(hits, query_duration=frames.duration, params=params.align)
    measured = with_temporal_structure(aligned, views, index, frames.duration, params.align)
    return [match for match in measured if frames_match(match, params.align)]
