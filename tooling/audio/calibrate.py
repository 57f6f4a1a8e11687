"""The audio significance test fitted and checked on real audio, reproducible:
`python -m tooling.audio.calibrate [CACHE_DIR] [--share-only]` (docs/audio.md quotes its output);
`... --landmarks`: the landmark test's null and its copies with sound added (calibrate_landmarks);
`... --series`: a voice's other words over one loud bed against copies of it (calibrate_series).
Both also print Chromaprint's false alarm on the line where the landmarks alone accept (report_chromaprint).

Two pools of recordings that share nothing: the null model (streams.audio.match) is fitted on the
calibration pool, and every figure after the fit is measured on the held-out pool. Each pool has
music, real speech and espeak-ng speech (several voices, each saying several different word
sequences). Unrelated pairs, for each clip length: a clip of one recording against another whole
recording, in five classes — other music; the same synthetic voice saying other words (the "same
person, same room, different talk" case); another voice; speech against music; and two takes of
one voice saying different words over the same music bed 20 dB under the voice. Copies: clips of
the held-out recordings after each edit of tooling.audio.edits (plus a voice or music mixed over
them), found when judged the same recording on the right time line.

Printed: the silence rule on quiet and silent tracks; the per-hypothesis null fit (effective
bits per overlap, from every offset of the calibration pairs) and the correlated-hypotheses factor
(from their best alignments); then on the held-out pool the best BER and evidence per clip length,
the false alarms measured against the rate the model predicts, each class's, and the recall of
copies per edit and clip length."""

from __future__ import annotations

import hashlib
import math
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from schemas.events import AudioState
from streams.audio import CHROMAPRINT_SAMPLE_RATE as RATE, AudioFingerprint
from tooling.audio.edits import EDITS, Edit, edited, excerpt, pink_noise
from tooling.devset.speech import spoken
from streams.audio.extract import decode_mono, fingerprint_samples, usable_seconds
from streams.audio.match import (TimeMap, agrees, chance_ber, compare, compare_on_line, false_alarm, reference_spectrum,
                                 shift_scores)
from streams.config import Settings
from tooling.devset.packaged import packaged_media
from streams.params import AudioParams, DecisionParams

LENGTHS = (3, 4, 6, 8, 12, 20)
PAIRS_PER_CLASS = 40  # per clip length and pool
COPIES_PER_EDIT = 4  # clips per recording, edit and length
REFERENCE_SECONDS = 30.0
BED_UNDER_VOICE_DB = 20.0
RATES = (0.1, 0.01, 1e-3, 1e-4)
TAIL_RATE = 0.01  # the false-alarm rate the correlated-hypotheses factor is matched at
NULL_CLASSES = ("other music", "same voice, other words", "other voice", "speech vs music", "other words, same bed",
                "one speaker, another moment")


class Pool(NamedTuple):
    name: str
    music: tuple[str, ...]  # packaged recordings
    speech: tuple[str, ...]
    voices: tuple[str, ...]  # espeak-ng voices
    seeds: tuple[int, ...]  # word sequences each voice says


# Real speech includes narrowband recordings (codec2's samples): their bits are so biased that
# their chance BER is near 0.13, where a few seconds cannot pass the test even when identical.
CALIBRATION = Pool("calibration", ("funkyrobot.mp3", "trailer_bbb.mp4"),
                   ("cate_blanch.mp3", "heath_ledger.mp3", "codec2_ve9qrp.wav", "codec2_vk5qi.wav"),
                   ("en-us", "en-gb-scotland", "de"), (0, 1, 2, 3))
HELD_OUT = Pool("held-out", ("1918.mp3", "sax.wav"),
                ("cate_blanch_2.mp3", "recording1.wav", "codec2_david4.wav", "codec2_vk2tpm_004.wav"),
                ("en-gb", "en-029+f2", "fr-fr"), (100, 101, 102, 103))


class Tracks(NamedTuple):
    music: dict[str, np.ndarray]  # 11025 Hz mono samples
    speech: dict[str, np.ndarray]
    voices: dict[tuple[str, int], np.ndarray]


class Trial(NamedTuple):
    kind: str
    length: float
    result: object  # AudioMatch, or None when the clip is too_little_audio
    on_line: object = None  # AudioMatch of compare_on_line at a random time line (as a visual match would put it)


def load(pool: Pool, media: dict[str, Path], directory: Path, settings: Settings) -> Tracks:
    voices = {(voice, seed): decode_mono(spoken(voice, seed, directory / f"{voice}.{seed}.wav"), settings)
              for voice in pool.voices for seed in pool.seeds}
    return Tracks({name: decode_mono(media[name], settings) for name in pool.music},
                  {name: decode_mono(media[name], settings) for name in pool.speech}, voices)


def _clip(rng, samples: np.ndarray, seconds: float) -> np.ndarray | None:
    size = int(seconds * RATE)
    if len(samples) < size:
        return None
    start = int(rng.integers(0, len(samples) - size + 1))
    return samples[start:start + size]


def _reference(rng, samples: np.ndarray) -> np.ndarray:
    """REFERENCE_SECONDS of the recording (all of a shorter one)."""
    return _clip(rng, samples, min(REFERENCE_SECONDS, len(samples) / RATE))


def _mixed(voice: np.ndarray, bed: np.ndarray) -> np.ndarray:
    """The voice over the start of the bed, the bed BED_UNDER_VOICE_DB under the voice (RMS)."""
    bed = bed[:len(voice)]
    gain = np.sqrt(np.mean(voice ** 2) / max(np.mean(bed ** 2), 1e-12)) * 10 ** (-BED_UNDER_VOICE_DB / 20)
    return voice[:len(bed)] + gain * bed


def null_pairs(tracks: Tracks, length: float, rng) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(class, query clip, reference track) of unrelated recordings."""
    pairs = []
    music, voices = list(tracks.music.items()), list(tracks.voices)
    speech = list(tracks.speech.values()) + list(tracks.voices.values())
    # A recorded speaker's other words: a clip of a recording's first half against its second half.
    halves = [samples for samples in tracks.speech.values() if len(samples) >= 2 * (length + 1) * RATE]
    for _ in range(PAIRS_PER_CLASS):
        (_, a), (_, b) = (music[i] for i in rng.permutation(len(music))[:2])
        pairs.append(("other music", _clip(rng, a, length), _reference(rng, b)))
        voice, seed = voices[rng.integers(len(voices))]
        other_seed = rng.choice([s for v, s in voices if v == voice and s != seed])
        pairs.append(("same voice, other words", _clip(rng, tracks.voices[voice, seed], length),
                      tracks.voices[voice, other_seed]))
        other_voice, third_seed = voices[rng.integers(len(voices))]
        while other_voice == voice or third_seed == seed:  # other words: one text in two voices is not unrelated
            other_voice, third_seed = voices[rng.integers(len(voices))]
        pairs.append(("other voice", _clip(rng, tracks.voices[voice, seed], length),
                      tracks.voices[other_voice, third_seed]))
        talk, (_, tune) = speech[rng.integers(len(speech))], music[rng.integers(len(music))]
        if rng.random() < 0.5:
            pairs.append(("speech vs music", _clip(rng, talk, length), _reference(rng, tune)))
        else:
            pairs.append(("speech vs music", _clip(rng, tune, length), talk))
        bed = _reference(rng, tune)
        pairs.append(("other words, same bed", _clip(rng, _mixed(tracks.voices[voice, seed], bed), length),
                      _mixed(tracks.voices[voice, other_seed], bed)))
        if halves:
            recording = halves[rng.integers(len(halves))]
            middle = len(recording) // 2
            pairs.append(("one speaker, another moment", _clip(rng, recording[:middle], length),
                          recording[middle:]))
    return [pair for pair in pairs if pair[1] is not None and pair[2] is not None]


class Fingerprints:
    """Fingerprints of sample arrays, the references' kept (a stored video has no resampled copies)."""

    def __init__(self, params: AudioParams):
        self.params, self.references = params, {}

    def query(self, samples: np.ndarray) -> AudioFingerprint:
        return fingerprint_samples(samples, self.params)

    def reference(self, samples: np.ndarray) -> AudioFingerprint:
        key = hashlib.sha1(np.ascontiguousarray(samples).tobytes()).digest()
        if key not in self.references:
            self.references[key] = fingerprint_samples(samples, replace(self.params, resampled_speeds=()))
        return self.references[key]


def run_nulls(pairs_by_length, fingerprints: Fingerprints, params: AudioParams, lines=None) -> list[Trial]:
    """Each pair compared with the full search; with `lines` (a random generator), also on a
    random time line (compare_on_line), as a visual match of unrelated sound would put it."""
    trials = []
    for length, pairs in pairs_by_length.items():
        for kind, clip, reference in pairs:
            query = fingerprints.query(clip)
            if query.state != AudioState.OK:
                trials.append(Trial(kind, length, None))
                continue
            stored = fingerprints.reference(reference)
            on_line = None
            if lines is not None:
                line = TimeMap(float(lines.uniform(0, max(0.0, (len(reference) - len(clip)) / RATE))))
                on_line = compare_on_line(query, stored, params, line, LINE_TOLERANCE,
                                          lambda result: agrees(result, line, LINE_TOLERANCE))
            trials.append(Trial(kind, length, compare(query, stored, params), on_line))
    return trials


def fit_bits(pairs_by_length, fingerprints: Fingerprints, params: AudioParams) -> tuple[float, float, str]:
    """null_bits_scale and null_bits_power from every offset of the calibration pairs at speed 1:
    per band of overlap n, the BER's excess over the pair's chance BER, in units of
    sqrt(c (1 - c)), has its 99.9th percentile at 3.09 standard deviations of 1 / sqrt(B(n)) if
    normal; B(n) = scale * n ** power is fitted through the bands by least squares in logs."""
    excess, overlaps = [], []
    for pairs in pairs_by_length.values():
        for _, clip, reference_samples in pairs:
            query = fingerprints.query(clip)
            if query.state != AudioState.OK:
                continue
            reference = fingerprints.reference(reference_samples).items
            spectrum = reference_spectrum(reference, len(query.items), params)
            _, overlap, ber = shift_scores(query.items, spectrum, (params.min_match_items - len(query.items),
                                                                   len(reference) - params.min_match_items), params)
            chance = chance_ber(query.items, reference, params.static_run)
            kept = overlap >= params.min_match_items
            excess.append((chance - ber[kept]) / math.sqrt(chance * (1 - chance)))
            overlaps.append(overlap[kept])
    excess, overlaps = np.concatenate(excess), np.concatenate(overlaps)
    edges = np.unique(np.geomspace(params.min_match_items, overlaps.max() + 1, 12).astype(int))
    lines, centres, bits = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        band = excess[(overlaps >= lo) & (overlaps < hi)]
        if len(band) < 2000:
            continue
        sd = np.quantile(band, 0.999) / 3.090
        centres.append(math.sqrt(lo * hi))
        bits.append(1 / sd ** 2)
        lines.append(f"  n {lo:3d}-{hi - 1:3d} items: {len(band):7d} offsets, sd {band.std():.3f}, "
                     f"99.9th percentile {np.quantile(band, 0.999):.3f} -> {bits[-1]:6.1f} effective bits "
                     f"({bits[-1] / centres[-1]:.1f} per item)")
    power, log_scale = np.polyfit(np.log(centres), np.log(bits), 1)
    return float(np.exp(log_scale)), float(power), "\n".join(lines)


def fit_trials(trials: list[Trial], params: AudioParams) -> float:
    """null_hypotheses_per_trial k, fitted where the decision is made: under the model, with one
    hypothesis' tail q(z) and H hypotheses, E = -H log(1 - q(z_best)) is exponential with mean k
    and false_alarm = 1 - exp(-E / k), so that P(false_alarm <= a) = a needs the a-quantile of E
    to be -k log(1 - a). k is set so for a = TAIL_RATE on the calibration pairs; the maximum
    likelihood k (the bulk) is printed beside it."""
    one = replace(params, null_hypotheses_per_trial=1.0)
    values = [-math.log1p(-false_alarm(t.result.evidence, 1, one)) * t.result.hypotheses
              for t in trials if t.result is not None and t.result.hypotheses]
    tail = float(np.quantile(values, TAIL_RATE) / -math.log1p(-TAIL_RATE))
    print(f"  correlated hypotheses per trial: maximum likelihood (the bulk) {np.mean(values):.2f}; "
          f"matched at false alarms <= {TAIL_RATE:g}: {tail:.2f}")
    return tail


def _quantiles(values) -> str:
    v = np.asarray(values)
    return " ".join(f"{q:.3f}" for q in np.quantile(v, (0.0, 0.01, 0.05, 0.5)))


def report_nulls(trials: list[Trial], params: AudioParams, lengths: tuple[float, ...] = LENGTHS) -> None:
    print(f"{'length':>6s} {'pairs':>5s} {'compared':>8s} {'best BER min/1%/5%/median':>27s} "
          f"{'evidence max':>12s} {'hypotheses':>10s}  " + "  ".join(f"FA<={rate:g} measured" for rate in RATES))
    for length in lengths:
        done = [t.result for t in trials if t.length == length and t.result is not None]
        count = sum(t.length == length for t in trials)
        if not done:
            print(f"{length:6.0f} {count:5d} {0:8d}  (every clip too_little_audio)")
            continue
        measured = "  ".join(f"{np.mean([r.false_alarm <= rate for r in done]):>{len(f'FA<={rate:g} measured')}.4f}"
                             for rate in RATES)
        print(f"{length:6.0f} {count:5d} {len(done):8d} {_quantiles([r.ber for r in done]):>27s} "
              f"{max(r.evidence for r in done):12.2f} {int(np.median([r.hypotheses for r in done])):10d}  {measured}")
    done = [t.result for t in trials if t.result is not None]
    print("all lengths: " + ", ".join(f"FA <= {rate:g}: {sum(r.false_alarm <= rate for r in done)}/{len(done)} "
                                      f"measured, {rate * len(done):.2f} predicted" for rate in RATES))
    print(f"\nper class (all lengths), judged the same recording at max_false_alarm {params.max_false_alarm:g}:")
    for kind in NULL_CLASSES:
        done = [t.result for t in trials if t.kind == kind and t.result is not None]
        lowest = min(done, key=lambda r: r.false_alarm)
        print(f"  {kind:24s} {sum(r.same_recording for r in done)}/{len(done)}; lowest false alarm "
              f"{lowest.false_alarm:.2g} (BER {lowest.ber:.3f}, chance {lowest.chance_ber:.3f}, "
              f"{lowest.overlap_seconds:.1f} s); best BER {min(r.ber for r in done):.3f}; "
              f"median chance BER {np.median([r.chance_ber for r in done]):.3f}")


def copy_edits() -> tuple[Edit, ...]:
    return tuple(edit for edit in EDITS if edit.name != "partial")


class Copy(NamedTuple):
    found: bool  # the same recording, on the right time line (full search)
    on_line: object  # AudioMatch of compare_on_line on the right time line (None: too little audio)


def run_copies(tracks: Tracks, directory: Path, settings: Settings, fingerprints: Fingerprints,
               params: AudioParams, rng, lengths: tuple[float, ...] = LENGTHS) -> dict[tuple[str, float], list[Copy]]:
    """Each copy's outcome per (edit, clip length)."""
    sources = {name: samples[: int(REFERENCE_SECONDS * RATE)]
               for name, samples in (*tracks.music.items(), *tracks.speech.items())}
    sources.update({f"{voice}.{seed}": tracks.voices[voice, seed] for voice, seed in list(tracks.voices)[::4]})
    music = next(iter(tracks.music.values()))
    voice = next(iter(tracks.voices.values()))
    found = defaultdict(list)
    for name, samples in sources.items():
        # The edits' recipes expect EXCERPT_RATE audio (asetrate's factor is relative to it).
        base, other = (excerpt(_written(directory / f"{role}.{name}.11k.wav", audio), directory / f"{role}.{name}.wav",
                               0, len(audio) / RATE)
                       for role, audio in (("copy", samples),
                                           ("other", voice if name in tracks.music else music[: len(samples)])))
        reference = fingerprints.reference(samples)
        for edit in copy_edits():
            copy = decode_mono(edited(base, edit, directory, other), settings)
            for length in lengths:
                first = max(0.0, -edit.offset / edit.speed)
                last = (len(samples) / RATE - edit.offset) / edit.speed - length
                for _ in range(COPIES_PER_EDIT if last > first else 0):
                    start = float(rng.uniform(first, last))
                    query = fingerprints.query(copy[int(start * RATE):int((start + length) * RATE)])
                    truth = TimeMap(edit.speed * start + edit.offset, edit.speed)
                    if query.state != AudioState.OK:
                        found[edit.name, length].append(Copy(False, None))
                        continue
                    result = compare(query, reference, params)
                    found[edit.name, length].append(Copy(
                        result.same_recording and agrees(result, truth, 1.0),
                        compare_on_line(query, reference, params, truth, LINE_TOLERANCE,
                                        lambda match: agrees(match, truth, LINE_TOLERANCE))))
    return found


def _written(path: Path, samples: np.ndarray) -> Path:
    """11025 Hz mono samples as a 16-bit WAV file."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.clip(samples * 32767, -32768, 32767).astype(np.int16)[None, :],
                                           format="s16", layout="mono")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def report_copies(found, lengths: tuple[float, ...] = LENGTHS) -> None:
    print(f"{'edit':16s} " + " ".join(f"{length:>6.0f}s" for length in lengths))
    for edit in copy_edits():
        print(f"{edit.name:16s} " + " ".join(
            f"{sum(c.found for c in found[edit.name, length]):3d}/{len(found[edit.name, length]):<3d}"
            for length in lengths))
    print(f"{'all':16s} " + " ".join(
        f"{np.mean([c.found for edit in copy_edits() for c in found[edit.name, length]]):7.3f}" for length in lengths))


# Edits after which the copy is another mix, not the recording: Chromaprint hears the mix.
MIXES = ("voice_over",)
COPY_MISS = 0.01  # share of copies whose sound may agree less than copy_max_ber_share says
SHARE_CURVE = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
LINE_TOLERANCE = DecisionParams().co_located_offset_seconds  # as the pipeline compares on a visual match's line


def _different(result, share: float) -> bool:
    """Whether a result on the line says "not the same recording" when the share is `share`."""
    return result is not None and not result.same_recording and (
        result.could_find or result.overlap_ber >= share * result.chance_ber)


def _unlike_a_copy(copy: Copy, share: float) -> bool:
    """A copy that the share alone calls different (the test could not tell it)."""
    return _different(copy.on_line, share) and not copy.on_line.could_find


def fit_copy_share(found) -> float:
    """copy_max_ber_share: the share of the chance BER that copies (other than MIXES) stay under on
    their true time line (compare_on_line) with probability 1 - COPY_MISS, rounded up to 0.01."""
    shares = [c.on_line.overlap_ber / c.on_line.chance_ber for (edit, _), cs in found.items() if edit not in MIXES
              for c in cs if c.on_line is not None]
    return min(1.0, math.ceil(100 * float(np.quantile(shares, 1 - COPY_MISS))) / 100)


def report_copy_share(found, trials: list[Trial], params: AudioParams, lengths: tuple[float, ...]) -> None:
    """Per clip length, on a time line as a visual match puts it (compare_on_line): copies on
    their true line and unrelated pairs on a random one, counted as the same recording, as not
    the same by the test alone, and as not the same once the share may tell it."""
    share = params.copy_max_ber_share
    print(f"on a given time line (compare_on_line, within {LINE_TOLERANCE:g} s), \"not the same recording\" also "
          f"at overlap BER >= {share:g} x chance BER; per clip length")
    print(f"{'':62s} " + " ".join(f"{length:>8.0f}s" for length in lengths))

    def row(name: str, results: Callable[[float], list], test: Callable[[object], bool]) -> None:
        cells = [f"{sum(map(test, results(length))):3d}/{len(results(length)):<4d}" for length in lengths]
        print(f"{name:62s} " + " ".join(cells))

    for group, edits in (("copies", [e.name for e in copy_edits() if e.name not in MIXES]),
                         ("  clipped_+9dB", ["clipped_+9dB"]), ("mixes (voice_over)", MIXES)):
        def on_line(length: float, edits=edits) -> list:
            return [c.on_line for edit in edits for c in found[edit, length]]

        row(f"{group}: the same recording", on_line, lambda r: r is not None and r.same_recording)
        row(f"{group}: not the same, by the test alone", on_line, lambda r: _different(r, math.inf))
        row(f"{group}: not the same, with the share", on_line, lambda r: _different(r, share))
    for kind in ("all classes", "one speaker, another moment"):
        def unrelated(length: float, kind=kind) -> list:
            return [t.on_line for t in trials if t.length == length and t.on_line is not None
                    and kind in ("all classes", t.kind)]

        row(f"unrelated, {kind}: the same recording", unrelated, lambda r: r.same_recording)
        row(f"unrelated, {kind}: not the same, by the test alone", unrelated, lambda r: _different(r, math.inf))
        row(f"unrelated, {kind}: not the same, with the share", unrelated, lambda r: _different(r, share))
    print("the trade-off: copies (not mixes) called different by the share alone / one speaker's other words "
          "told apart, per share")
    for other in SHARE_CURVE:
        cells = []
        for length in lengths:
            copies = [c for (edit, at), cs in found.items() if at == length and edit not in MIXES for c in cs]
            words = [t.on_line for t in trials if t.length == length and t.on_line is not None
                     and t.kind == "one speaker, another moment"]
            cells.append(f"{sum(_unlike_a_copy(c, other) for c in copies):3d}/{len(copies)} "
                         f"{sum(_different(r, other) for r in words):2d}/{len(words)}")
        print(f"  share {other:.2f}: " + "   ".join(cells))


def report_silence(tracks: Tracks, params: AudioParams) -> None:
    """Usable seconds of a music and a speech track as is and quieter, and of silences."""
    print(f"silence: blocks > {params.silence_below_loud_db:g} dB under the track's "
          f"{params.silence_loud_percentile:g}th "
          f"percentile block level, or under {params.silence_floor_db:g} dBFS")
    rng = np.random.default_rng(3)
    named = [next(iter(tracks.music.items())), next(iter(tracks.speech.items())),
             (f"espeak {next(iter(tracks.voices))[0]}", next(iter(tracks.voices.values())))]
    for name, samples in named:
        cells = []
        for gain in (0, -14, -30):
            scaled = samples * 10 ** (gain / 20)
            level = 10 * np.log10(np.mean(scaled ** 2) + 1e-20)
            cells.append(f"{gain:+d} dB (mean {level:.0f} dBFS): {usable_seconds(scaled, RATE, params):.1f} s")
        print(f"  {name:24s} {len(samples) / RATE:5.1f} s long; usable " + "; ".join(cells))
    for name, samples in (("digital silence", np.zeros(10 * RATE, np.float32)),
                          ("dither at -90 dBFS", rng.normal(0, 10 ** (-90 / 20), 10 * RATE)),
                          ("hiss at -75 dBFS", rng.normal(0, 10 ** (-75 / 20), 10 * RATE))):
        print(f"  {name:24s} 10.0 s long; usable {usable_seconds(samples, RATE, params):.1f} s")


SHORT_LENGTHS = (4, 6, 8)  # where the test alone often cannot tell


def calibrate(cache_dir: Path, params: AudioParams, share_only: bool = False) -> AudioParams:
    """Fits the null model and copy_max_ber_share on the calibration pool and reports both on the
    held-out pool; share_only: keeps the null model of `params` and works on SHORT_LENGTHS only
    (a few minutes instead of ten)."""
    media = packaged_media(cache_dir, [*CALIBRATION.music, *CALIBRATION.speech, *HELD_OUT.music, *HELD_OUT.speech])
    started = time.perf_counter()
    lengths = SHORT_LENGTHS if share_only else LENGTHS
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = Settings(media_roots=[Path(cache_dir).resolve() / "media", directory.resolve()])
        pools = {pool.name: load(pool, media, directory, settings) for pool in (CALIBRATION, HELD_OUT)}
        pairs = {name: {length: null_pairs(tracks, length, np.random.default_rng(int(length) + 17 * i))
                        for length in lengths} for i, (name, tracks) in enumerate(pools.items())}
        fingerprints = Fingerprints(params)
        fitted = params
        if not share_only:
            report_silence(pools[HELD_OUT.name], params)
            print(f"\n== fit on the {CALIBRATION.name} pool ({', '.join(CALIBRATION.music + CALIBRATION.speech)}; "
                  f"espeak-ng {', '.join(CALIBRATION.voices)} x {len(CALIBRATION.seeds)} word sequences)")
            scale, power, bands = fit_bits(pairs[CALIBRATION.name], fingerprints, params)
            print(bands)
            fitted = replace(params, null_bits_scale=round(scale, 2), null_bits_power=round(power, 3))
            calibration_trials = run_nulls(pairs[CALIBRATION.name], fingerprints, fitted)
            per_trial = fit_trials(calibration_trials, fitted)
            fitted = replace(fitted, null_hypotheses_per_trial=round(per_trial, 2))
            print(f"fitted: null_bits_scale {fitted.null_bits_scale}, null_bits_power {fitted.null_bits_power}, "
                  f"null_hypotheses_per_trial {fitted.null_hypotheses_per_trial} (AudioParams defaults: "
                  f"{params.null_bits_scale}, {params.null_bits_power}, {params.null_hypotheses_per_trial})")
            print("calibration pool with the fitted model:")
            report_nulls(run_nulls(pairs[CALIBRATION.name], fingerprints, fitted), fitted)
        calibration_copies = run_copies(pools[CALIBRATION.name], directory, settings, fingerprints, fitted,
                                        np.random.default_rng(4), SHORT_LENGTHS)
        fitted = replace(fitted, copy_max_ber_share=fit_copy_share(calibration_copies))
        print(f"\ncopy_max_ber_share fitted on the {CALIBRATION.name} pool's copies "
              f"({', '.join(map(str, SHORT_LENGTHS))} s clips; the share of the chance BER {1 - COPY_MISS:g} of copies "
              f"other than mixes stay under on their line): {fitted.copy_max_ber_share} "
              f"(AudioParams default {params.copy_max_ber_share})")

        print(f"\n== held-out pool ({', '.join(HELD_OUT.music + HELD_OUT.speech)}; espeak-ng "
              f"{', '.join(HELD_OUT.voices)} x {len(HELD_OUT.seeds)} word sequences): unrelated pairs, full search")
        held_out_trials = run_nulls(pairs[HELD_OUT.name], fingerprints, fitted, np.random.default_rng(6))
        report_nulls(held_out_trials, fitted, lengths)
        print(f"\n== held-out copies found (same recording at {fitted.max_false_alarm:g}, on the right time line "
              f"within 1 s), per clip length")
        held_out_copies = run_copies(pools[HELD_OUT.name], directory, settings, fingerprints, fitted,
                                     np.random.default_rng(5), lengths)
        report_copies(held_out_copies, lengths)
        print()
        report_copy_share(held_out_copies, held_out_trials, fitted, SHORT_LENGTHS)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return fitted


# --- the landmark test (streams.audio.landmarks): its null on unrelated pairs, its copies --------

LANDMARK_LENGTHS = (4, 6, 8, 12, 20)
# Lines a visual match puts unrelated sound on: mostly speed 1, some re-timed (the re-timed and
# re-pitched hashes of compare_landmarks).
LANDMARK_LINE_SPEEDS = (1.0, 1.0, 1.0, 0.8, 0.95, 1.05, 1.25)
VOICE_OVER_DB = (-6.0, 0.0, 3.0, 6.0, 12.0)  # voice RMS over music RMS
NOISE_SNR_DB = (0.0, 3.0, 6.0)
# A shared music bed under two takes of other words, bed RMS over voice RMS: the product's hard
# case is a loud bed (3-12 dB under the voice).
BED_DB = (-20.0, -12.0, -9.0, -6.0, -3.0)


def _at(samples: np.ndarray, level_db: float, against: np.ndarray) -> np.ndarray:
    """samples scaled to level_db RMS over `against`'s RMS."""
    gain = np.sqrt(np.mean(against ** 2) / max(np.mean(samples ** 2), 1e-12)) * 10 ** (level_db / 20)
    return (samples * gain).astype(np.float32)


class LandmarkTrial(NamedTuple):
    pool: str
    kind: str
    length: float
    result: object  # streams.audio.landmarks.LandmarkMatch
    chromaprint: bool = False  # copies: Chromaprint's compare_on_line found it on the line
    source: str = ""  # copies: the recording copied
    on_line: object = None  # Chromaprint's AudioMatch on the line (compare_on_line; None: no usable sound)


def landmark_nulls(pool: str, tracks: Tracks, params: AudioParams, rng, peaks_of) -> list[LandmarkTrial]:
    """Unrelated pairs (null_pairs' classes) judged on a random line, as a visual match of
    unrelated sound would put it; and two takes of one voice saying other words over one music
    bed (BED_DB under the voice), judged on the bed's own line: the shared-background case."""
    from streams.audio.landmarks import compare_landmarks

    trials = []
    for length in LANDMARK_LENGTHS:
        for kind, clip, reference in null_pairs(tracks, length, rng):
            speed = float(rng.choice(LANDMARK_LINE_SPEEDS))
            offset = float(rng.uniform(0, max(0.0, len(reference) / RATE - length * speed)))
            trials.append(LandmarkTrial(pool, kind, length, compare_landmarks(
                peaks_of(clip), peaks_of(reference), params, offset, speed, LINE_TOLERANCE)))
        music, voices = list(tracks.music.values()), list(tracks.voices)
        for _ in range(PAIRS_PER_CLASS):
            voice, seed = voices[rng.integers(len(voices))]
            other_seed = rng.choice([s for v, s in voices if v == voice and s != seed])
            take, other_take = tracks.voices[voice, seed], tracks.voices[voice, other_seed]
            size = min(len(take), len(other_take))
            bed_db = float(rng.choice(BED_DB))
            bed = _clip(rng, music[rng.integers(len(music))], size / RATE)
            if bed is None or size < length * RATE:
                continue
            size = min(size, len(bed))
            stored = take[:size] + _at(bed, bed_db, take[:size])
            query = other_take[:size] + _at(bed, bed_db, other_take[:size])
            start = int(rng.integers(0, size - int(length * RATE) + 1))
            trials.append(LandmarkTrial(pool, f"other words, one bed {bed_db:+.0f} dB", length, compare_landmarks(
                peaks_of(query[start:start + int(length * RATE)]), peaks_of(stored), params, start / RATE, 1.0,
                LINE_TOLERANCE)))
    return trials


def landmark_copies(pool: str, tracks: Tracks, params: AudioParams, rng, peaks_of) -> list[LandmarkTrial]:
    """Clips of each recording with sound added on top (an espeak voice over music at
    VOICE_OVER_DB, music under speech at 0 dB, pink noise at NOISE_SNR_DB), judged on their true
    line by the landmarks and by Chromaprint (compare_on_line, its resampled copies off)."""
    from streams.audio.landmarks import compare_landmarks

    sources = {name: samples[: int(REFERENCE_SECONDS * RATE)]
               for name, samples in (*tracks.music.items(), *tracks.speech.items())}
    voices = list(tracks.voices.values())
    music = list(tracks.music.values())
    plain = replace(params, resampled_speeds=())
    trials = []
    for name, samples in sources.items():
        stored_peaks = peaks_of(samples)
        stored = _chromaprint_only(samples, plain)
        mixes = [("plain", samples)]
        if name in tracks.music:
            voice = np.resize(voices[rng.integers(len(voices))], len(samples))
            mixes += [(f"voice-over {level:+.0f} dB", samples + _at(voice, level, samples)) for level in VOICE_OVER_DB]
        else:
            mixes.append(("music under it 0 dB", samples + _at(np.resize(music[rng.integers(len(music))],
                                                                         len(samples)), 0.0, samples)))
        mixes += [(f"pink noise {snr:+.0f} dB SNR", samples + _at(pink_noise(rng, len(samples)), -snr, samples))
                  for snr in NOISE_SNR_DB]
        for kind, mixed in mixes:
            for length in LANDMARK_LENGTHS:
                if len(mixed) < length * RATE:
                    continue
                for _ in range(COPIES_PER_EDIT):
                    start = int(rng.integers(0, len(mixed) - int(length * RATE) + 1))
                    clip = mixed[start:start + int(length * RATE)]
                    truth = TimeMap(start / RATE)
                    # Chromaprint alone: compare_on_line without landmarks on either side.
                    query = _chromaprint_only(clip, plain)
                    on_line = compare_on_line(query, stored, params, truth, LINE_TOLERANCE,
                                              lambda match: agrees(match, truth, LINE_TOLERANCE)) \
                        if query.state == AudioState.OK else None
                    trials.append(LandmarkTrial(pool, kind, length, compare_landmarks(
                        peaks_of(clip), stored_peaks, params, truth.offset, 1.0, LINE_TOLERANCE),
                        on_line is not None and on_line.same_recording, name, on_line))
    return trials


# The series class: a creator's clips of one voice in one room over one music bed, other words in
# each (not the same recording), against copies of such a clip with sound added on top (the same
# recording). As the development set's recipes make them: the voice over the clip's start, the bed
# under the whole clip (its tail the bed alone), both clips from the bed's start. Bed RMS under the
# voice's:
SERIES_BED_DB = (6.0, 10.0, 14.0, 18.0)
SERIES_SPOKEN = (0.6, 1.0)  # the share of the clip the voice covers (uniform)
SERIES_REPEATS = 2  # bed stretches per voice, level and length
SERIES_MUSIC_DB = (6.0, 10.0, 14.0)  # another track added under a copy, under the copy's RMS
SERIES_VOICE_OVER_DB = (-6.0, 0.0)  # another voice talking over a copy, over its RMS
SERIES_CROWD_DB = -6.0  # four other takes talking at once (a crowd, a laugh track) under a copy
SERIES_NOISE_SNR_DB = (3.0, 6.0)


def _padded(voice: np.ndarray, size: int, spoken_share: float) -> np.ndarray:
    """The voice's first spoken_share of size samples, then silence to size."""
    out = np.zeros(size, np.float32)
    count = min(len(voice), int(spoken_share * size))
    out[:count] = voice[:count]
    return out


def series_trials(pool: str, tracks: Tracks, params: AudioParams, rng, peaks_of) -> list[LandmarkTrial]:
    """Per clip length, bed level and (SERIES_REPEATS) stretch of the pool's music: the stored clip
    (one take of a voice, or a recorded speaker's stretch, over the bed); the same voice's other
    takes (the same speaker's other stretch) over the same bed, on the bed's line ("series ...");
    and the stored clip with sound added on top ("copy, ...")."""
    from streams.audio.landmarks import compare_landmarks

    music, trials = list(tracks.music.values()), []
    plain, line = replace(params, resampled_speeds=()), TimeMap(0.0)
    others_of = {voice: [samples for (v, _), samples in tracks.voices.items() if v != voice]
                 for voice, _ in tracks.voices}
    for length in LANDMARK_LENGTHS:
        size = int(length * RATE)
        for bed_db in SERIES_BED_DB:
            for _ in range(SERIES_REPEATS):
                # (name, stored voice, the same speaker's other words, the voices a copy may add)
                speakers = [(voice, tracks.voices[voice, seeds[0]], [tracks.voices[voice, s] for s in seeds[1:]],
                             others_of[voice]) for voice, seeds in _seeds_of(tracks).items()]
                for name, samples in tracks.speech.items():
                    if len(samples) >= 2 * size:
                        first = int(rng.integers(0, len(samples) // 2 - size + 1))
                        second = len(samples) // 2 + int(rng.integers(0, len(samples) // 2 - size + 1))
                        speakers.append((name, samples[first:], [samples[second:]], list(tracks.voices.values())))
                for name, take, other_takes, other_voices in speakers:
                    bed_index = int(rng.integers(len(music)))
                    bed = _clip(rng, np.resize(music[bed_index], max(size, len(music[bed_index]))), length)
                    spoken_share = float(rng.uniform(*SERIES_SPOKEN)) if name in tracks.voices.keys() else 1.0
                    voice = _padded(take, size, spoken_share)
                    stored = voice + _at(bed, -bed_db, voice)
                    stored_peaks = peaks_of(stored)
                    stored_items = _chromaprint_only(stored, plain)
                    family = "series, espeak" if name not in tracks.speech else "series, recorded"
                    queries = [(f"{family}, bed {bed_db:.0f} dB under",
                                _padded(other, size, spoken_share) + _at(bed, -bed_db, voice)) for other in other_takes]
                    added = [(f"copy, music {db:.0f} dB under", np.resize(music[1 - bed_index], size), -db)
                             for db in SERIES_MUSIC_DB]
                    added += [(f"copy, voice-over {db:+.0f} dB",
                               np.resize(other_voices[rng.integers(len(other_voices))], size), db)
                              for db in SERIES_VOICE_OVER_DB]
                    added.append((f"copy, crowd {SERIES_CROWD_DB:.0f} dB", sum(
                        np.resize(other_voices[i], size) for i in rng.permutation(len(other_voices))[:4]),
                                  SERIES_CROWD_DB))
                    added += [(f"copy, pink noise {snr:.0f} dB SNR", pink_noise(rng, size), -snr)
                              for snr in SERIES_NOISE_SNR_DB]
                    queries += [(kind, stored + _at(sound, db, stored)) for kind, sound, db in added]
                    for kind, query in queries:
                        chromaprint = compare_on_line(_chromaprint_only(query, plain), stored_items, params, line,
                                                      LINE_TOLERANCE, lambda match: agrees(match, line, LINE_TOLERANCE))
                        trials.append(LandmarkTrial(pool, kind, length, compare_landmarks(
                            peaks_of(query), stored_peaks, params, 0.0, 1.0, LINE_TOLERANCE),
                            chromaprint.same_recording, f"{name} bed {bed_db:.0f}", chromaprint))
    return trials


CHROMAPRINT_LEVELS = (0.01, 0.1, 0.5, 0.9)  # Chromaprint false alarms on the line counted over in report_chromaprint


def report_chromaprint(trials: list[LandmarkTrial], params: AudioParams, group: Callable[[str], str]) -> None:
    """Of the clips the landmarks accept and Chromaprint alone does not, per group of classes:
    Chromaprint's false alarm on the line (the AudioMatch landmarks_on_line receives) as quantiles,
    and how many exceed each CHROMAPRINT_LEVELS (differ_min_false_alarm first): the clips a rule
    "landmarks confirm only when Chromaprint's false alarm on the line is at most that" would turn
    down; how many Chromaprint already calls different (`decisive`), and the median of the BER
    share copy_max_ber_share bounds."""
    print(f"landmarks accept, Chromaprint alone does not: Chromaprint's false alarm on the line "
          f"(differ_min_false_alarm {params.differ_min_false_alarm:g}); quantiles min/10/50/90 %/max; above a level:")
    accepted = [t for t in trials if t.result.same_recording and not t.chromaprint and t.on_line is not None]
    for name in dict.fromkeys(group(t.kind) for t in trials):
        values = np.array([t.on_line.false_alarm for t in accepted if group(t.kind) == name])
        share = float(np.median([t.on_line.overlap_ber / t.on_line.chance_ber for t in accepted
                                 if group(t.kind) == name] or [np.nan]))
        quantiles = "/".join(f"{q:.2g}" for q in np.quantile(values, (0, 0.1, 0.5, 0.9, 1))) if len(values) else "-"
        print(f"  {name:34s} {len(values):4d} clips, {quantiles:32s} "
              + " ".join(f">{level:g}: {int(np.sum(values > level))}" for level in CHROMAPRINT_LEVELS)
              + f"; decisive {sum(t.on_line.decisive for t in accepted if group(t.kind) == name)}"
              + f"; BER over the overlap / chance, median {share:.2f}")


def _chromaprint_only(samples: np.ndarray, params: AudioParams) -> AudioFingerprint:
    """The fingerprint without its landmarks: compare_on_line judges it by Chromaprint alone."""
    return fingerprint_samples(samples, params)._replace(landmarks=np.zeros(0, np.uint32))


def _seeds_of(tracks: Tracks) -> dict[str, list[int]]:
    seeds = defaultdict(list)
    for voice, seed in tracks.voices:
        seeds[voice].append(seed)
    return seeds


def report_series(trials: list[LandmarkTrial], params: AudioParams) -> None:
    """Per class and clip length: judged the same recording / by Chromaprint alone / the landmarks
    passing their null, of all."""
    print(f"{'class':34s} " + " ".join(f"{length:>14.0f}s" for length in LANDMARK_LENGTHS)
          + "   all   (judged the same recording / by Chromaprint / landmarks passing the null, of)")
    for kind in sorted(dict.fromkeys(t.kind for t in trials)):
        rows = [t for t in trials if t.kind == kind]
        cells = [[t for t in rows if t.length == length] for length in LANDMARK_LENGTHS]
        print(f"{kind:34s} " + " ".join(f"{_same_of(cell, params):>15s}" for cell in cells)
              + f"  {_same_of(rows, params)}")
    for family in ("series", "copy"):
        print(f"  all {family}: {_same_of([t for t in trials if t.kind.startswith(family)], params)}")


def _same_of(trials: list[LandmarkTrial], params: AudioParams) -> str:
    """judged the same recording (Chromaprint on the line, or the landmarks) / by Chromaprint / the
    landmarks passing their null, of all."""
    passed = sum(t.result.false_alarm <= params.landmark_max_false_alarm for t in trials)
    return (f"{sum(t.chromaprint or t.result.same_recording for t in trials)}/{sum(t.chromaprint for t in trials)}/"
            f"{passed} of {len(trials)}")


def calibrate_series(cache_dir: Path, params: AudioParams) -> None:
    """The series class and its copies on both pools (`python -m tooling.audio.calibrate --series`)."""
    def study(pool: Pool, tracks: Tracks, peaks_of, seed: int) -> None:
        trials = series_trials(pool.name, tracks, params, np.random.default_rng(51 + seed), peaks_of)
        if pool is CALIBRATION:
            fit_containment([t for t in trials if t.kind.startswith("copy")], params)
        report_series(trials, params)
        report_chromaprint(trials, params, lambda kind: kind.rsplit(",", 1)[0] if kind.startswith("series") else kind)
        report_chromaprint(trials, params, lambda kind: kind.split(",")[0])

    _on_pools(cache_dir, params, study)


def shares_a_bed(kind: str) -> bool:
    """The classes whose two sides share a music bed (part of one recording): hard negatives of
    the shared-background check, not pairs of the Poisson null."""
    return "bed" in kind


def report_landmark_nulls(trials: list[LandmarkTrial], params: AudioParams) -> None:
    unrelated = [t for t in trials if not shares_a_bed(t.kind)]
    done = [t.result for t in unrelated]
    print("unrelated pairs (no shared bed), false alarms (the Poisson null's probability) measured against "
          "predicted, all lengths: " + ", ".join(
        f"<= {rate:g}: {sum(r.false_alarm <= rate for r in done)}/{len(done)} ({rate * len(done):.2f} predicted)"
        for rate in RATES))
    print(f"{'length':>6s} {'pairs':>5s} {'hypotheses':>10s} " + " ".join(f"{f'FA<={rate:g}':>9s}" for rate in RATES)
          + "  same recording (with the shared-background check)")
    for length in LANDMARK_LENGTHS:
        rows = [t.result for t in unrelated if t.length == length]
        print(f"{length:6.0f} {len(rows):5d} {int(np.median([r.hypotheses for r in rows])):10d} "
              + " ".join(f"{sum(r.false_alarm <= rate for r in rows):9d}" for rate in RATES)
              + f"  {sum(r.same_recording for r in rows)}")
    print(f"per class, the same recording at landmark_max_false_alarm {params.landmark_max_false_alarm:g} and "
          f"landmark_max_partial {params.landmark_max_partial:g}:")
    for kind in dict.fromkeys(t.kind for t in trials):
        rows = [t.result for t in trials if t.kind == kind]
        lowest = min(rows, key=lambda r: r.false_alarm)
        passed = sum(r.false_alarm <= params.landmark_max_false_alarm for r in rows)
        print(f"  {kind:32s} {sum(r.same_recording for r in rows)}/{len(rows)}; false alarm <= "
              f"{params.landmark_max_false_alarm:g} in {passed}, of which not contained in {not_contained(rows, params)}"
              f"; lowest {lowest.false_alarm:.2g} ({lowest.matches} votes, {lowest.expected:.2f} expected, "
              f"partial {lowest.partial:.2g})")


def not_contained(results, params: AudioParams) -> int:
    """How many of the landmark results that pass the null and the partial check the containment
    check rejects (neither side keeps enough of the other's loud peaks)."""
    return sum(r.false_alarm <= params.landmark_max_false_alarm and r.partial > params.landmark_max_partial
               and r.contained <= params.landmark_max_partial for r in results)


def fit_containment(trials: list[LandmarkTrial], params: AudioParams) -> AudioParams:
    """landmark_kept_per_step and landmark_kept_share from the copies with sound added that pass
    the null and the partial check: the per-step factor from how the median share of the
    original's loud peaks kept falls with the level gain (a log-linear fit over the gain steps),
    the share the largest (0.05 steps) at which at most landmark_max_partial of them are rejected."""
    from streams.audio.landmarks import containment

    rows = [t.result for t in trials if t.kind != "plain" and t.result.false_alarm <= params.landmark_max_false_alarm
            and t.result.partial > params.landmark_max_partial]
    steps = np.array([max(0.0, round(r.reference_kept[2])) for r in rows])
    shares = np.array([r.reference_kept[0] / max(r.reference_kept[1], 1) for r in rows])
    gains = sorted(set(steps.tolist()))
    medians = [float(np.median(shares[steps == g])) for g in gains]
    per_step = float(np.exp(np.polyfit(gains, np.log(np.maximum(medians, 1e-3)), 1)[0])) if len(gains) > 1 else 1.0
    print("copies with sound added (passing the null): median share of the original's loud peaks kept per gain "
          "step: " + ", ".join(f"{g:.0f}: {m:.2f} ({int(np.sum(steps == g))})" for g, m in zip(gains, medians))
          + f"; per step {per_step:.2f}")

    def rejected(share: float) -> int:
        fitted = replace(params, landmark_kept_share=share, landmark_kept_per_step=per_step)
        return sum(max(containment(r.reference_kept, fitted), containment(r.query_kept, fitted))
                   <= params.landmark_max_partial for r in rows)

    share = max((s for s in np.arange(0.05, 0.96, 0.05) if rejected(s) <= params.landmark_max_partial * len(rows)),
                default=0.05)
    print("  rejected by the containment check per landmark_kept_share: " + ", ".join(
        f"{s:.2f}: {rejected(s)}/{len(rows)}" for s in np.arange(0.2, 0.61, 0.05))
          + f"; fitted {share:.2f} (the defaults: share {params.landmark_kept_share:g}, per step "
            f"{params.landmark_kept_per_step:g})")
    return replace(params, landmark_kept_share=round(float(share), 2), landmark_kept_per_step=round(per_step, 2))


def report_landmark_copies(trials: list[LandmarkTrial], params: AudioParams) -> None:
    print(f"{'copy':24s} " + " ".join(f"{length:>13.0f}s" for length in LANDMARK_LENGTHS)
          + "   (found by Chromaprint on the line / by the landmarks / by either)")
    for kind in dict.fromkeys(t.kind for t in trials):
        cells = []
        for length in LANDMARK_LENGTHS:
            rows = [t for t in trials if t.kind == kind and t.length == length]
            cells.append(f"{sum(t.chromaprint for t in rows):2d}/{sum(t.result.same_recording for t in rows):2d}/"
                         f"{sum(t.chromaprint or t.result.same_recording for t in rows):2d} of {len(rows):2d}")
        print(f"{kind:24s} " + " ".join(f"{cell:>14s}" for cell in cells))
    passed = [t.result for t in trials if t.result.false_alarm <= params.landmark_max_false_alarm]
    print(f"copies passing the null whose agreement the shared-background check calls partial (<= "
          f"landmark_max_partial {params.landmark_max_partial:g}): "
          f"{sum(r.partial <= params.landmark_max_partial for r in passed)}/{len(passed)}; lowest partial "
          f"{min((r.partial for r in passed), default=1.0):.2g}; not contained (landmark_kept_share "
          f"{params.landmark_kept_share:g}, per step {params.landmark_kept_per_step:g}): "
          f"{not_contained(passed, params)}/{len(passed)}, per kind: " + ", ".join(
              f"{kind} {not_contained([t.result for t in trials if t.kind == kind], params)}"
              for kind in dict.fromkeys(t.kind for t in trials)))
    def plain_share(source: str) -> float:  # how many of its loud peaks a plain clip keeps (median)
        return float(np.median([t.result.reference_kept[0] / max(t.result.reference_kept[1], 1) for t in trials
                                if t.source == source and t.kind == "plain"]))

    print("not contained per recording copied (and the median share of its loud peaks its plain clips keep): "
          + ", ".join(f"{source} {not_contained([t.result for t in trials if t.source == source], params)} "
                      f"({plain_share(source):.2f})" for source in dict.fromkeys(t.source for t in trials)))
    without = [t for t in trials if t.chromaprint or (t.result.false_alarm <= params.landmark_max_false_alarm
                                                      and t.result.partial > params.landmark_max_partial)]
    print(f"found by either test without the containment check / with it: {len(without)} / "
          f"{sum(t.chromaprint or t.result.same_recording for t in trials)} of {len(trials)}; per kind: " + ", ".join(
              f"{kind} {sum(t.kind == kind for t in without)}/"
              f"{sum(t.kind == kind and (t.chromaprint or t.result.same_recording) for t in trials)}"
              for kind in dict.fromkeys(t.kind for t in trials)))


def report_landmark_cost(tracks: Tracks, params: AudioParams) -> None:
    """CPU seconds per minute of sound of the peaks beside Chromaprint's plain items, and of one
    comparison on a line (a 20 s clip against 30 s)."""
    from streams.audio.extract import chromaprint_items
    from streams.audio.landmarks import compare_landmarks, peaks

    recordings = [*tracks.music.values(), *tracks.speech.values()]
    minutes = sum(len(samples) for samples in recordings) / RATE / 60
    started = time.process_time()
    found = [peaks(samples, params) for samples in recordings]
    landmarks = time.process_time() - started
    started = time.process_time()
    for samples in recordings:
        chromaprint_items(samples)
    chromaprint = time.process_time() - started
    started, compared = time.process_time(), 0
    for samples, stored in zip(recordings, found):
        if len(samples) >= 30 * RATE:
            compare_landmarks(peaks(samples[5 * RATE:25 * RATE], params), stored, params, 5.0)
            compared += 1
    comparing = (time.process_time() - started) / max(compared, 1)
    print(f"cost (CPU): peaks {landmarks / minutes:.3f} s per minute of sound, Chromaprint's plain items "
          f"{chromaprint / minutes:.3f} ({minutes:.1f} min in {len(recordings)} recordings); a 20 s clip's peaks and "
          f"their comparison on a line with 30 s: {comparing * 1000:.0f} ms; stored: "
          f"{4 * sum(map(len, found)) / minutes / 1024:.1f} KB of peaks per minute (4 bytes each)")


def _on_pools(cache_dir: Path, params: AudioParams, study: Callable) -> None:
    """study(pool, tracks, peaks_of, seed) on the calibration pool, then on the held-out one;
    peaks_of: the landmark peaks of a sample array, each array's once."""
    from streams.audio.landmarks import peaks

    media = packaged_media(cache_dir, [*CALIBRATION.music, *CALIBRATION.speech, *HELD_OUT.music, *HELD_OUT.speech])
    started = time.perf_counter()
    cached: dict[bytes, np.ndarray] = {}

    def peaks_of(samples: np.ndarray) -> np.ndarray:
        key = hashlib.sha1(np.ascontiguousarray(samples).tobytes()).digest()
        if key not in cached:
            cached[key] = peaks(samples, params)
        return cached[key]

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = Settings(media_roots=[Path(cache_dir).resolve() / "media", directory.resolve()])
        for seed, pool in enumerate((CALIBRATION, HELD_OUT)):
            tracks = load(pool, media, directory, settings)
            print(f"\n== {pool.name} pool")
            study(pool, tracks, peaks_of, seed)
    print(f"\n({time.perf_counter() - started:.0f} s)")


def calibrate_landmarks(cache_dir: Path, params: AudioParams) -> None:
    """The landmark test's null and copies on both pools (a few minutes): the thresholds are the
    AudioParams defaults, checked on the calibration pool and reported on the held-out one."""

    def study(pool: Pool, tracks: Tracks, peaks_of, seed: int) -> None:
        report_landmark_cost(tracks, params)
        print(f"\n== {pool.name} pool: unrelated pairs on a random line (speeds {set(LANDMARK_LINE_SPEEDS)}), "
              f"within {LINE_TOLERANCE:g} s")
        report_landmark_nulls(landmark_nulls(pool.name, tracks, params, np.random.default_rng(31 + seed),
                                             peaks_of), params)
        print(f"\n== {pool.name} pool: copies with sound added, on their line")
        copies = landmark_copies(pool.name, tracks, params, np.random.default_rng(41 + seed), peaks_of)
        if pool is CALIBRATION:
            fit_containment(copies, params)
        report_landmark_copies(copies, params)
        report_chromaprint(copies, params, lambda kind: kind)

    _on_pools(cache_dir, params, study)


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if not argument.startswith("--")]
    if "--series" in sys.argv:
        calibrate_series(Path(arguments[0] if arguments else ".cache"), AudioParams())
    elif "--landmarks" in sys.argv:
        calibrate_landmarks(Path(arguments[0] if arguments else ".cache"), AudioParams())
    else:
        calibrate(Path(arguments[0] if arguments else ".cache"), AudioParams(), share_only="--share-only" in sys.argv)
