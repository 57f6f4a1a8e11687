"""Two soundtracks compared: the time line that aligns their Chromaprint items best, how unlikely
that alignment is for two unrelated tracks, and the stretch where they agree. Pure numpy.

Hypotheses. The query is re-timed on a speed grid (tempo changes) and, for resampled re-uploads
whose pitch moved with the tempo, its resampled copies (streams.audio.extract) are re-timed by a
few residual speeds; on a pictures' line that keeps the tempo, for a pitch shifted at a kept
tempo, each resampled copy at r is also re-timed by 1 / r; on a pictures' line beyond those
speeds (a 0.5x-2x speed button that moved the pitch too), the coarse copy nearest the line's speed
is re-timed to it. Each distinct re-timed item sequence is a time line, and every one is counted
among the hypotheses. On each, every item
offset is scored at once: the 32 bit planes, as ±1 sequences, are cross-correlated through the FFT,
giving per offset the informative item pairs n it overlaps and their bit error rate (BER).

Significance. Two unrelated tracks do not disagree on half their bits: each bit is set more or
less often in a given kind of sound (two sentences by one voice agree on about 60 % of them). The
pair's chance BER follows from the bits' frequencies in each track (`chance_ber`); one hypothesis'
BER is then modelled as normal around it, with the variance of B(n) = null_bits_scale *
n ** null_bits_power independent bits (neighbouring items share 15 of their 16 frames, so B grows
slower than 32 n), fitted on unrelated pairs by `python -m tooling.audio.calibrate`. The best
hypothesis' excess over chance in standard deviations is `evidence`; the probability that any of
the H hypotheses tried reaches it by chance (Šidák, counting null_hypotheses_per_trial correlated
hypotheses as one trial) is `false_alarm`, and `same_recording` is false_alarm <= max_false_alarm.
So a short overlap or a wide search needs a lower BER, and a search restricted to a known time
map (`compare(..., near=TimeMap(...))`) a less low one.

The other way round. Over a few seconds even identical sound may not reach max_false_alarm (a
narrowband voice's bits are so biased that its chance BER is 0.13). On a given time map (the
pictures' line) such a comparison still tells "not the same recording" when even its best
hypothesis there agrees less than copies do: a BER over the overlap of at least
copy_max_ber_share of the chance BER, a share that copies of a recording (re-encoded, quieter,
noisier, clipped, re-timed, resampled) stay under on their line, fitted on copies by
`python -m tooling.audio.calibrate` with the rate of copies it would miss. Either way "differs"
(`decisive`) is positive evidence: the agreement must also be one unrelated tracks reach at least
differ_min_false_alarm of the time. An agreement between that and max_false_alarm (a 0.8x copy of
quiet film sound, a pitch shift beyond the hypotheses) is inconclusive, as a too short overlap is.

Sound added on top. A voice-over mixed on the music at its level, or noise at 0 dB SNR, leaves
Chromaprint at chance; on the pictures' line the spectral-peak landmarks (streams.audio.landmarks)
are the second test (compare_on_line, landmarks_on_line), at their own false-alarm rate.

Items that repeat unchanged (silence is one constant item, so is a held tone) carry no evidence:
they are left out on both sides, or two silent tracks would be "the same recording"."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from streams.audio import ITEM_SPAN_SECONDS, AudioFingerprint
from streams.audio.landmarks import FRAMES_PER_SECOND, LandmarkMatch, compare_landmarks
from streams.audio.memo import derived
from streams.params import AudioParams
from streams.values import Segment

ITEM_BITS = 32


class TimeMap(NamedTuple):
    """reference_time = speed * query_time + offset (seconds)."""

    offset: float
    speed: float = 1.0
    # The share by which the speed may be off (a short pictures' line's: alignment.speed_uncertainty);
    # the sound on the line is heard at the speeds within it, every one counted among the hypotheses.
    speed_share: float = 0.0


class AudioMatch(NamedTuple):
    """Satisfies streams.matching.decision.AudioResult."""

    same_recording: bool  # false_alarm <= max_false_alarm
    ber: float  # bit error rate over the matching stretch (over the whole overlap when none): for people
    offset: float  # seconds: reference_time = speed * query_time + offset
    speed: float
    query_segment: Segment  # seconds of the query
    reference_segment: Segment  # seconds of the reference
    evidence: float = 0.0  # the best hypothesis' BER under the pair's chance BER, in null standard deviations
    false_alarm: float = 1.0  # probability that unrelated tracks align as well among the hypotheses tried
    overlap_seconds: float = 0.0  # sound covered by the best hypothesis' overlapping informative items
    hypotheses: int = 0  # offsets x time lines tried
    chance_ber: float = 0.5  # the BER two unrelated tracks with these bit frequencies would have
    # Whether the recordings differ, on positive evidence: the best hypothesis agrees no better than
    # unrelated tracks do at least differ_min_false_alarm of the time, and either a perfect agreement
    # over its overlap would have passed the test or, on a given time map (near=), it agrees less
    # than a copy does there (its BER over the overlap at least copy_max_ber_share of the chance
    # BER); or the landmarks found a shared part that is not the whole recording (landmarks_on_line).
    # When not, and not the same recording, the sound is inconclusive (too little shared sound, or
    # an agreement between a copy's and chance) and the decision goes by the frames.
    decisive: bool = False
    overlap_ber: float = 0.5  # the best hypothesis' BER over its whole overlap
    could_find: bool = False  # identical sound over that overlap would have passed the test
    # Which test found the same recording: "chromaprint", or "landmarks" when Chromaprint did not
    # and the spectral-peak landmarks did on the pictures' line (compare_on_line); false_alarm,
    # offset, speed and the segments are then the landmarks', ber and chance_ber Chromaprint's.
    test: str = "chromaprint"
    landmarks: LandmarkMatch | None = None  # the landmark comparison on the line, when one was made


class _Line(NamedTuple):
    items: np.ndarray  # the query's items at the reference's pace
    speed: float
    own_chance: bool = False  # its bits' frequencies are not the plain items' (a coarse line copy)


class _Best(NamedTuple):
    line: _Line
    shift: int  # reference item = re-timed query item + shift
    evidence: float
    chance: float
    overlap: int  # informative item pairs


def informative(items: np.ndarray, static_run: int) -> np.ndarray:
    """bool [N]: the items that are not part of a run of static_run or more identical items."""
    items = np.asarray(items, np.uint32)
    if len(items) == 0:
        return np.zeros(0, bool)
    starts = np.flatnonzero(np.concatenate(([True], items[1:] != items[:-1])))
    lengths = np.diff(np.concatenate((starts, [len(items)])))
    return np.repeat(lengths < static_run, lengths)


def _bits(items: np.ndarray) -> np.ndarray:
    """[N, 32] 0/1 of each item's bits."""
    return (np.asarray(items, np.uint32)[:, None] >> np.arange(ITEM_BITS, dtype=np.uint32)) & 1


def _planes(items: np.ndarray, static_run: int) -> np.ndarray:
    """[33, N] float: per bit, +1 set / -1 clear (0 for static items); last row: 1 if informative."""
    mask = informative(items, static_run)
    return np.vstack(((_bits(items).T.astype(np.float64) * 2 - 1) * mask, mask[None, :]))


def chance_ber(query: np.ndarray, reference: np.ndarray, static_run: int) -> float:
    """The expected BER of two unrelated tracks with these bit frequencies (informative items):
    1 - mean over bits of p q + (1 - p)(1 - q)."""
    frequencies = []
    for items in (query, reference):
        mask = informative(items, static_run)
        frequencies.append(_bits(np.asarray(items, np.uint32)[mask]).mean(axis=0) if mask.any()
                           else np.full(ITEM_BITS, 0.5))
    p, q = frequencies
    return float(1 - np.mean(p * q + (1 - p) * (1 - q)))


def null_sd(chance: float, overlap, params: AudioParams):
    """Standard deviation of one hypothesis' BER over `overlap` informative items, unrelated tracks."""
    bits = params.null_bits_scale * np.power(np.maximum(overlap, 1), params.null_bits_power)
    return np.sqrt(max(chance * (1 - chance), 1e-6) / bits)


def false_alarm(evidence: float, hypotheses: int, params: AudioParams) -> float:
    """P(the best of `hypotheses` unrelated alignments has at least this evidence) (Šidák)."""
    if hypotheses <= 0 or not math.isfinite(evidence):
        return 1.0
    one = 0.5 * math.erfc(evidence / math.sqrt(2))
    trials = max(1.0, hypotheses / params.null_hypotheses_per_trial)
    return 1.0 if one >= 1.0 else -math.expm1(trials * math.log1p(-one))


def fft_size(query_items: int, reference_items: int) -> int:
    return 1 << int(np.ceil(np.log2(max(query_items + reference_items, 2))))


def retimed(items: np.ndarray, speed: float) -> np.ndarray:
    """The query's items at the reference's pace: item k of the result is query item k / speed.
    Once per items array and speed: the same array then meets every candidate (_plane_spectrum)."""
    if speed == 1.0 or len(items) == 0:
        return items
    return derived(items, ("retimed", speed), lambda: _retimed(items, speed))


def _retimed(items: np.ndarray, speed: float) -> np.ndarray:
    count = int((len(items) - 1) * speed) + 1
    source = np.minimum(np.rint(np.arange(count) / speed).astype(np.int64), len(items) - 1)
    return items[source]


def _shift_range(line: _Line, reference_items: int, rate: float, params: AudioParams, near: TimeMap | None,
                 tolerance_s: float) -> tuple[int, int]:
    """[lo, hi] of the shifts tried on a line: those overlapping by min_match_items items, and
    with `near`, those whose time map lies within tolerance_s of it at the query's middle."""
    lo, hi = params.min_match_items - len(line.items), reference_items - params.min_match_items
    if near is not None:
        middle = len(line.items) / rate / line.speed / 2
        centre = near.offset + (near.speed - line.speed) * middle
        lo, hi = max(lo, math.ceil((centre - tolerance_s) * rate)), min(hi, math.floor((centre + tolerance_s) * rate))
    return lo, hi


def shift_scores(line_items: np.ndarray, reference_spectrum: np.ndarray, shifts: tuple[int, int],
                 params: AudioParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per shift in [lo, hi]: the shift, the informative item pairs it overlaps, and their BER.
    reference_spectrum: the rFFT of the reference's _planes, of a size that holds both tracks."""
    size = 2 * (reference_spectrum.shape[1] - 1)
    products = np.conj(_plane_spectrum(line_items, size, params.static_run)) * reference_spectrum
    candidates = np.arange(shifts[0], shifts[1] + 1)
    agreement = np.fft.irfft(products[:ITEM_BITS].sum(axis=0), size)[candidates % size]
    overlap = np.rint(np.fft.irfft(products[ITEM_BITS], size))[candidates % size]
    return candidates, overlap, (1 - agreement / (ITEM_BITS * np.maximum(overlap, 1))) / 2


def _plane_spectrum(items: np.ndarray, size: int, static_run: int) -> np.ndarray:
    """The rFFT of the items' _planes at this size, once per items array: a query's lines meet
    every candidate, most of them at one or two sizes."""
    return derived(items, ("planes", size, static_run), lambda: np.fft.rfft(_planes(items, static_run), size))


def reference_spectrum(reference: np.ndarray, longest_query: int, params: AudioParams) -> np.ndarray:
    return _plane_spectrum(reference, fft_size(longest_query, len(reference)), params.static_run)


def _best_on_line(line: _Line, spectrum: np.ndarray, shifts: tuple[int, int], chance: float,
                  params: AudioParams) -> _Best | None:
    """The shift with the strongest evidence on one line, among those overlapping by
    min_match_items informative items."""
    candidates, overlap, ber = shift_scores(line.items, spectrum, shifts, params)
    judged = overlap >= params.min_match_items
    if not judged.any():
        return None
    evidence = np.where(judged, (chance - ber) / null_sd(chance, overlap, params), -np.inf)
    best = int(np.argmax(evidence))
    return _Best(line, int(candidates[best]), float(evidence[best]), chance, int(overlap[best]))


def item_errors(query: np.ndarray, reference: np.ndarray, shift: int, static_run: int):
    """Differing bits of each overlapping item pair, whether both items are informative, and the
    query index of the first pair."""
    start = max(0, -shift)
    end = min(len(query), len(reference) - shift)
    q, r = query[start:end], reference[start + shift:end + shift]
    both = informative(query, static_run)[start:end] & informative(reference, static_run)[start + shift:end + shift]
    return np.bitwise_count(q ^ r).astype(np.int64), both, start


def matching_stretch(errors: np.ndarray, counted: np.ndarray, max_ber: float, params: AudioParams):
    """[first, last) of the longest run of pairs whose smoothed BER (over counted pairs) is at
    most max_ber, if it holds at least min_match_items counted pairs. Uncounted pairs (static
    items) inside a run do not break it."""
    kernel = np.ones(min(params.smoothing_items, len(errors)))
    wrong = np.convolve(errors * counted, kernel, mode="same")
    bits = np.convolve(counted.astype(np.float64), kernel, mode="same") * ITEM_BITS
    good = (bits > 0) & (wrong <= max_ber * np.maximum(bits, 1))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], good.astype(np.int8), [0]))))
    if len(edges) == 0:
        return None
    starts, ends = edges[0::2], edges[1::2]
    sizes = np.array([np.count_nonzero(counted[a:b]) for a, b in zip(starts, ends)])
    longest = int(np.argmax(sizes))
    if sizes[longest] < params.min_match_items:
        return None
    return int(starts[longest]), int(ends[longest])


def _judged(best: _Best, reference: np.ndarray, rate: float, hypotheses: int, params: AudioParams,
            on_a_line: bool) -> AudioMatch:
    """The match at the best hypothesis: its significance, and the stretch where the smoothed BER
    is nearer the overlap's than chance (where the two tracks agree). on_a_line: the hypotheses
    were those of a given time map, where a copy's sound would agree."""
    errors, counted, first = item_errors(best.line.items, reference, best.shift, params.static_run)
    pairs = max(int(np.count_nonzero(counted)), 1)
    overall = float((errors * counted).sum() / (pairs * ITEM_BITS))
    stretch = matching_stretch(errors, counted, (overall + best.chance) / 2, params)
    lo, hi = stretch if stretch is not None else (0, len(errors))
    ber = float((errors[lo:hi] * counted[lo:hi]).sum() / (max(np.count_nonzero(counted[lo:hi]), 1) * ITEM_BITS))
    q_start, q_last = first + lo, first + hi - 1  # in re-timed query items
    r_start, r_last = q_start + best.shift, q_last + best.shift
    speed = best.line.speed
    chance_of_it = false_alarm(best.evidence, hypotheses, params)
    perfect = false_alarm(best.chance / float(null_sd(best.chance, best.overlap, params)), hypotheses, params)
    could_find = perfect <= params.max_false_alarm
    unlike_a_copy = on_a_line and overall >= params.copy_max_ber_share * best.chance
    # "Differs" needs the agreement to be one unrelated tracks reach this often (not merely short
    # of max_false_alarm), on an overlap where a copy would have shown, or agree less than copies do.
    differs = chance_of_it > params.differ_min_false_alarm and (could_find or unlike_a_copy)
    return AudioMatch(chance_of_it <= params.max_false_alarm, ber, best.shift / rate, speed,
                      Segment(q_start / rate / speed, (q_last / rate + ITEM_SPAN_SECONDS) / speed),
                      Segment(r_start / rate, r_last / rate + ITEM_SPAN_SECONDS), best.evidence, chance_of_it,
                      (best.overlap - 1) / rate + ITEM_SPAN_SECONDS, hypotheses, best.chance,
                      differs, overall, could_find)


_NO_MATCH = AudioMatch(False, 0.5, 0.0, 1.0, Segment(0.0, 0.0), Segment(0.0, 0.0))


def _lines(query: AudioFingerprint, params: AudioParams, near: TimeMap | None) -> tuple[list[_Line], list[_Line]]:
    """The distinct time lines: the plain items re-timed (speed 1.0 first, then outwards), and the
    resampled copies re-timed by the residual speeds; with `near`, only those near its speed, and
    the plain items re-timed to that speed itself: the pictures measured how much faster the copy
    plays (a tempo change of 0.8 or 1.25 lies beyond the free search's grid), so the sound is heard
    at that speed, one more line rather than a wider grid of hypotheses for every comparison.
    A short query re-timed by 1 % is often the very same sequence: it is one hypothesis."""
    items = np.asarray(query.items, np.uint32)
    # The pictures' speed, and in 1 % steps as far as its uncertainty (a short line's speed is
    # known to a sampling step over its span: streams.matching.alignment.speed_uncertainty).
    steps = 0 if near is None else int(near.speed_share * 100 + 1e-9)
    on_the_line = () if near is None else (round(near.speed, 2), *(round(near.speed * (1 + 0.01 * k), 3)
                                                                     for k in range(-steps, steps + 1) if k))
    window = 0.0 if near is None else max(params.near_speed_tolerance, near.speed * near.speed_share)
    speeds = sorted({1.0, *params.speed_grid, *on_the_line}, key=lambda speed: abs(speed - 1))
    plain = [_Line(retimed(items, speed), speed) for speed in speeds]
    # A resampled copy at r re-timed by a residual models a pitch that moved with the tempo: the free
    # search keeps to the copies within the grid's tempo range. When the pictures' line keeps the
    # tempo (speed 1 within near_speed_tolerance), each copy is also re-timed by 1 / r, back to that
    # tempo: a pitch shifted at a kept tempo (the whole semitones beyond the grid are there for it).
    # Nowhere else: on a sped-up line these 14 lines would raise the false alarm of every tempo
    # copy's sound for a double edit, and in the free search they would widen every audio-only
    # search by half and lower unrelated pairs' best BER (1918.mp3 against funkyrobot.mp3: 0.34).
    lowest, highest = min(params.speed_grid) - 1e-9, max(params.speed_grid) + 1e-9
    coarse = set(params.line_speeds)
    copies = [copy for copy in query.resampled
              if copy.speed not in coarse and (near is not None or lowest <= copy.speed <= highest)]
    resampled = [_Line(retimed(np.asarray(copy.items, np.uint32), residual), round(copy.speed * residual, 4))
                 for copy in copies for residual in params.residual_speeds]
    kept_tempo = near is not None and abs(near.speed - 1.0) <= params.near_speed_tolerance + 1e-9
    pitched = [_Line(retimed(np.asarray(copy.items, np.uint32), 1.0 / copy.speed), 1.0)
               for copy in (copies if kept_tempo else ())]
    # On a line beyond the resampled speeds (0.5x-2x), per speed heard there one coarse copy: the
    # nearest, re-timed to that speed; its pitch may miss by half the coarse step, which Chromaprint hears.
    line_copies = [copy for copy in query.resampled if copy.speed in coarse]
    on_line = []
    for speed in on_the_line:
        nearest = min(line_copies, key=lambda copy: abs(math.log(speed / copy.speed)), default=None)
        if nearest is not None and abs(speed / nearest.speed - 1) <= params.line_speed_tolerance + 1e-9:
            on_line.append(_Line(retimed(np.asarray(nearest.items, np.uint32), speed / nearest.speed), speed, True))
    seen: set[bytes] = set()

    def kept(lines: list[_Line]) -> Iterator[_Line]:
        for line in lines:
            key = line.items.tobytes()
            if near is not None and abs(line.speed - near.speed) > window + 1e-9:
                continue
            if len(line.items) and key not in seen:
                seen.add(key)
                yield line

    return list(kept(plain)), list(kept(resampled + pitched + on_line))


def compare(query: AudioFingerprint, stored: AudioFingerprint, params: AudioParams, near: TimeMap | None = None,
            tolerance_s: float = 1.0) -> AudioMatch:
    """Whether the query's soundtrack is (partly) the same recording as the stored one, and where.

    Without `near`, every offset of every time line is a hypothesis (audio-only candidates). With
    near=TimeMap(offset, speed, share), only the time lines within params.near_speed_tolerance (or
    share, when wider) of its
    speed and the offsets that put the query's middle within tolerance_s seconds of where the map
    puts it: far fewer hypotheses, so the same alignment is more significant (e.g. to confirm a
    visual match under its own time map). The plain items are searched first; the resampled
    copies only when those find no match at speed 1 (the copies are counted among the hypotheses
    either way, so stopping early does not change the test)."""
    rate = query.items_per_second
    reference = np.asarray(stored.items, np.uint32)
    plain, resampled = _lines(query, params, near)
    ranges = {id(line): _shift_range(line, len(reference), rate, params, near, tolerance_s)
              for line in plain + resampled}
    hypotheses = sum(max(0, hi - lo + 1) for lo, hi in ranges.values())
    if hypotheses == 0:
        return _NO_MATCH
    longest = max(len(line.items) for line in plain + resampled)
    spectrum = reference_spectrum(reference, longest, params)
    # The chance BER depends on the bits' frequencies, which re-timing and a resampling by a few %
    # barely change; one by 0.5-2x does (other notes fall in each chroma bin): a copy's own.
    chance = chance_ber(np.asarray(query.items, np.uint32), reference, params.static_run)
    coarse = {id(line): chance_ber(line.items, reference, params.static_run) for line in resampled if line.own_chance}

    def strongest(lines: list[_Line], best: _Best | None) -> _Best | None:
        for line in lines:
            lo, hi = ranges[id(line)]
            if lo <= hi:
                found = _best_on_line(line, spectrum, (lo, hi), coarse.get(id(line), chance), params)
                if found is not None and (best is None or found.evidence > best.evidence):
                    best = found
        return best

    best = strongest(plain, None)
    if best is not None:
        judged = _judged(best, reference, rate, hypotheses, params, near is not None)
        if judged.same_recording and best.line.speed == 1.0:
            return judged
    best = strongest(resampled, best)
    return _NO_MATCH._replace(hypotheses=hypotheses) if best is None else _judged(best, reference, rate,
                                                                                   hypotheses, params, near is not None)


def agrees(match: AudioMatch, time_map: TimeMap, tolerance_s: float) -> bool:
    """Whether the audio match lies on the given time map: at both ends of the matched query
    segment the two maps put the reference within tolerance_s seconds of each other (on a few
    seconds of sound the speed itself is barely determined; over a long segment this bounds it)."""
    ends = (match.query_segment.start, match.query_segment.end)
    return all(abs((match.speed - time_map.speed) * t + match.offset - time_map.offset) <= tolerance_s for t in ends)


def compare_on_line(query: AudioFingerprint, stored: AudioFingerprint, params: AudioParams, line: TimeMap,
                    tolerance_s: float, on_line: Callable[[AudioMatch], bool]) -> AudioMatch:
    """What the sound says about a known time line (a visual match's): the free comparison when it
    finds the same recording on the line; else the comparison restricted to the line (near=line,
    a few hypotheses, so a short or clipped track asks less of the test) when that does; else the
    spectral-peak landmarks on the line when they find it (sound added on top: a voice-over, noise;
    landmarks_on_line); else the free comparison when it found the same recording elsewhere (a
    finding on another time line), and otherwise the one on the line, whose `decisive` says whether
    the sound there differs (a copy whose agreement falls short of max_false_alarm on the line is
    not "different" for agreeing still less anywhere else). on_line: whether a match lies on the
    line."""
    free = _free(query, stored, params)
    if free.same_recording and on_line(free):
        return free
    near = compare(query, stored, params, near=line, tolerance_s=tolerance_s)
    if near.same_recording and on_line(near):
        return near
    return landmarks_on_line(free if free.same_recording else near, query, stored, params, line, tolerance_s,
                             on_line)


def _free(query: AudioFingerprint, stored: AudioFingerprint, params: AudioParams) -> AudioMatch:
    """compare without a time map, once per query and stored soundtrack: judge's candidates and
    the originals their copies lead to (streams.pipeline.sound_through_copies) are often the same
    videos. Keyed by the stored items' and the query's resampled copies' content (each is decoded
    afresh per comparison; a fingerprint _replace'd with other copies shares the query's items)."""
    copies = tuple((copy.speed, np.asarray(copy.items, np.uint32).tobytes()) for copy in query.resampled)
    key = ("free", params, query.items_per_second, np.asarray(stored.items, np.uint32).tobytes(), copies)
    return derived(query.items, key, lambda: compare(query, stored, params))


def landmarks_on_line(chromaprint: AudioMatch, query: AudioFingerprint, stored: AudioFingerprint,
                      params: AudioParams, line: TimeMap, tolerance_s: float,
                      on_line: Callable[[AudioMatch], bool]) -> AudioMatch:
    """The second test, where Chromaprint did not find the same recording on the line: the
    landmarks' comparison on it (streams.audio.landmarks.compare_landmarks) as an AudioMatch with
    test="landmarks" when it passes and lies on the line; otherwise Chromaprint's result, with the
    landmarks' attached, and decisive when they agree on one offset beyond chance but the test
    refused the agreement as a part of the recording only (a shared bed under other words: another
    recording, whatever Chromaprint's middling agreement says). A side without landmarks (indexed
    before them) leaves Chromaprint alone."""
    if len(query.landmarks) == 0 or len(stored.landmarks) == 0:
        return chromaprint
    found = compare_landmarks(query.landmarks, stored.landmarks, params, line.offset, line.speed, tolerance_s)
    if not found.same_recording:
        shared_part = found.false_alarm <= params.landmark_max_false_alarm
        return chromaprint._replace(landmarks=found, decisive=chromaprint.decisive or shared_part)
    # The anchors' stretch, and the pairs' reach after the last one.
    query_segment = Segment(found.query_start, found.query_end + params.landmark_max_dt / FRAMES_PER_SECOND)
    match = chromaprint._replace(
        same_recording=True, test="landmarks", landmarks=found, false_alarm=found.false_alarm, offset=found.offset,
        speed=found.speed, query_segment=query_segment,
        reference_segment=Segment(found.speed * query_segment.start + found.offset,
                                  found.speed * query_segment.end + found.offset),
        overlap_seconds=query_segment.end - query_segment.start, hypotheses=found.hypotheses, decisive=True)
    return match if on_line(match) else chromaprint._replace(landmarks=found)
