"""Soundtrack windows for the index: finding, among every stored video, those whose soundtrack
shares a stretch with the query's, even when no frame matches. Pure.

A window is WINDOW_ITEMS consecutive Chromaprint items (about 4 s, 1024 bits) as a ±1 vector, so
that the dot product of two windows is 1024 - 2 x their Hamming distance. Stored windows start
every STORED_HOP items, query windows at every item, so that one query window lines up with a
stored one to within an item. Hits vote for (video, offset difference): a copy's windows agree
on one difference. A window whose neighbours span many videos (a trending track under thousands
of clips) counts less, split among them, so that it cannot crowd out the real match."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import numpy as np

from streams.audio.match import ITEM_BITS, informative
from streams.index import AUDIO_WINDOW_BITS, AudioHit

WINDOW_BITS = AUDIO_WINDOW_BITS
WINDOW_ITEMS = WINDOW_BITS // ITEM_BITS
STORED_HOP = 8
QUERY_HOP = 1
# Windows with fewer informative items than this (mostly silence) are neither stored nor searched.
MIN_INFORMATIVE_SHARE = 0.75
# A hit is a window pair with a bit error rate at most this (edits measured <= 0.25, other
# recordings >= 0.35 over 4 s windows).
WINDOW_MAX_BER = 0.3
# Neighbours fetched per query window; a window whose hits name more videos than
# COMMON_WINDOW_VIDEOS is a common sound and its vote is split among them.
WINDOW_NEIGHBOURS = 16
COMMON_WINDOW_VIDEOS = 4
# Offset differences are binned to this many seconds when voting.
OFFSET_BIN_SECONDS = 1.0
# A candidate needs this much (weighted) vote from distinct query windows.
MIN_VOTES = 3.0


class AudioCandidate(NamedTuple):
    video_id: str
    votes: float  # weighted count of query windows agreeing on one offset difference
    offset: float  # seconds: reference_time ≈ query_time + offset


def window_score_floor() -> float:
    return WINDOW_BITS * (1 - 2 * WINDOW_MAX_BER)


def audio_windows(items: np.ndarray, items_per_second: float, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """±1 float32 windows [N, WINDOW_BITS] every `hop` items, and their start times in seconds;
    mostly static windows (silence) are left out."""
    items = np.asarray(items, np.uint32)
    if len(items) < WINDOW_ITEMS:
        return np.zeros((0, WINDOW_BITS), np.float32), np.zeros(0, np.float32)
    starts = np.arange(0, len(items) - WINDOW_ITEMS + 1, hop)
    share = np.convolve(informative(items).astype(np.float64), np.ones(WINDOW_ITEMS), mode="valid")[starts]
    starts = starts[share >= MIN_INFORMATIVE_SHARE * WINDOW_ITEMS]
    windows = items[starts[:, None] + np.arange(WINDOW_ITEMS)]
    bits = (windows[:, :, None] >> np.arange(ITEM_BITS, dtype=np.uint32)) & 1
    return (bits.reshape(len(starts), WINDOW_BITS).astype(np.float32) * 2 - 1), (starts / items_per_second).astype(np.float32)


def stored_windows(items: np.ndarray, items_per_second: float) -> tuple[np.ndarray, np.ndarray]:
    return audio_windows(items, items_per_second, STORED_HOP)


def query_windows(items: np.ndarray, items_per_second: float) -> tuple[np.ndarray, np.ndarray]:
    return audio_windows(items, items_per_second, QUERY_HOP)


def audio_candidates(hits: list[AudioHit], *, exclude: str | None = None) -> list[AudioCandidate]:
    """Stored videos with at least MIN_VOTES (weighted) query windows agreeing on one offset
    difference, best first."""
    videos_per_window: dict[float, set[str]] = defaultdict(set)
    for hit in hits:
        videos_per_window[hit.query_offset].add(hit.video_id)
    # One vote per query window and (video, offset bin), split when the window is common.
    ballots: dict[tuple[str, int], dict[float, float]] = defaultdict(dict)
    for hit in hits:
        if hit.video_id == exclude:
            continue
        spread = len(videos_per_window[hit.query_offset])
        weight = 1.0 if spread <= COMMON_WINDOW_VIDEOS else COMMON_WINDOW_VIDEOS / spread
        difference = int(round((hit.ref_offset - hit.query_offset) / OFFSET_BIN_SECONDS))
        ballots[(hit.video_id, difference)][hit.query_offset] = weight
    best: dict[str, AudioCandidate] = {}
    for (video_id, difference), weights in ballots.items():
        # Neighbouring bins are one offset split by rounding: a query window counts once.
        merged = {**ballots.get((video_id, difference - 1), {}), **ballots.get((video_id, difference + 1), {}),
                  **weights}
        votes = sum(merged.values())
        if votes >= MIN_VOTES and (video_id not in best or votes > best[video_id].votes):
            best[video_id] = AudioCandidate(video_id, votes, difference * OFFSET_BIN_SECONDS)
    return sorted(best.values(), key=lambda candidate: -candidate.votes)
