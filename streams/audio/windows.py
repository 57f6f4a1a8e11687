"""Soundtrack windows for the index: finding, among every stored video, those whose soundtrack
shares a stretch with the query's, even when no frame matches. Pure.

A window is WINDOW_ITEMS consecutive Chromaprint items (about 4 s, 1024 bits) as a ±1 vector, so
that the dot product of two windows is 1024 - 2 x their Hamming distance. Stored windows start
every STORED_HOP items, query windows at every item, so that one query window lines up with a
stored one to within an item. Hits vote for (video, offset difference): a copy's windows agree
on one difference. A window whose neighbours span many videos (a trending track under thousands
of clips) counts less, split among them, so that it cannot crowd out the real match.

A track shorter than one window (a clip of under ~6.6 s of sound) is represented by its items
(its first and last SHORT_CHUNK_ITEMS) in a window padded with zeros, at each of STORED_HOP
placements: the dot product then counts the agreeing bits of its items alone. A short query
searched so lines up with a stored window for any offset, and each such hit is a candidate by
itself (the soundtrack comparison that follows decides, with its significance test). A short
stored track is stored so too: without it, the most common upload (a 4-6 s clip) had no window
in the index at all, and a later video over its sound could never find it by sound alone; a
longer query's windows, one per item, meet each of its placements, so its hits agree on one
offset as a long track's would (its padded windows are scaled, so that the same score floor
holds for a full window and a padded one)."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import numpy as np

from streams.audio.match import ITEM_BITS, informative
from streams.index import AUDIO_WINDOW_BITS, AudioHit, VideoIndex
from streams.params import AudioParams

WINDOW_BITS = AUDIO_WINDOW_BITS
WINDOW_ITEMS = WINDOW_BITS // ITEM_BITS
STORED_HOP = 8
QUERY_HOP = 1
# A short query's stretch fits the window at every one of the STORED_HOP placements.
SHORT_CHUNK_ITEMS = WINDOW_ITEMS - STORED_HOP + 1


class AudioCandidate(NamedTuple):
    video_id: str
    votes: float  # weighted count of query windows agreeing on one offset difference
    offset: float  # seconds: reference_time ≈ query_time + offset


def window_score_floor(items: int, params: AudioParams) -> float:
    """The dot product of a window pair over `items` items at params.window_max_ber."""
    return items * ITEM_BITS * (1 - 2 * params.window_max_ber)


def _plus_minus(windows: np.ndarray) -> np.ndarray:
    """[N, items] uint32 -> [N, items * 32] ±1 float32."""
    bits = (windows[:, :, None] >> np.arange(ITEM_BITS, dtype=np.uint32)) & 1
    return bits.reshape(len(windows), windows.shape[1] * ITEM_BITS).astype(np.float32) * 2 - 1


def _chunks(items: np.ndarray, size: int, hop: int, params: AudioParams) -> np.ndarray:
    """Starts of the stretches of `size` items every `hop` that are mostly informative."""
    starts = np.arange(0, len(items) - size + 1, hop)
    mask = informative(items, params.static_run).astype(np.float64)
    share = np.convolve(mask, np.ones(size), mode="valid")[starts]
    return starts[share >= params.window_min_informative_share * size]


def audio_windows(items: np.ndarray, items_per_second: float, hop: int,
                  params: AudioParams) -> tuple[np.ndarray, np.ndarray]:
    """±1 float32 windows [N, WINDOW_BITS] every `hop` items, and their start times in seconds;
    mostly static windows (silence) are left out."""
    items = np.asarray(items, np.uint32)
    if len(items) < WINDOW_ITEMS:
        return np.zeros((0, WINDOW_BITS), np.float32), np.zeros(0, np.float32)
    starts = _chunks(items, WINDOW_ITEMS, hop, params)
    windows = _plus_minus(items[starts[:, None] + np.arange(WINDOW_ITEMS)])
    return windows, (starts / items_per_second).astype(np.float32)


def stored_windows(items: np.ndarray, items_per_second: float, params: AudioParams) -> tuple[np.ndarray, np.ndarray]:
    """The windows the index keeps: every STORED_HOP items, or a short track's padded windows,
    scaled by WINDOW_ITEMS / its items so that a full query window's dot product with one is
    1024 x (1 - 2 BER over those items), as with a full stored window: one score floor serves both."""
    if len(items) < WINDOW_ITEMS:
        windows, offsets, size = padded_windows(items, items_per_second, params)
        return windows * np.float32(WINDOW_ITEMS / size), offsets
    return audio_windows(items, items_per_second, STORED_HOP, params)


def padded_windows(items: np.ndarray, items_per_second: float,
                   params: AudioParams) -> tuple[np.ndarray, np.ndarray, int]:
    """A track shorter than a window: its first and last SHORT_CHUNK_ITEMS items (all of them when
    fewer) at each of STORED_HOP placements in a zero-padded window; the offsets are where the
    window would start in the track (negative when the placement is not 0), and the stretch's
    length in items. Empty under params.min_match_items items."""
    items = np.asarray(items, np.uint32)
    size = min(len(items), SHORT_CHUNK_ITEMS)
    empty = np.zeros((0, WINDOW_BITS), np.float32), np.zeros(0, np.float32), size
    if size < params.min_match_items:
        return empty
    starts = [start for start in sorted({0, len(items) - size}) if start in _chunks(items, size, 1, params)]
    if not starts:
        return empty
    stretches = _plus_minus(items[np.asarray(starts)[:, None] + np.arange(size)])
    windows = np.zeros((len(starts) * STORED_HOP, WINDOW_BITS), np.float32)
    offsets = np.zeros(len(windows), np.float32)
    for row, (start, stretch) in enumerate((s, w) for s, w in zip(starts, stretches) for _ in range(STORED_HOP)):
        placement = row % STORED_HOP
        windows[row, placement * ITEM_BITS:(placement + size) * ITEM_BITS] = stretch
        offsets[row] = (start - placement) / items_per_second
    return windows, offsets, size


def window_hits(index: VideoIndex, items: np.ndarray, items_per_second: float, params: AudioParams
                ) -> tuple[list[AudioHit], float]:
    """The stored windows nearest to the query's, and the votes a candidate needs from them:
    windows at every item of a query at least a window long (params.window_min_votes of them must
    agree on an offset), else the short query's padded windows (one hit is a candidate)."""
    windows, offsets = audio_windows(items, items_per_second, QUERY_HOP, params)
    if len(windows):
        return index.search_audio(windows, offsets, limit=params.window_neighbours,
                                  score_floor=window_score_floor(WINDOW_ITEMS, params)), params.window_min_votes
    windows, offsets, size = padded_windows(items, items_per_second, params)
    if not len(windows):
        return [], params.window_min_votes
    return index.search_audio(windows, offsets, limit=params.window_neighbours,
                              score_floor=window_score_floor(size, params)), 1.0


def audio_candidates(hits: list[AudioHit], params: AudioParams, *, exclude: str | None = None,
                     min_votes: float | None = None) -> list[AudioCandidate]:
    """Stored videos with at least min_votes (params.window_min_votes unless given) weighted query
    windows agreeing on one offset difference, best first."""
    min_votes = params.window_min_votes if min_votes is None else min_votes
    videos_per_window: dict[float, set[str]] = defaultdict(set)
    for hit in hits:
        videos_per_window[hit.query_offset].add(hit.video_id)
    # One vote per query window and (video, offset bin), split when the window is common.
    ballots: dict[tuple[str, int], dict[float, float]] = defaultdict(dict)
    for hit in hits:
        if hit.video_id == exclude:
            continue
        spread = len(videos_per_window[hit.query_offset])
        common = params.common_window_videos
        weight = 1.0 if spread <= common else common / spread
        difference = int(round((hit.ref_offset - hit.query_offset) / params.window_offset_bin_seconds))
        ballots[(hit.video_id, difference)][hit.query_offset] = weight
    best: dict[str, AudioCandidate] = {}
    for (video_id, difference), weights in ballots.items():
        # Neighbouring bins are one offset split by rounding: a query window counts once.
        merged = {**ballots.get((video_id, difference - 1), {}), **ballots.get((video_id, difference + 1), {}),
                  **weights}
        votes = sum(merged.values())
        if votes >= min_votes and (video_id not in best or votes > best[video_id].votes):
            best[video_id] = AudioCandidate(video_id, votes, difference * params.window_offset_bin_seconds)
    return sorted(best.values(), key=lambda candidate: -candidate.votes)
