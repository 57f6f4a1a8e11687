"""A second "same recording" test that survives sound added on top: spectral-peak landmarks
(Wang's constellation fingerprint, as Shazam and Ellis' audfprint describe it). Pure numpy.

Why a second test. Chromaprint summarises the whole chroma image of ~2 s: a voice-over mixed on
the music at the same level, or pink noise at 0 dB SNR, changes every band of it, and its bit
error rate sits at chance (docs/audio.md, Known limits). Local maxima of the spectrogram do not
all move when another sound is added: where the music is locally the loudest (a held note, a
drum hit), its peak stays where it was. A fraction of the original's peaks survives, and pairs
of surviving peaks, hashed as (f1, f2 - f1, dt), agree with the original's on one time offset.

Extraction (`peaks`): 11025 Hz mono (the samples Chromaprint already decoded), a 512-sample
Hann STFT every 256 samples (~43 frames/s, 21.5 Hz bins); a peak is a bin that is the maximum
of its neighbourhood (landmark_peak_bins either side in frequency, landmark_peak_frames in
time), ranked by its prominence over the mean of the nearby bins of its frame (tonal peaks over
broadband noise); each second keeps its landmark_peaks_per_second most prominent. A peak is
packed in one uint32: frame << 12 | level << 8 | bin.

Hashes (`hashes`): each peak (anchor) with the next landmark_fanout peaks within
landmark_max_dt frames after it and landmark_max_df bins of it.

Comparison (`compare_landmarks`) on a given time map (the pictures' line): every query hash meets
every stored hash with the same key; each meeting votes for the offset reference_frame -
speed * query_frame. Under the null (unrelated tracks) meetings are spread over offsets in
proportion to how many hashes the two tracks have at those times: the expected count at offset d
is the pair's own number of meetings times the share of the hash-time cross-correlation at d
(so a pair with many collisions, one voice saying other words, expects more). The count of
distinct query anchors voting within +-1 frame of an offset is Poisson around that expectation;
the best offset's tail probability, over the offsets and time lines tried (Šidák, with
landmark_hypotheses_per_trial correlated offsets counted as one trial), is the false alarm, and
`same_recording` is false_alarm <= AudioParams.landmark_max_false_alarm, and the agreement is
the whole stored recording, not a shared part or background (compare_landmarks: `partial`, and
`contained` — a copy contains its original, so the original's loud peaks are in it but for those
an added sound masks, and no more seldom than its quiet ones; kept, containment). The figures that check this null on unrelated pairs,
and fit the containment on copies: `python -m tooling.audio.calibrate --landmarks`."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from streams.audio import CHROMAPRINT_SAMPLE_RATE
from streams.audio.memo import derived
from streams.params import AudioParams

FFT_SIZE = 512
HOP = 256
FRAMES_PER_SECOND = CHROMAPRINT_SAMPLE_RATE / HOP
# A packed peak: frame (20 bits: 6.7 hours at 43 frames/s) | level (4 bits) | bin (8 bits).
BIN_BITS = 8
LEVELS = 16
LEVEL_STEP_DB = 4.0
_WINDOW_FRAMES = 1  # offsets within this many frames of one another vote together
_CELL_BINS = 1 << (BIN_BITS + 1)  # a (frame, bin) cell's key: frame * _CELL_BINS + bin (bins re-pitched up to x2)


class Kept(NamedTuple):
    """What one track keeps of another's peaks on the line, over the stretch both cover (kept)."""
    found: int  # of its loud peaks (landmark_loud_share of them, by level), those found
    of: int
    gain: float  # level steps quieter in the other track than in this one (median, found peaks)
    found_all: int = 0  # of all its peaks, those found
    of_all: int = 0


class LandmarkMatch(NamedTuple):
    same_recording: bool
    false_alarm: float
    matches: int  # distinct query anchors voting for the best offset (+-1 frame)
    expected: float  # what unrelated tracks with these hashes would give there
    offset: float  # seconds: reference_time = speed * query_time + offset
    speed: float
    query_start: float  # seconds of the query covered by the voting anchors
    query_end: float
    hypotheses: int  # offsets x time lines tried
    # How rarely a copy's agreement would be as quiet or as crowded into a part as this one
    # (small: a shared background under other sound, or a shared piece: not the same recording)
    partial: float = 1.0
    # How rarely a copy with sound added on top would keep as few of its original's loud peaks,
    # or keep them less often than its quiet ones (containment; the larger of the two directions'
    # p-values: the query contains the stored recording, or the stored one the query); small:
    # neither contains the other (other words over one bed)
    contained: float = 1.0
    # Each direction's: the peaks of the stored recording over the stretch that the query has on
    # the line (and of the query's that the stored one has), with the level gain between the two
    # on the peaks they share (kept)
    reference_kept: Kept = Kept(0, 0, 0.0)
    query_kept: Kept = Kept(0, 0, 0.0)


NO_LANDMARK_MATCH = LandmarkMatch(False, 1.0, 0, 0.0, 0.0, 1.0, 0.0, 0.0, 0)


def _sliding_max(values: np.ndarray, reach: int, axis: int) -> np.ndarray:
    """The maximum over +-reach along axis (beyond the edges, nothing), as the running maximum of
    the array shifted by each step: a few passes over contiguous memory."""
    values = np.moveaxis(values, axis, 0)
    out = values.copy()
    for step in range(1, min(reach, len(values) - 1) + 1):
        np.maximum(out[step:], values[:-step], out=out[step:])
        np.maximum(out[:-step], values[step:], out=out[:-step])
    return np.moveaxis(out, 0, axis)


def spectrogram_db(samples: np.ndarray) -> np.ndarray:
    """[frames, bins] power in dB of 11025 Hz mono samples."""
    samples = np.asarray(samples, np.float32)
    if len(samples) < FFT_SIZE:
        return np.zeros((0, FFT_SIZE // 2 + 1), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(samples, FFT_SIZE)[::HOP]
    spectrum = np.fft.rfft(frames * np.hanning(FFT_SIZE).astype(np.float32), axis=1)
    return (10 * np.log10(np.square(np.abs(spectrum)) + 1e-10)).astype(np.float32)


def peaks(samples: np.ndarray, params: AudioParams) -> np.ndarray:
    """uint32 [P] packed peaks (frame << 12 | level << 8 | bin) in time order: local maxima of the
    spectrogram, the most prominent landmark_peaks_per_second of each second. level: how far
    under the track's loud level (its 99th percentile bin) the peak is, in LEVEL_STEP_DB steps."""
    power = spectrogram_db(samples)
    if len(power) == 0:
        return np.zeros(0, np.uint32)
    lo, hi = params.landmark_min_bin, params.landmark_max_bin
    band = power[:, lo:hi]
    local = _sliding_max(_sliding_max(band, params.landmark_peak_bins, 1), params.landmark_peak_frames, 0)
    reach = params.landmark_prominence_bins
    # The mean of the 2 reach + 1 bins around each (edges repeated), as a difference of running sums.
    sums = np.cumsum(np.pad(band, ((0, 0), (reach + 1, reach)), mode="edge"), axis=1, dtype=np.float64)
    prominence = band - ((sums[:, 2 * reach + 1:] - sums[:, :-2 * reach - 1]) / (2 * reach + 1)).astype(np.float32)
    # Digital silence and dither have maxima too: a peak must be loud within the track.
    loud = np.percentile(band, 99)
    frame, bin_ = np.nonzero((band == local) & (prominence > 0) & (band > loud - params.landmark_floor_db))
    score = prominence[frame, bin_]
    level = np.clip(np.rint((loud - band[frame, bin_]) / LEVEL_STEP_DB), 0, LEVELS - 1).astype(np.uint32)
    second = (frame / FRAMES_PER_SECOND).astype(np.int64)
    # The most prominent of each second: sort by second, then by prominence, descending.
    order = np.lexsort((-score, second))
    frame, bin_, level, second = frame[order], bin_[order], level[order], second[order]
    starts = np.searchsorted(second, second, side="left")
    keep = (np.arange(len(second)) - starts) < params.landmark_peaks_per_second
    frame, bin_, level = frame[keep], bin_[keep] + lo, level[keep]
    order = np.lexsort((bin_, frame))
    return ((frame[order].astype(np.uint32) << 12) | (level[order] << BIN_BITS)
            | bin_[order].astype(np.uint32)).astype(np.uint32)


def unpack(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frames, bins, levels) as int64 of packed peaks."""
    packed = np.asarray(packed, np.uint32)
    return ((packed >> 12).astype(np.int64), (packed & ((1 << BIN_BITS) - 1)).astype(np.int64),
            ((packed >> BIN_BITS) & (LEVELS - 1)).astype(np.int64))


def hashes(frames: np.ndarray, bins: np.ndarray, params: AudioParams, dt_scale: float = 1.0,
           bin_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(keys, anchor peak indices) of the peak pairs: each peak with the next landmark_fanout peaks at
    most landmark_max_dt frames later and landmark_max_df bins away. dt_scale, bin_scale: the
    pairs as they would be at the reference's pace and pitch (a copy played faster by tempo
    change: dt_scale = speed; by resampling: also bin_scale = 1 / speed)."""
    count = len(frames)
    if count < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    bins = np.rint(bins * bin_scale).astype(np.int64)
    keys, anchors = [], []
    taken = np.zeros(count, np.int64)
    max_df, max_dt = params.landmark_max_df, params.landmark_max_dt
    # The j-th following peak of every anchor at once; a peak beyond the zone is skipped and the
    # next considered, up to a horizon of candidates.
    for step in range(1, params.landmark_fanout * 4 + 1):
        if step >= count:
            break
        a, b = np.arange(count - step), np.arange(step, count)
        dt = frames[b] - frames[a]
        df = bins[b] - bins[a]
        ok = (dt >= 1) & (dt <= max_dt) & (np.abs(df) <= max_df) & (taken[a] < params.landmark_fanout)
        if not ok.any():
            if np.all(dt > max_dt):
                break
            continue
        a, dt, df = a[ok], dt[ok], df[ok]
        taken[a] += 1
        scaled = np.clip(np.rint(dt * dt_scale).astype(np.int64), 1, 2 * max_dt)
        keys.append((bins[a] << 16) | ((df + max_df) << 8) | scaled)
        anchors.append(a)
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(keys), np.concatenate(anchors)


def _query_hashes(query: np.ndarray, frames: np.ndarray, bins: np.ndarray, params: AudioParams, dt_scale: float,
                  bin_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """hashes of the query's packed peaks, once per query array: it meets every candidate."""
    return derived(query, ("hashes", params, dt_scale, bin_scale),
                   lambda: hashes(frames, bins, params, dt_scale, bin_scale))


def _meetings(query_keys, query_frames, reference_keys, reference_frames) -> tuple[np.ndarray, np.ndarray]:
    """(query frame, reference frame) of every pair of hashes with equal keys."""
    order = np.argsort(reference_keys, kind="stable")
    sorted_keys, sorted_frames = reference_keys[order], reference_frames[order]
    lo = np.searchsorted(sorted_keys, query_keys, "left")
    hi = np.searchsorted(sorted_keys, query_keys, "right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    which = np.repeat(np.arange(len(query_keys)), counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return query_frames[which], sorted_frames[lo[which] + within]


def poisson_tail(count: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """P(X >= count) for X ~ Poisson(mean), elementwise (log-space sum of the tail's terms)."""
    count = np.asarray(count, np.float64)
    mean = np.maximum(np.asarray(mean, np.float64), 1e-12)
    k = count[..., None] + np.arange(80)
    log_factorial = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, int(k.max()) + 2)))))
    log_terms = -mean[..., None] + k * np.log(mean[..., None]) - log_factorial[k.astype(np.int64)]
    top = log_terms.max(axis=-1, keepdims=True)
    tail = np.exp(top[..., 0]) * np.exp(log_terms - top).sum(axis=-1)
    return np.where(count <= 0, 1.0, np.minimum(tail, 1.0))


def _line_votes(pairs, query_hash_frames, reference_hash_frames, speed: float, centre: float, tolerance: float,
                ref_frames: int):
    """Per offset (frames) tried on one time line, those within `tolerance` of `centre` (where the
    map puts the query's middle): distinct query anchors voting within +-1 frame, and the null's
    expectation there (from all meetings, which are at least as many: conservative)."""
    query_at, reference_at = pairs
    offsets = np.rint(reference_at - speed * query_at).astype(np.int64)
    scaled_hashes = np.rint(speed * query_hash_frames).astype(np.int64)
    span_q = int(scaled_hashes.max()) + 1 if len(scaled_hashes) else 1
    base = span_q  # offset d sits at index d + base
    size = 1 << int(np.ceil(np.log2(span_q + ref_frames + 2)))
    density_q = np.bincount(scaled_hashes, minlength=span_q).astype(np.float64)
    density_r = np.bincount(reference_hash_frames, minlength=ref_frames).astype(np.float64)
    # cross-correlation: overlap[d] = sum_t density_q[t] density_r[t + d], for d in [-span_q, ref_frames]
    xcorr = np.fft.irfft(np.conj(np.fft.rfft(density_q, size)) * np.fft.rfft(density_r, size), size)
    d_all = np.arange(-span_q, ref_frames + 1)
    overlap = np.maximum(xcorr[d_all % size], 0)
    tried = np.abs(d_all - centre) <= tolerance
    expected_per_offset = len(offsets) * overlap / max(overlap.sum(), 1e-12)
    # Distinct anchors per offset: one anchor's several hashes meeting one reference moment count once.
    unique = np.unique(np.stack([offsets, np.rint(query_at).astype(np.int64)]), axis=1) if len(offsets) else \
        np.zeros((2, 0), np.int64)
    votes = np.bincount(np.clip(unique[0] + base, 0, len(d_all) - 1), minlength=len(d_all)).astype(np.float64)
    kernel = np.ones(2 * _WINDOW_FRAMES + 1)
    windowed = np.convolve(votes, kernel, mode="same")
    expected = np.convolve(expected_per_offset, kernel, mode="same")
    return d_all[tried], windowed[tried], expected[tried], offsets


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k >= n:
        return 1.0
    p = min(max(p, 1e-12), 1 - 1e-12)
    j = np.arange(k + 1)
    log_choose = np.array([math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1) for x in j])
    return float(min(1.0, np.exp(log_choose + j * math.log(p) + (n - j) * math.log1p(-p)).sum()))


def clustered(times: np.ndarray, within: np.ndarray) -> float:
    """P(m points spread evenly over the peaks of `within` fall into a range holding as small a
    share w of them as the agreeing `times` do): m w^(m-1) - (m-1) w^m, the range of m uniforms."""
    m = len(times)
    if m < 2 or len(within) == 0:
        return 1.0
    w = np.count_nonzero((within >= times.min()) & (within <= times.max())) / len(within)
    return float(min(1.0, m * w ** (m - 1) - (m - 1) * w ** m))


def kept(inner: np.ndarray, outer: np.ndarray, speed: float, shift: float, bin_scale: float, first: float,
         last: float, loud_share: float) -> Kept:
    """Inner's peaks in outer on the line outer_frame = speed * inner_frame + shift, outer_bin =
    inner_bin * bin_scale (a peak is found when outer has one within +-1 frame and +-1 bin of
    where the line puts it): of inner's loud peaks (its loud_share loudest, by level) within inner
    frames [first, last], how many outer has, and of all its peaks there; gain: how many level
    steps quieter in outer than in inner the found peaks of the stretch are (median) — the sound
    both share sits that much under outer's loudest when outer added a louder sound on top."""
    i_frames, i_bins, i_levels = unpack(inner)
    o_frames, o_bins, o_levels = unpack(outer)
    within = np.flatnonzero((i_frames >= first) & (i_frames <= last))
    if len(within) == 0 or len(o_frames) == 0:
        return Kept(0, len(within), 0.0, 0, len(within))
    # outer's level at each (frame, bin) cell, looked up by a sorted key (room for re-pitched bins)
    cells = o_frames * _CELL_BINS + o_bins
    order = np.argsort(cells, kind="stable")
    cells, levels = cells[order], o_levels[order]
    at = np.rint(speed * i_frames[within] + shift).astype(np.int64)
    bins = np.rint(i_bins[within] * bin_scale).astype(np.int64)
    level = np.full(len(within), LEVELS, np.int64)
    for df in (-1, 0, 1):
        for db in (-1, 0, 1):
            key = (at + df) * _CELL_BINS + bins + db
            index = np.minimum(np.searchsorted(cells, key), len(cells) - 1)
            level = np.where(cells[index] == key, np.minimum(level, levels[index]), level)
    found = level < LEVELS
    loud = i_levels[within] <= np.quantile(i_levels[within], loud_share)
    gain = float(np.median(level[found] - i_levels[within][found])) if found.any() else 0.0
    return Kept(int((found & loud).sum()), int(loud.sum()), gain, int(found.sum()), len(within))


def hypergeometric_cdf(k: int, population: int, successes: int, draws: int) -> float:
    """P(X <= k) for X the successes among `draws` drawn without replacement from `population`
    holding `successes`."""
    def log_choose(n: int, r: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(r + 1) - math.lgamma(n - r + 1)

    low = max(0, draws - (population - successes))
    if k < low:
        return 0.0
    terms = [log_choose(successes, x) + log_choose(population - successes, draws - x) - log_choose(population, draws)
             for x in range(low, min(k, successes, draws) + 1)]
    return float(min(1.0, np.exp(terms).sum()))


def containment(kept: Kept, params: AudioParams) -> float:
    """How rarely a copy with sound added on top would keep its original's loud peaks as this
    keeps the other track's (the smaller of two p-values):
    - at most `found` of `of`: binomial, each kept with probability landmark_kept_share, times
      landmark_kept_per_step for each level step the added sound stands over the shared one
      (gain; a louder voice-over masks more);
    - as seldom against its quiet peaks: an added sound masks a quiet peak before a loud one, so
      a copy keeps its loud peaks at least as often as the rest; over the same bed under other
      words the loud peaks are the stored voice's, which the other take lacks, and the quiet ones
      the bed's, which it has. Under one rate for all, the loud ones found are hypergeometric
      among the found."""
    if kept.of == 0:
        return 1.0
    share = params.landmark_kept_share * params.landmark_kept_per_step ** max(kept.gain, 0.0)
    return min(binomial_cdf(kept.found, kept.of, share),
               hypergeometric_cdf(kept.found, kept.of_all, kept.found_all, kept.of))


def compare_landmarks(query: np.ndarray, stored: np.ndarray, params: AudioParams, offset: float,
                      speed: float = 1.0, tolerance_s: float = 2.5) -> LandmarkMatch:
    """Whether the two packed peak sets are the same recording on the time map
    reference_time = speed * query_time + offset (offsets within tolerance_s of it at the query's
    middle; speeds within near_speed_tolerance of it, 1 % apart).

    The stored recording must be in the query, the whole of it, not a part: two voices saying
    other words over one music bed share the bed's peaks on one offset as a copy would, and two
    narrations that open with the same sentence share its peaks. So (`partial`, the smaller of two
    p-values, not the same recording when at most landmark_max_partial):
    - the stored peaks that agree must not avoid its loudest peaks over the stretch
      (landmark_loud_share of its peaks there, by level; binomial): a copy with sound added
      keeps the loud peaks best, a shared bed under another voice agrees only under the stored
      voice;
    - the loud ones among them must not crowd into a part of the stretch (the range of m points
      spread evenly over the stored track's loud peaks there): a copy keeps its original's loud
      peaks wherever they are.
    And (`contained`, also above landmark_max_partial) one must contain the other: the stored
    track's loud peaks over the stretch are in the query as often as in a copy with sound added
    on top, allowing for how much louder the added sound is (the gain); or the query's in the
    stored track (the stored video is the one with sound added). Two takes over one loud bed
    share the bed, which the checks above cannot tell from a copy, but neither holds the other's
    voice."""
    q_frames, q_bins, _ = unpack(query)
    r_frames, r_bins, r_levels = unpack(stored)
    if len(q_frames) < 2 or len(r_frames) < 2:
        return NO_LANDMARK_MATCH
    r_keys, r_anchor = hashes(r_frames, r_bins, params)
    # (dt_scale, bin_scale) -> the query's anchors and its hashes' meetings with the stored ones:
    # every speed within 2.5 % of 1 has the same.
    met = {}
    grid = {round(speed, 2), *(round(speed + 0.01 * step, 2) for step in range(-2, 3))}
    speeds = sorted((s for s in grid if abs(s - speed) <= params.near_speed_tolerance + 1e-9),
                    key=lambda s: abs(s - speed))
    ref_frames = int(r_frames.max()) + 1
    middle = (q_frames.max() + q_frames.min()) / 2
    best, hypotheses = None, 0
    for line_speed in speeds:
        # Within a few % of 1 a pair's dt moves by less than a frame: the plain hashes serve;
        # further off, the query's pairs are re-timed, and (resampled copies) re-pitched too.
        variants = [(1.0, 1.0)] if abs(line_speed - 1) <= 0.025 else [(line_speed, 1.0), (line_speed, 1 / line_speed)]
        for dt_scale, bin_scale in variants:
            if (dt_scale, bin_scale) not in met:
                q_keys, q_anchor = _query_hashes(query, q_frames, q_bins, params, dt_scale, bin_scale)
                met[dt_scale, bin_scale] = (q_anchor, _meetings(q_keys, q_anchor, r_keys, r_anchor)
                                            if len(q_keys) and len(r_keys) else None)
            q_anchor, meetings = met[dt_scale, bin_scale]
            if meetings is None:
                continue
            q_at, r_at = meetings
            # The offset this line needs to put the query's middle where the map puts it.
            centre = offset * FRAMES_PER_SECOND + (speed - line_speed) * middle
            d, votes, expected, offsets = _line_votes((q_frames[q_at], r_frames[r_at]), q_frames[q_anchor],
                                                      r_frames[r_anchor], line_speed, centre,
                                                      tolerance_s * FRAMES_PER_SECOND, ref_frames)
            hypotheses += len(d)
            candidates = np.flatnonzero(votes >= 2)
            if len(candidates) == 0:
                continue
            tails = poisson_tail(votes[candidates], expected[candidates])
            at = int(candidates[np.argmin(tails)])
            if best is None or tails.min() < best[0]:
                on = np.abs(offsets - d[at]) <= _WINDOW_FRAMES
                best = (float(tails.min()), int(votes[at]), float(expected[at]), int(d[at]), line_speed,
                        q_frames[q_at[on]], np.unique(r_at[on]), bin_scale)
    if best is None:
        return NO_LANDMARK_MATCH._replace(hypotheses=hypotheses)
    tail, votes, expected, shift, line_speed, voting, agreeing, bin_scale = best
    trials = max(1.0, hypotheses / params.landmark_hypotheses_per_trial)
    chance = 1.0 if tail >= 1.0 else -math.expm1(trials * math.log1p(-tail))
    # The stretch both cover on the line, in each one's frames.
    first = max(r_frames.min(), shift + line_speed * q_frames.min())
    last = min(r_frames.max(), shift + line_speed * q_frames.max())
    in_stretch = (r_frames >= first) & (r_frames <= last)
    partial = 1.0
    if in_stretch.any() and len(agreeing):
        loud_level = np.quantile(r_levels[in_stretch], params.landmark_loud_share)
        loud = in_stretch & (r_levels <= loud_level)
        agreeing_loud = agreeing[r_levels[agreeing] <= loud_level]
        partial = min(binomial_cdf(len(agreeing_loud), len(agreeing), float(loud.sum() / in_stretch.sum())),
                      clustered(r_frames[agreeing_loud], r_frames[loud]))
    share = params.landmark_loud_share
    reference_kept = kept(stored, query, 1 / line_speed, -shift / line_speed, 1 / bin_scale, first, last, share)
    query_kept = kept(query, stored, line_speed, shift, bin_scale, (first - shift) / line_speed,
                      (last - shift) / line_speed, share)
    contained = max(containment(reference_kept, params), containment(query_kept, params))
    same = (chance <= params.landmark_max_false_alarm and partial > params.landmark_max_partial
            and contained > params.landmark_max_partial)
    return LandmarkMatch(same, chance, votes, expected, shift / FRAMES_PER_SECOND, line_speed,
                         float(voting.min()) / FRAMES_PER_SECOND, float(voting.max()) / FRAMES_PER_SECOND,
                         hypotheses, partial, contained, reference_kept, query_kept)
