"""Temporal alignment of frame hits: which stored videos the query copies, where, and how fast.

Pure: no I/O. The evidence is an aligned segment (vsc2022-style localisation: offset voting, a
fitted time line and a monotone chain), never a bag of frames; the rules are short and explicit
(vpdq-style). Input: the nearest stored frames of each query frame (FrameHit), from the plain
query and, when the caller searched with flipped frames too, from the mirrored one, and when the
query has an active region (a picture-in-picture inset), from its frames cropped to it.

The rules, in order:

1. Common frames count less. A query frame whose neighbours span k distinct videos (title cards,
   logos, a channel's intro) weighs  w = min(1, max(COMMON_FRAME_VIDEOS, k_typical) / k),  where
   k_typical is the median k over all the query's frames (frames without hits count as k = 0), so
   that every frame of a popular video, stored many times, is not penalised for it.
2. Candidates: one per (video, mirrored, region): a view's hits never mix with another's, so a
   match says which view found it. Each hit is a point (q, r): query time, reference time.
3. Voting: for each speed of a log-spaced grid from SPEED_MIN to SPEED_MAX (SPEED_STEPS values,
   symmetric around 1.0, about 1 % apart), each point votes w * similarity for the offset
   r - speed * q (windows two tolerances wide; a query frame votes once per window). The peak
   seeds a line  r = speed * q + offset.
4. Chain and fit: among the points near the line (within the tolerance, TOLERANCE_STEPS sampling
   steps), a monotone chain (dynamic programming: at most one hit per query frame, reference
   times never going back, gaps beyond GAP_FREE_STEPS cost GAP_COST per step and gaps beyond
   MAX_GAP_STEPS break the chain) maximises the sum of w * similarity; a weighted least-squares
   fit of the chain gives speed (clamped to the grid's range) and offset (median residual).
   Repeated FIT_ROUNDS times; chains shorter than MIN_SPAN_STEPS keep the voted speed.
5. A chain is a match when its mean similarity >= settings.visual_match_score and both its frame
   count and its weighted frame count (sum of w) >= settings.visual_min_aligned_frames.
6. The query span of a match is taken out of its candidate and the next peak is tried (at most
   MAX_PEAKS per candidate; a peak below PEAK_MIN_FRACTION of the smallest possible match stops
   the search): a compilation gives one match per source and per segment.
7. Per video, a match whose query segment overlaps a stronger match of the same video by more than
   OVERLAP_DROP of the shorter one is dropped (e.g. the mirrored or the region search echoing the
   plain one), and
   so is one with less than SECONDARY_MIN_SHARE of the evidence of the video's best match (chance
   alignments among the many hits of a static shot).
8. Matches are sorted by evidence = sum over the aligned pairs of w * similarity (mean score times
   weighted frames), then by score: a full copy ranks above a short clip that scores a bit higher.

Segments: each aligned frame stands for one sampling step, so a segment runs from the first
aligned frame to one step past the last (clipped to the query's duration).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from streams.values import FrameHit, Segment, VisualMatch

SPEED_MIN = 0.75  # slowest copy: 25 % slower than the reference
SPEED_MAX = 1.0 / SPEED_MIN  # fastest copy: 33 % faster
SPEED_STEPS = 59  # log-spaced speeds, 1.0 among them
SPEEDS = np.exp(np.linspace(math.log(SPEED_MIN), math.log(SPEED_MAX), SPEED_STEPS))
TOLERANCE_STEPS = 1.5  # a hit lies on a line when within this many sampling steps of it
GAP_FREE_STEPS = 2.0  # a chain may skip a frame for free (a missed or dropped frame)
GAP_COST = 0.1  # each further step of gap costs this much evidence (a frame is worth <= 1)
MAX_GAP_STEPS = 10.0  # a longer gap ends the chain (inserted material: two segments)
MIN_SPAN_STEPS = 4.0  # chains spanning fewer steps keep the voted speed (slope unreliable)
FIT_ROUNDS = 3
MAX_PEAKS = 6  # lines tried per candidate video and orientation
PEAK_MIN_FRACTION = 0.75  # stop when the peak's votes < this * min frames * visual_match_score
REF_STEP_CAP = 3.0  # a reference's sampling interval guessed from hits is at most this many query steps
COMMON_FRAME_VIDEOS = 3  # frames hitting at most this many videos (or the query's typical k) weigh 1
OVERLAP_DROP = 0.5  # same-video matches overlapping more than this share of the shorter are echoes
SECONDARY_MIN_SHARE = 0.25  # a further segment of a video needs this share of its best one's evidence


def _setting(settings: Any, name: str, default: Any) -> Any:
    return getattr(settings, name, default) if settings is not None else default


def sampling_interval(query_duration: float, settings: Any) -> float:
    """The frame stage's sampling interval for a video of this duration (see media.video)."""
    fps = float(_setting(settings, "sample_fps", 1.0))
    max_frames = int(_setting(settings, "max_frames", 1200))
    return max(1.0 / fps, query_duration / max_frames if query_duration > 0 else 0.0)


def frame_weights(hits: list[FrameHit], n_query_frames: int, common_videos: int) -> dict[float, float]:
    """Rule 1: the weight of each query frame (by query time) from the distinct videos it hits."""
    videos: dict[float, set[str]] = defaultdict(set)
    for hit in hits:
        videos[hit.query_time].add(hit.video_id)
    counts = sorted(len(v) for v in videos.values())
    padded = [0] * max(0, n_query_frames - len(counts)) + counts
    typical = float(np.median(padded)) if padded else 0.0
    free = max(float(common_videos), typical)
    return {t: min(1.0, free / len(v)) for t, v in videos.items()}


def evidence(match: VisualMatch) -> float:
    """Rule 8: mean similarity times weighted aligned frames."""
    return match.score * (match.weighted_frames or float(match.aligned_frames))


def rank_key(match: VisualMatch) -> tuple[float, float, int, bool, bool, str]:
    """Best first when sorted ascending: evidence, then score, then aligned frames, then the whole
    frames before their active region, the plain orientation before the mirrored one, then the
    video id (deterministic)."""
    return (-evidence(match), -match.score, -match.aligned_frames, match.region, match.mirrored, match.video_id)


def _peak(q: np.ndarray, r: np.ndarray, v: np.ndarray, qi: np.ndarray, tol: float) -> tuple[float, float, float]:
    """Rule 3: the (speed, offset) with the most votes; a query frame votes once per window."""
    offsets = r[None, :] - SPEEDS[:, None] * q[None, :]  # [S, n]
    bins = np.floor(offsets / tol).astype(np.int64)
    low = int(bins.min()) - 1
    width = int(bins.max()) - low + 2
    n_q = int(qi.max()) + 1
    speed_index = np.arange(len(SPEEDS), dtype=np.int64)[:, None]
    # window w covers bins w and w + 1: each point votes for the two windows holding its bin
    keys = []
    for shift in (0, 1):
        window = speed_index * width + (bins - shift - low)
        keys.append((window * n_q + qi[None, :]).ravel())
    key = np.concatenate(keys)
    value = np.tile(v, 2 * len(SPEEDS))
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    per_frame = np.maximum.reduceat(value, starts)  # one vote per query frame and window
    windows = key[starts] // n_q
    wstarts = np.flatnonzero(np.r_[True, windows[1:] != windows[:-1]])
    votes = np.add.reduceat(per_frame, wstarts)
    wkeys = windows[wstarts]
    speeds = SPEEDS[wkeys // width]
    best = int(np.argmax(votes - 1e-9 * np.abs(np.log(speeds))))  # ties: the speed nearest 1
    window = int(wkeys[best] % width) + low
    return float(speeds[best]), (window + 1) * tol, float(votes[best])


def _chain(q: list[float], r: list[float], value: list[float], step: float) -> list[int]:
    """Rule 4: the monotone chain with the most evidence (indices into q, sorted by q)."""
    n = len(q)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (q[i], r[i]))
    qs = [q[i] for i in order]
    rs = [r[i] for i in order]
    vs = [value[i] for i in order]
    best = [0.0] * n
    prev = [-1] * n
    max_gap = MAX_GAP_STEPS * step
    start = 0
    for j in range(n):
        qj, rj = qs[j], rs[j]
        while qs[start] < qj - max_gap:
            start += 1
        carried, link = 0.0, -1
        for i in range(start, j):
            if qs[i] >= qj:
                break
            if rs[i] > rj + 1e-3:
                continue
            gap = (qj - qs[i]) / step
            candidate = best[i] - GAP_COST * max(0.0, gap - GAP_FREE_STEPS)
            if candidate > carried:
                carried, link = candidate, i
        best[j] = vs[j] + carried
        prev[j] = link
    end = max(range(n), key=lambda j: best[j])
    picked = []
    while end >= 0:
        picked.append(order[end])
        end = prev[end]
    return picked[::-1]


def _fit(q: np.ndarray, r: np.ndarray, weight: np.ndarray, speed: float, step: float) -> tuple[float, float]:
    """Rule 4: weighted least squares for the speed, median residual for the offset."""
    if len(q) >= 3 and q.max() - q.min() >= MIN_SPAN_STEPS * step:
        qm = np.average(q, weights=weight)
        rm = np.average(r, weights=weight)
        denominator = float(np.sum(weight * (q - qm) ** 2))
        if denominator > 0:
            speed = float(np.sum(weight * (q - qm) * (r - rm)) / denominator)
            speed = min(SPEED_MAX, max(SPEED_MIN, speed))
    return speed, float(np.median(r - speed * q))


def _median_step(times: np.ndarray, low: float, high: float) -> float:
    unique = np.unique(times)
    if len(unique) < 3:
        return low
    return float(min(high, max(low, np.median(np.diff(unique)))))


def _candidate_matches(
    video_id: str, mirrored: bool, q: np.ndarray, r: np.ndarray, s: np.ndarray, w: np.ndarray,
    *, q_step: float, query_duration: float, reference_duration: float | None, settings: Any,
) -> list[VisualMatch]:
    min_frames = int(_setting(settings, "visual_min_aligned_frames", 3))
    min_score = float(_setting(settings, "visual_match_score", 0.6))
    if reference_duration:
        r_step = sampling_interval(reference_duration, settings)
    else:  # guessed from the hits; scattered hits would make it huge, hence the cap
        ref_low = 1.0 / float(_setting(settings, "sample_fps", 1.0))
        r_step = _median_step(r, ref_low, max(ref_low, REF_STEP_CAP * q_step))
    step = max(q_step, r_step)
    tol = TOLERANCE_STEPS * step
    _, qi = np.unique(q, return_inverse=True)
    value = w * s
    alive = np.ones(len(q), bool)
    matches: list[VisualMatch] = []
    for _ in range(MAX_PEAKS):
        idx = np.flatnonzero(alive)
        if len(np.unique(qi[idx])) < min_frames:
            break
        frame_weight = np.zeros(int(qi.max()) + 1)
        np.maximum.at(frame_weight, qi[idx], w[idx])
        if frame_weight.sum() < min_frames:
            break
        speed, offset, votes = _peak(q[idx], r[idx], value[idx], qi[idx], tol)
        if votes < PEAK_MIN_FRACTION * min_frames * min_score:
            break
        seed_near = idx[np.abs(r[idx] - speed * q[idx] - offset) <= tol + 1e-9]
        band = 2 * tol
        chain = np.zeros(0, np.int64)
        for _round in range(FIT_ROUNDS):
            near = idx[np.abs(r[idx] - speed * q[idx] - offset) <= band + 1e-9]
            if len(near) == 0:
                break
            picked = _chain(q[near].tolist(), r[near].tolist(), value[near].tolist(), step)
            chain = near[picked]
            speed, offset = _fit(q[chain], r[chain], np.maximum(value[chain], 1e-6), speed, step)
            band = tol
        match = _evaluate(video_id, mirrored, chain, q, r, s, w, speed, offset, q_step, query_duration,
                          min_frames, min_score)
        if match is not None:
            matches.append(match)
            span = (q >= q[chain].min() - 1e-9) & (q <= q[chain].max() + 1e-9)
            alive &= ~span
        else:
            if len(seed_near) == 0:
                break
            alive[seed_near] = False
    return matches


def _evaluate(
    video_id: str, mirrored: bool, chain: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray,
    w: np.ndarray, speed: float, offset: float, q_step: float, query_duration: float,
    min_frames: int, min_score: float,
) -> VisualMatch | None:
    """Rule 5."""
    if len(chain) < min_frames:
        return None
    score = float(np.mean(s[chain]))
    weighted = float(np.sum(w[chain]))
    if score < min_score or weighted < min_frames - 1e-9:
        return None
    q0, q1 = float(q[chain].min()), float(q[chain].max())
    r0, r1 = float(r[chain].min()), float(r[chain].max())
    end = q1 + q_step
    if query_duration > q1:
        end = min(end, query_duration)
    coverage = min(1.0, (end - q0) / query_duration) if query_duration > 0 else 0.0
    return VisualMatch(
        video_id=video_id,
        score=score,
        query_segment=Segment(q0, end),
        reference_segment=Segment(r0, r1 + speed * (end - q1)),
        offset=offset,
        speed=speed,
        aligned_frames=int(len(chain)),
        mirrored=mirrored,
        coverage=coverage,
        weighted_frames=weighted,
    )


def _overlap(a: Segment, b: Segment) -> float:
    inter = min(a.end, b.end) - max(a.start, b.start)
    shorter = min(a.end - a.start, b.end - b.start)
    return inter / shorter if shorter > 0 else float(inter >= 0)


def align(
    hits: list[FrameHit], *, query_duration: float, settings: Any = None,
    reference_durations: Mapping[str, float] | None = None,
) -> list[VisualMatch]:
    """The stored videos whose frames align with the query's along a time line, best first.

    hits: every (query frame, stored frame) pair the index returned: plain, mirrored and region.
    query_duration: seconds. settings: streams.config.Settings (or anything with its matching
    fields; missing ones take the defaults). reference_durations: optional, stored videos'
    durations by id: their sampling interval sets the time tolerance (long videos are sampled
    more sparsely); without it the interval is guessed from the hits, at most REF_STEP_CAP query
    steps."""
    if not hits:
        return []
    floor = float(_setting(settings, "frame_score_floor", 0.0))
    hits = [hit for hit in hits if hit.score >= floor]
    if not hits:
        return []
    q_step = sampling_interval(query_duration, settings)  # frames without hits leave gaps: no guessing
    n_hit_frames = len({hit.query_time for hit in hits})
    n_frames = max(n_hit_frames, int(round(query_duration / q_step)) if query_duration > 0 else 0)
    common = int(_setting(settings, "common_frame_videos", COMMON_FRAME_VIDEOS))
    weights = frame_weights(hits, n_frames, common)

    groups: dict[tuple[str, bool, bool], list[FrameHit]] = defaultdict(list)
    for hit in hits:
        groups[(hit.video_id, bool(hit.mirrored), bool(hit.region))].append(hit)
    found: list[VisualMatch] = []
    min_frames = int(_setting(settings, "visual_min_aligned_frames", 3))
    for (video_id, mirrored, region), group in groups.items():
        if len({hit.query_time for hit in group}) < min_frames:
            continue
        q = np.array([hit.query_time for hit in group], float)
        r = np.array([hit.ref_time for hit in group], float)
        s = np.array([hit.score for hit in group], float)
        w = np.array([weights[hit.query_time] for hit in group], float)
        matches = _candidate_matches(video_id, mirrored, q, r, s, w, q_step=q_step,
                                     query_duration=query_duration,
                                     reference_duration=(reference_durations or {}).get(video_id),
                                     settings=settings)
        found += [match._replace(region=region) for match in matches]

    kept: list[VisualMatch] = []
    best: dict[str, float] = {}
    for match in sorted(found, key=rank_key):  # rule 7
        if match.video_id in best:
            if evidence(match) < SECONDARY_MIN_SHARE * best[match.video_id] or any(
                    other.video_id == match.video_id
                    and _overlap(other.query_segment, match.query_segment) > OVERLAP_DROP for other in kept):
                continue
        else:
            best[match.video_id] = evidence(match)
        kept.append(match)
    return kept
