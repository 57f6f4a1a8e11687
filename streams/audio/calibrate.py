"""Calibration of the audio threshold on real audio, reproducible: `python -m streams.audio.calibrate`.

Three packaged recordings (two arcade music tracks, the Big Buck Bunny trailer's soundtrack) get
every edit of streams.audio.edits; each copy is compared with its source (positives) and with
the other sources (negatives). Prints the bit error rate distribution per edit kind and for the
negatives (with the closest calls), the margin around settings.audio_same_max_ber, and the cost
in seconds of work per minute of audio, the resampled copies' share apart."""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from streams.audio import CHROMAPRINT_SAMPLE_RATE
from streams.audio.edits import EDITS, edited, excerpt, mixes_other
from streams.audio.extract import RESAMPLED_SPEEDS, decode_mono, extract_fingerprint, resampled_items
from streams.audio.match import compare
from streams.config import Settings
from streams.devset.packaged import packaged_media

SOURCES = (("funkyrobot.mp3", 30.0), ("1918.mp3", 40.0), ("trailer_bbb.mp4", 0.0))
EXCERPT_SECONDS = 30.0


def _row(name: str, values: list[float], same: int) -> str:
    v = np.asarray(values)
    return (f"{name:16s} n={len(v):3d}  BER min {v.min():.3f}  median {np.median(v):.3f}  max {v.max():.3f}  "
            f"same_recording {same}/{len(v)}")


def calibrate(cache_dir: Path, settings: Settings) -> None:
    media = packaged_media(cache_dir, [name for name, _ in SOURCES])
    extract_seconds = compare_seconds = audio_seconds = 0.0
    compares = 0
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bases, copies = {}, defaultdict(dict)
        for (name, start), (other, _) in zip(SOURCES, SOURCES[1:] + SOURCES[:1]):
            base = excerpt(media[name], directory / f"{name}.wav", start, EXCERPT_SECONDS)
            for edit in (None, *EDITS):
                path = base if edit is None else edited(base, edit, directory, media[other])
                started = time.perf_counter()
                fingerprint = extract_fingerprint(path, settings)
                extract_seconds += time.perf_counter() - started
                audio_seconds += fingerprint.duration
                if edit is None:
                    bases[name] = fingerprint
                else:
                    copies[name][edit] = fingerprint
        positives, negatives = defaultdict(list), []
        positive_same, negative_same = defaultdict(int), 0
        for name, edits in copies.items():
            for edit, fingerprint in edits.items():
                for source, reference in bases.items():
                    started = time.perf_counter()
                    result = compare(fingerprint, reference, settings)
                    compare_seconds += time.perf_counter() - started
                    compares += 1
                    if source == name:
                        on_line = abs(result.speed - edit.speed) <= 0.011 and abs(result.offset - edit.offset) <= 0.5
                        positives[edit.name].append(result.ber)
                        positive_same[edit.name] += result.same_recording and on_line
                    elif not mixes_other(edit):
                        negatives.append(result.ber)
                        negative_same += result.same_recording
    print(f"audio_same_max_ber = {settings.audio_same_max_ber:.2f}; {len(SOURCES)} recordings of "
          f"{EXCERPT_SECONDS:.0f} s, {len(EDITS)} edits each\n")
    print("positives (copy vs its source; same_recording counts only on the right time line):")
    for edit in EDITS:
        print("  " + _row(edit.name, positives[edit.name], positive_same[edit.name]))
    print("negatives (copy vs the other sources; edits that mix in another recording left out):")
    print("  " + _row("other recording", negatives, negative_same))
    found = [ber for edit in EDITS for ber in positives[edit.name]]
    below = [ber for ber in found if ber <= settings.audio_same_max_ber]
    print("  closest negatives: " + " ".join(f"{ber:.3f}" for ber in sorted(negatives)[:8]))
    print(f"\nlargest positive BER under the threshold {max(below):.3f}; smallest negative BER {min(negatives):.3f}")
    minutes = audio_seconds / 60
    print(f"cost: extract {extract_seconds / minutes:.2f} s per minute of audio "
          f"(decode + Chromaprint + resampled copies, {audio_seconds:.0f} s of audio); compare "
          f"{1000 * compare_seconds / compares:.1f} ms per pair of {EXCERPT_SECONDS:.0f} s tracks, speed grid and "
          f"resampled copies included ({compares} pairs)")
    samples = decode_mono(media[SOURCES[0][0]], settings)
    started = time.perf_counter()
    resampled_items(samples)
    copies_seconds = time.perf_counter() - started
    per_minute = copies_seconds / (len(samples) / CHROMAPRINT_SAMPLE_RATE / 60)
    print(f"of which the {len(RESAMPLED_SPEEDS)} resampled copies: {per_minute:.2f} s per minute of audio "
          f"(measured on the whole of {SOURCES[0][0]})")


if __name__ == "__main__":
    calibrate(Path(sys.argv[1] if len(sys.argv) > 1 else ".cache"), Settings())
