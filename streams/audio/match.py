"""Two soundtracks compared: the time line that aligns their Chromaprint items best, and the bit
error rate (BER) of the stretch where they agree. Pure numpy.

Every item offset is scored at once: each of the 32 bit planes, as a ±1 sequence, is
cross-correlated through the FFT, and the sum over planes is (agreeing - disagreeing) bits per
offset. The offset with the strongest evidence (bits agreeing beyond chance, in standard
deviations, so that a few items overlapping by luck do not win) is kept; along it the per-item
errors give the longest stretch that matches. The query is also re-timed on a speed grid
(sped-up or slowed-down re-uploads); the time line with the strongest evidence is judged. Re-timing
undoes a tempo change but not the pitch shift of a resampled one (beyond about 2 %): when the plain
items do not match, or match only on a sped-up time line, the query's resampled copies
(streams.audio.extract.RESAMPLED_SPEEDS) are tried.

Items that repeat unchanged (silence is one constant item, so is a held tone) carry no evidence:
they are left out on both sides, or two silent tracks would be "the same recording"."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from streams.audio import ITEM_SPAN_SECONDS, AudioFingerprint, ResampledItems
from streams.values import Segment

ITEM_BITS = 32
# Items repeated this many times in a row or more are static (silence, a held tone).
STATIC_RUN = 3
# The shortest matching stretch that can decide, and the window over which per-item errors are
# smoothed to find where a match starts and ends (32 items are about 4 s).
MIN_MATCH_ITEMS = 32
SMOOTHING_ITEMS = 32
# reference_time = speed * query_time + offset: re-uploads sped up or slowed down by up to 10 %.
SPEED_GRID = tuple(round(0.90 + 0.01 * step, 2) for step in range(21))
# Re-timing tried around each resampled copy: their grid leaves at most 1 % of speed to find.
RESIDUAL_SPEEDS = (0.99, 1.0, 1.01)


class AudioMatch(NamedTuple):
    """Satisfies streams.matching.decision.AudioResult."""

    same_recording: bool
    ber: float  # bit error rate over the matching stretch (over the whole overlap when none)
    offset: float  # seconds: reference_time = speed * query_time + offset
    speed: float
    query_segment: Segment  # seconds of the query
    reference_segment: Segment  # seconds of the reference
    evidence: float = 0.0  # agreeing bits beyond chance over the overlap, in standard deviations


class _Alignment(NamedTuple):
    shift: int  # reference item = query item + shift (in re-timed query items)
    evidence: float


def informative(items: np.ndarray) -> np.ndarray:
    """bool [N]: the items that are not part of a run of STATIC_RUN or more identical items."""
    items = np.asarray(items, np.uint32)
    if len(items) == 0:
        return np.zeros(0, bool)
    starts = np.flatnonzero(np.concatenate(([True], items[1:] != items[:-1])))
    lengths = np.diff(np.concatenate((starts, [len(items)])))
    return np.repeat(lengths < STATIC_RUN, lengths)


def _planes(items: np.ndarray) -> np.ndarray:
    """[33, N] float: per bit, +1 set / -1 clear (0 for static items); last row: 1 if informative."""
    mask = informative(items)
    bits = (np.asarray(items, np.uint32)[None, :] >> np.arange(ITEM_BITS, dtype=np.uint32)[:, None]) & 1
    return np.vstack(((bits.astype(np.float64) * 2 - 1) * mask, mask[None, :]))


def _spectrum(items: np.ndarray, size: int) -> np.ndarray:
    return np.fft.rfft(_planes(items), size)


def fft_size(query_items: int, reference_items: int) -> int:
    return 1 << int(np.ceil(np.log2(query_items + reference_items)))


def retimed(items: np.ndarray, speed: float) -> np.ndarray:
    """The query's items at the reference's pace: item k of the result is query item k / speed."""
    if speed == 1.0 or len(items) == 0:
        return items
    count = int((len(items) - 1) * speed) + 1
    source = np.minimum(np.rint(np.arange(count) / speed).astype(np.int64), len(items) - 1)
    return items[source]


def best_alignment(query: np.ndarray, reference: np.ndarray, min_overlap: int,
                   reference_spectrum: np.ndarray | None = None) -> _Alignment | None:
    """The item shift (reference = query + shift) whose overlap has the most agreeing bits beyond
    chance; None when no shift overlaps by min_overlap informative items. reference_spectrum:
    the reference's _spectrum at an FFT size of at least both lengths, reused across queries."""
    n, m = len(query), len(reference)
    if min(n, m) < min_overlap:
        return None
    if reference_spectrum is not None and 2 * (reference_spectrum.shape[1] - 1) >= n + m:
        size = 2 * (reference_spectrum.shape[1] - 1)
    else:
        size = fft_size(n, m)
        reference_spectrum = _spectrum(reference, size)
    products = np.conj(_spectrum(query, size)) * reference_spectrum
    agreement = np.fft.irfft(products[:ITEM_BITS].sum(axis=0), size)
    overlap = np.rint(np.fft.irfft(products[ITEM_BITS], size))
    shifts = np.arange(-(n - 1), m)
    agreement, overlap = agreement[shifts % size], overlap[shifts % size]
    judged = overlap >= min_overlap
    if not judged.any():
        return None
    # (agreeing - disagreeing) bits is 2 * (agreeing - chance); chance has sd sqrt(bits) / 2.
    evidence = np.where(judged, agreement / np.sqrt(ITEM_BITS * np.maximum(overlap, 1)), -np.inf)
    best = int(np.argmax(evidence))
    return _Alignment(int(shifts[best]), float(evidence[best]))


def item_errors(query: np.ndarray, reference: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Differing bits of each overlapping item pair, whether both items are informative, and the
    query index of the first pair."""
    start = max(0, -shift)
    end = min(len(query), len(reference) - shift)
    q, r = query[start:end], reference[start + shift:end + shift]
    both = informative(query)[start:end] & informative(reference)[start + shift:end + shift]
    return np.bitwise_count(q ^ r).astype(np.int64), both, start


def matching_stretch(errors: np.ndarray, counted: np.ndarray, max_ber: float, min_items: int) -> tuple[int, int] | None:
    """[first, last) of the longest run of pairs whose smoothed BER (over counted pairs) is at
    most max_ber, if it holds at least min_items counted pairs. Uncounted pairs (static items)
    inside a run do not break it."""
    kernel = np.ones(min(SMOOTHING_ITEMS, len(errors)))
    wrong = np.convolve(errors * counted, kernel, mode="same")
    bits = np.convolve(counted.astype(np.float64), kernel, mode="same") * ITEM_BITS
    good = (bits > 0) & (wrong <= max_ber * np.maximum(bits, 1))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], good.astype(np.int8), [0]))))
    if len(edges) == 0:
        return None
    starts, ends = edges[0::2], edges[1::2]
    sizes = np.array([np.count_nonzero(counted[a:b]) for a, b in zip(starts, ends)])
    longest = int(np.argmax(sizes))
    if sizes[longest] < min_items:
        return None
    return int(starts[longest]), int(ends[longest])


def _judged(query: np.ndarray, reference: np.ndarray, speed: float, alignment: _Alignment, rate: float,
            max_ber: float) -> AudioMatch:
    errors, counted, first = item_errors(query, reference, alignment.shift)
    stretch = matching_stretch(errors, counted, max_ber, MIN_MATCH_ITEMS)
    lo, hi = stretch if stretch is not None else (0, len(errors))
    pairs = np.count_nonzero(counted[lo:hi])
    ber = float((errors[lo:hi] * counted[lo:hi]).sum() / (pairs * ITEM_BITS)) if pairs else 0.5
    q_start, q_last = first + lo, first + hi - 1  # in re-timed query items
    r_start, r_last = q_start + alignment.shift, q_last + alignment.shift
    reference_segment = Segment(r_start / rate, r_last / rate + ITEM_SPAN_SECONDS)
    query_segment = Segment(q_start / rate / speed, (q_last / rate + ITEM_SPAN_SECONDS) / speed)
    return AudioMatch(stretch is not None and ber <= max_ber, ber, alignment.shift / rate, speed,
                      query_segment, reference_segment, alignment.evidence)


_NO_MATCH = AudioMatch(False, 0.5, 0.0, 1.0, Segment(0.0, 0.0), Segment(0.0, 0.0))


def _strongest(timelines, reference: np.ndarray, reference_spectrum: np.ndarray):
    """(query items at the reference's pace, speed, _Alignment) of the time line with the
    strongest evidence among (items, speed) pairs, or None when none overlaps enough."""
    best = None
    for retimed_query, speed in timelines:
        alignment = best_alignment(retimed_query, reference, MIN_MATCH_ITEMS, reference_spectrum)
        if alignment is not None and (best is None or alignment.evidence > best[2].evidence):
            best = (retimed_query, speed, alignment)
    return best


def _resampled_timelines(resampled: tuple[ResampledItems, ...]):
    for copy in resampled:
        items = np.asarray(copy.items, np.uint32)
        for residual in RESIDUAL_SPEEDS:
            yield retimed(items, residual), round(copy.speed * residual, 4)


def compare(query: AudioFingerprint, stored: AudioFingerprint, settings, speeds=SPEED_GRID) -> AudioMatch:
    """Whether the query's soundtrack is (partly) the same recording as the stored one, and where.

    The query is tried at each speed of `speeds` (and 1.0); the time line with the strongest
    evidence is judged: same_recording when a stretch of at least MIN_MATCH_ITEMS informative
    aligned items has a BER at most settings.audio_same_max_ber. When it is not, or only on a
    sped-up time line (where a resampled re-upload matches the plain items with a BER near the
    threshold, its pitch shifted), the query's resampled copies are tried (each re-timed by
    RESIDUAL_SPEEDS) and judged the same way; a match beats no match, then the lower BER wins."""
    rate = query.items_per_second
    reference = np.asarray(stored.items, np.uint32)
    items = np.asarray(query.items, np.uint32)
    # Re-timing changes a length by at most a few percent: one FFT size fits every time line.
    longest = max(len(items) * max((1.0, *speeds)),
                  *(len(copy.items) * max(RESIDUAL_SPEEDS) for copy in query.resampled), 0)
    reference_spectrum = _spectrum(reference, fft_size(int(longest) + 1, len(reference)))
    max_ber = settings.audio_same_max_ber

    def judged(best) -> AudioMatch:
        if best is None:
            return _NO_MATCH
        retimed_query, speed, alignment = best
        return _judged(retimed_query, reference, speed, alignment, rate, max_ber)

    plain = judged(_strongest(((retimed(items, speed), speed) for speed in
                               sorted({1.0, *speeds}, key=lambda s: abs(s - 1.0))), reference, reference_spectrum))
    if (plain.same_recording and plain.speed == 1.0) or not query.resampled:
        return plain
    resampled = judged(_strongest(_resampled_timelines(query.resampled), reference, reference_spectrum))
    return min(plain, resampled, key=lambda result: (not result.same_recording, result.ber))
