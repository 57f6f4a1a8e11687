"""Temporal alignment of frame hits: which stored videos the query copies, where, and how fast.

Pure: no I/O. The evidence is an aligned segment (vsc2022-style localisation: offset voting, a
fitted time line and a monotone chain), never a bag of frames; the rules are short and explicit
(vpdq-style). Input: the nearest stored frames of each query frame (FrameHit), from the plain
query and, when the caller searched with flipped frames too, from the mirrored one, and when the
query has an active region (a picture-in-picture inset), from its frames cropped to it.

The rules, in order:

1. Common frames count less. A query frame whose neighbours in one view span k distinct videos
   (title cards, logos, a channel's intro) weighs, in that view,  w = min(1, max(common_frame_videos,
   k_typical) / k),  where k_typical is the median k over all the query's frames in the plain view
   (frames without hits count as k = 0), so that every frame of a popular video, stored many times,
   is not penalised for it. Each view's k counts its own hits only, and k_typical the plain view's,
   which is always searched: a line weighs the same whichever other views (turns, regions, on
   which seconds) were searched besides.
2. Candidates: one per (video, mirrored, region, rotation): a view's hits never mix with
   another's, so a match says which view found it. Each hit is a point (q, r): query time, reference time.
3. Voting: for each speed of a log-spaced grid from speed_min to 1 / speed_min (speed_steps values,
   symmetric around 1.0, about 1 % apart), each point votes w * similarity for the offset
   r - speed * q (windows two tolerances wide; a query frame votes once per window). The peak
   seeds a line  r = speed * q + offset.
4. Chain and fit: among the points near the line (within the tolerance, TOLERANCE_STEPS sampling
   steps), a monotone chain (dynamic programming: at most one hit per query frame, reference
   times never going back, gaps beyond gap_free_steps cost gap_cost per step and gaps beyond
   max_gap_steps break the chain) maximises the sum of w * similarity; a weighted least-squares
   fit of the chain gives speed (clamped to the grid's range) and offset (median residual).
   Repeated fit_rounds times; chains shorter than min_span_steps keep the voted speed.
5. A chain is a match when `frames_match` says so: the one definition of "frames match", which
   the decision and the calibration call too (see its docstring).
6. The query span of a match is taken out of its candidate and the next peak is tried (at most
   max_peaks per candidate; a peak below peak_min_fraction of the smallest possible match stops
   the search): a compilation gives one match per source and per segment.
7. Per video, a match whose query segment overlaps a stronger match of the same video by more than
   overlap_drop of the shorter one is dropped (e.g. the mirrored or the region search echoing the
   plain one), and so is one with less than secondary_min_share of the evidence of the video's
   best match (chance alignments among the many hits of a static shot).
8. Matches are sorted by evidence = sum over the aligned pairs of w * similarity (mean score times
   weighted frames), then by score: a full copy ranks above a short clip that scores a bit higher.

Segments: each aligned frame stands for one sampling step, so a segment runs from the first
aligned frame to one step past the last (clipped to the query's duration).

Every constant is a field of streams.params.AlignParams (passed in as `params`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import replace
from functools import lru_cache

import numpy as np

from streams.params import AlignParams, frame_sampling_interval
from streams.values import FrameHit, Segment, VisualMatch

@lru_cache(maxsize=8)
def _speed_grid(speed_min: float, steps: int) -> np.ndarray:
    return np.exp(np.linspace(math.log(speed_min), -math.log(speed_min), steps))


def speed_grid(params: AlignParams) -> np.ndarray:
    """Rule 3's speeds: log-spaced from speed_min to 1 / speed_min, symmetric around 1.0."""
    return _speed_grid(params.speed_min, params.speed_steps)


def sampling_interval(duration: float, params: AlignParams) -> float:
    """The frame stage's sampling interval for a video of this duration."""
    return frame_sampling_interval(duration, params.sample_fps, params.max_frames)


View = tuple[bool, bool, int]  # (mirrored, region, rotation): which view of the query a hit comes from
PLAIN: View = (False, False, 0)


def view_of(hit: FrameHit) -> View:
    return bool(hit.mirrored), bool(hit.region), int(hit.rotation)


def _videos_per_frame(hits: list[FrameHit]) -> dict[float, set[str]]:
    videos: dict[float, set[str]] = defaultdict(set)
    for hit in hits:
        videos[hit.query_time].add(hit.video_id)
    return videos


def typical_videos(hits: list[FrameHit], n_query_frames: int) -> float:
    """Rule 1's k_typical: the median count of distinct videos hit per query frame, frames
    without hits counting 0."""
    counts = sorted(len(v) for v in _videos_per_frame(hits).values())
    padded = [0] * max(0, n_query_frames - len(counts)) + counts
    return float(np.median(padded)) if padded else 0.0


def frame_weights(hits: list[FrameHit], n_query_frames: int, common_videos: int,
                  typical: float | None = None) -> dict[float, float]:
    """Rule 1: the weight of each query frame (by query time) from the distinct videos it hits, in
    one view's hits; typical: k_typical (default: from these hits)."""
    videos = _videos_per_frame(hits)
    free = max(float(common_videos), typical_videos(hits, n_query_frames) if typical is None else typical)
    return {t: min(1.0, free / len(v)) for t, v in videos.items()}


def view_weights(hits: list[FrameHit], n_query_frames: int, common_videos: int) -> dict[View, dict[float, float]]:
    """Rule 1 per view: view -> query time -> weight, each view's from its own hits and k_typical
    from the plain view's, so that no view's weights depend on which other views were searched."""
    by_view: dict[View, list[FrameHit]] = defaultdict(list)
    for hit in hits:
        by_view[view_of(hit)].append(hit)
    typical = typical_videos(by_view.get(PLAIN, []), n_query_frames)
    return {view: frame_weights(view_hits, n_query_frames, common_videos, typical)
            for view, view_hits in by_view.items()}


def evidence(match: VisualMatch) -> float:
    """Rule 8: mean similarity times weighted aligned frames."""
    return match.score * (match.weighted_frames or float(match.aligned_frames))


def rank_key(match: VisualMatch) -> tuple[float, float, int, bool, bool, int, str]:
    """Best first when sorted ascending: evidence, then score, then aligned frames, then the whole
    frames before their active region, the plain orientation before the mirrored one and the
    upright before the rotated, then the video id (deterministic)."""
    return (-evidence(match), -match.score, -match.aligned_frames, match.region, match.mirrored, match.rotation,
            match.video_id)


def at_speed_edge(speed: float, params: AlignParams) -> bool:
    """The speed sits at the grid's edge (within speed_edge_share): the fit ran into the clamp
    (or the vote into the last speed), which a line through frames that match anywhere does and
    a real copy, made at a speed inside the grid, does not."""
    return abs(math.log(speed)) >= abs(math.log(params.speed_min)) - math.log1p(params.speed_edge_share)


def speed_uncertainty(match: VisualMatch, params: AlignParams) -> float:
    """The share by which a line's speed may be off: each end of its reference segment is known to
    a sampling step, one step over the reference span; a span shorter than min_span_steps keeps the
    voted speed (rule 4), as uncertain as over that span."""
    step = 1.0 / params.sample_fps
    span = match.reference_segment.end - match.reference_segment.start
    return step / max(span, params.min_span_steps * step)


def speeds_tried(speed: float, params: AlignParams) -> float:
    """The width of the speed range (fastest - slowest) a line at this speed counts as chosen
    among (streams.matching.visual.lines_tried): a weighted Bonferroni over the grid. A line within
    the common speeds was chosen among them at 1 - outer_false_alarm_share of the false-alarm
    budget; one beyond, among the whole grid at outer_false_alarm_share of it."""
    if abs(math.log(speed)) <= abs(math.log(params.common_speed_min)) + 1e-9:
        return (1.0 / params.common_speed_min - params.common_speed_min) / (1.0 - params.outer_false_alarm_share)
    return (1.0 / params.speed_min - params.speed_min) / params.outer_false_alarm_share


def collapsed(match: VisualMatch, params: AlignParams) -> bool:
    """The reference segment spans less than min_reference_span_share of what the speed maps the
    query segment onto: many query frames on a few reference frames, one look and not a line."""
    q, r = match.query_segment, match.reference_segment
    return (r.end - r.start) < params.min_reference_span_share * match.speed * (q.end - q.start)


def without_moment_checks(params: AlignParams) -> AlignParams:
    """The alignment's parameters with the two checks that ask "the same moment, not the same
    look?" (distinctiveness, motion) switched off: every measured line is kept."""
    return replace(params, visual_max_false_alarm=1.0, min_distinctiveness=-math.inf)


def frames_match(match: VisualMatch, params: AlignParams, moment_shown: bool = False) -> bool:
    """The one definition of "frames match" (the alignment, the decision and the calibration call it).

    - mean similarity >= visual_match_score, and aligned frames and weighted frames (common frames
      discounted, when computed) >= visual_min_aligned_frames;
    - a line, not one look: the speed is not at the grid's edge (at_speed_edge) and the reference
      segment has not collapsed (collapsed);
    - once measured (streams.matching.visual), the aligned frames stand above the same reference's
      off-line frames: distinctiveness >= min_distinctiveness, and their changes from frame to
      frame correlate along the line beyond chance: false_alarm <= visual_max_false_alarm, where
      the motion test can reach that at all (motion_decides).

    moment_shown: something else already shows the line joins the same moment of the same
    footage (decision: the same recording of sound on this very time line); the two checks that
    ask just that (distinctiveness, motion) are then waived. A still card re-posted with its
    sound has no motion to correlate, and needs none."""
    weighted = match.weighted_frames or float(match.aligned_frames)
    return (match.score >= params.visual_match_score
            and match.aligned_frames >= params.visual_min_aligned_frames
            and weighted >= params.visual_min_aligned_frames - 1e-9
            and not at_speed_edge(match.speed, params)
            and not collapsed(match, params)
            and (moment_shown or match.distinctiveness is None or match.distinctiveness >= params.min_distinctiveness)
            and (moment_shown or not motion_decides(match, params) or match.false_alarm <= params.visual_max_false_alarm))


def motion_decides(match: VisualMatch, params: AlignParams) -> bool:
    """Whether the motion test has a say on this line: measured, and able to reach
    visual_max_false_alarm at all -- identical changes on every aligned frame would
    (best_false_alarm). Footage that changes slowly (a photograph panned, a slow zoom) is worth a
    frame or two of independent changes however long the line (visual.effective_count); a test
    without the power to pass says nothing of the line, and the distinctiveness check speaks."""
    return match.false_alarm is not None and (match.best_false_alarm is None
                                              or match.best_false_alarm <= params.visual_max_false_alarm)


def _peak(q: np.ndarray, r: np.ndarray, v: np.ndarray, qi: np.ndarray, tol: float,
          speeds: np.ndarray) -> tuple[float, float, float]:
    """Rule 3: the (speed, offset) with the most votes; a query frame votes once per window."""
    offsets = r[None, :] - speeds[:, None] * q[None, :]  # [S, n]
    bins = np.floor(offsets / tol).astype(np.int64)
    low = int(bins.min()) - 1
    width = int(bins.max()) - low + 2
    n_q = int(qi.max()) + 1
    speed_index = np.arange(len(speeds), dtype=np.int64)[:, None]
    # window w covers bins w and w + 1: each point votes for the two windows holding its bin
    keys = []
    for shift in (0, 1):
        window = speed_index * width + (bins - shift - low)
        keys.append((window * n_q + qi[None, :]).ravel())
    key = np.concatenate(keys)
    value = np.tile(v, 2 * len(speeds))
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    per_frame = np.maximum.reduceat(value, starts)  # one vote per query frame and window
    windows = key[starts] // n_q
    wstarts = np.flatnonzero(np.r_[True, windows[1:] != windows[:-1]])
    votes = np.add.reduceat(per_frame, wstarts)
    wkeys = windows[wstarts]
    voted = speeds[wkeys // width]
    best = int(np.argmax(votes - 1e-9 * np.abs(np.log(voted))))  # ties: the speed nearest 1
    window = int(wkeys[best] % width) + low
    return float(voted[best]), (window + 1) * tol, float(votes[best])


def _chain(q: list[float], r: list[float], value: list[float], step: float, params: AlignParams) -> list[int]:
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
    max_gap = params.max_gap_steps * step
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
            candidate = best[i] - params.gap_cost * max(0.0, gap - params.gap_free_steps)
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


def _fit(q: np.ndarray, r: np.ndarray, weight: np.ndarray, speed: float, step: float,
         params: AlignParams) -> tuple[float, float]:
    """Rule 4: the median slope between chain points half the chain apart (Theil-Sen on pairs
    spanning half the chain: robust to the one-step picks that sampling makes and that pull a
    least-squares slope of a short chain towards the grid's edge), median residual for the offset."""
    if len(q) >= 3 and q.max() - q.min() >= params.min_span_steps * step:
        order = np.argsort(q, kind="stable")
        qs, rs = q[order], r[order]
        half = len(qs) // 2
        dq = qs[half:2 * half] - qs[:half]
        valid = dq > 0
        if valid.any():
            speed = float(np.median((rs[half:2 * half] - rs[:half])[valid] / dq[valid]))
            speed = min(1.0 / params.speed_min, max(params.speed_min, speed))
    return speed, float(np.median(r - speed * q))


def _median_step(times: np.ndarray, low: float, high: float) -> float:
    unique = np.unique(times)
    if len(unique) < 3:
        return low
    return float(min(high, max(low, np.median(np.diff(unique)))))


def line_step(q_step: float, reference_duration: float | None, r: np.ndarray, params: AlignParams) -> float:
    """The time tolerance's unit: the coarser of the query's and the reference's sampling steps."""
    if reference_duration:
        r_step = sampling_interval(reference_duration, params)
    else:  # guessed from the hits; scattered hits would make it huge, hence the cap
        ref_low = 1.0 / params.sample_fps
        r_step = _median_step(r, ref_low, max(ref_low, params.ref_step_cap * q_step))
    return max(q_step, r_step)


def _candidate_matches(
    view: VisualMatch, q: np.ndarray, r: np.ndarray, s: np.ndarray, w: np.ndarray,
    *, q_step: float, query_duration: float, reference_duration: float | None, params: AlignParams,
) -> list[VisualMatch]:
    """view: a blank match naming the candidate (video and view) that every match found copies."""
    min_frames = params.visual_min_aligned_frames
    step = line_step(q_step, reference_duration, r, params)
    tol = params.tolerance_steps * step
    speeds = speed_grid(params)
    _, qi = np.unique(q, return_inverse=True)
    value = w * s
    alive = np.ones(len(q), bool)
    matches: list[VisualMatch] = []
    for _ in range(params.max_peaks):
        idx = np.flatnonzero(alive)
        if len(np.unique(qi[idx])) < min_frames:
            break
        frame_weight = np.zeros(int(qi.max()) + 1)
        np.maximum.at(frame_weight, qi[idx], w[idx])
        if frame_weight.sum() < min_frames:
            break
        speed, offset, votes = _peak(q[idx], r[idx], value[idx], qi[idx], tol, speeds)
        if votes < params.peak_min_fraction * min_frames * params.visual_match_score:
            break
        seed_near = idx[np.abs(r[idx] - speed * q[idx] - offset) <= tol + 1e-9]
        band = 2 * tol
        chain = np.zeros(0, np.int64)
        for _round in range(params.fit_rounds):
            near = idx[np.abs(r[idx] - speed * q[idx] - offset) <= band + 1e-9]
            if len(near) == 0:
                break
            picked = _chain(q[near].tolist(), r[near].tolist(), value[near].tolist(), step, params)
            chain = near[picked]
            speed, offset = _fit(q[chain], r[chain], np.maximum(value[chain], 1e-6), speed, step, params)
            band = tol
        match = _evaluate(view, chain, q, r, s, w, speed, offset, q_step, query_duration, params)
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
    view: VisualMatch, chain: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray,
    w: np.ndarray, speed: float, offset: float, q_step: float, query_duration: float, params: AlignParams,
) -> VisualMatch | None:
    """Rule 5: the chain as a match, if frames_match says it is one."""
    if len(chain) == 0:
        return None
    q0, q1 = float(q[chain].min()), float(q[chain].max())
    r0, r1 = float(r[chain].min()), float(r[chain].max())
    end = q1 + q_step
    if query_duration > q1:
        end = min(end, query_duration)
    coverage = min(1.0, (end - q0) / query_duration) if query_duration > 0 else 0.0
    match = view._replace(
        score=float(np.mean(s[chain])),
        query_segment=Segment(q0, end),
        reference_segment=Segment(r0, r1 + speed * (end - q1)),
        offset=offset,
        speed=speed,
        aligned_frames=int(len(chain)),
        coverage=coverage,
        weighted_frames=float(np.sum(w[chain])),
    )
    return match if frames_match(match, params) else None


def _overlap(a: Segment, b: Segment) -> float:
    inter = min(a.end, b.end) - max(a.start, b.start)
    shorter = min(a.end - a.start, b.end - b.start)
    return inter / shorter if shorter > 0 else float(inter >= 0)


def align(
    hits: list[FrameHit], *, query_duration: float, params: AlignParams,
    reference_durations: Mapping[str, float] | None = None, videos: Collection[str] | None = None,
) -> list[VisualMatch]:
    """The stored videos whose frames align with the query's along a time line, best first.

    hits: every (query frame, stored frame) pair the index returned, from every view (plain,
    mirrored, region, rotated). query_duration: seconds. reference_durations: optional, stored
    videos' durations by id: their sampling interval sets the time tolerance (long videos are
    sampled more sparsely); without it the interval is guessed from the hits, at most
    params.ref_step_cap query steps. videos: align only these stored videos' hits (None: all);
    their lines are the same as in the whole alignment: frames are weighed over every hit, echoes
    dropped within each video."""
    if not hits:
        return []
    q_step = sampling_interval(query_duration, params)  # frames without hits leave gaps: no guessing
    n_hit_frames = len({hit.query_time for hit in hits})
    n_frames = max(n_hit_frames, int(round(query_duration / q_step)) if query_duration > 0 else 0)
    weights = view_weights(hits, n_frames, params.common_frame_videos)

    groups: dict[tuple[str, View], list[FrameHit]] = defaultdict(list)
    for hit in hits:
        groups[(hit.video_id, view_of(hit))].append(hit)
    found: list[VisualMatch] = []
    for (video_id, (mirrored, region, rotation)), group in groups.items():
        if videos is not None and video_id not in videos:
            continue
        if len({hit.query_time for hit in group}) < params.visual_min_aligned_frames:
            continue
        q = np.array([hit.query_time for hit in group], float)
        r = np.array([hit.ref_time for hit in group], float)
        s = np.array([hit.score for hit in group], float)
        w = np.array([weights[(mirrored, region, rotation)][hit.query_time] for hit in group], float)
        view = VisualMatch(video_id, 0.0, Segment(0.0, 0.0), Segment(0.0, 0.0), 0.0, 1.0, 0,
                           mirrored=mirrored, region=region, rotation=rotation)
        found += _candidate_matches(view, q, r, s, w, q_step=q_step, query_duration=query_duration,
                                    reference_duration=(reference_durations or {}).get(video_id), params=params)
    return drop_echoes(found, params)


def drop_echoes(found: list[VisualMatch], params: AlignParams) -> list[VisualMatch]:
    """Rules 7 and 8: per video, the best match and its further segments that are neither echoes
    of a stronger one nor chance alignments; best first."""
    kept: list[VisualMatch] = []
    best: dict[str, float] = {}
    for match in sorted(found, key=rank_key):
        if match.video_id in best:
            if evidence(match) < params.secondary_min_share * best[match.video_id] or any(
                    other.video_id == match.video_id
                    and _overlap(other.query_segment, match.query_segment) > params.overlap_drop for other in kept):
                continue
        else:
            best[match.video_id] = evidence(match)
        kept.append(match)
    return kept
