"""What Chromaprint sees of a copy whose sound is its original's mixed with another recording (a
voice-over on the music): `python -m tooling.audio.mixes MANIFEST [KIND]` (KIND: speech_over_music).

For each such copy of the manifest and its original, on the time line the pictures give (offset
0): the comparison the pipeline makes there (compare_on_line), the BER over the overlap against
the chance BER, the same per Chromaprint classifier (its 2 bits: does some band of the chroma
image survive the mix?), the spectral-peak landmarks' test on the line (streams.audio.landmarks),
and the comparison of the copy's centre-removed sound (left minus right:
a voice-over mixed in the centre cancels, stereo music does not) with the original. Printed, not
decided: docs/audio.md quotes it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from schemas.events import AudioState
from streams.audio import CHROMAPRINT_SAMPLE_RATE, ITEMS_PER_SECOND, AudioFingerprint
from streams.audio.extract import chromaprint_items, extract_fingerprint
from streams.audio.landmarks import compare_landmarks
from streams.audio.match import TimeMap, agrees, compare, compare_on_line, item_errors
from streams.config import Settings
from tooling.devset.devset import read_manifest
from streams.params import AudioParams, DecisionParams

CLASSIFIERS = 16  # Chromaprint's classifiers, two bits each


def side(path: Path) -> np.ndarray:
    """(left - right) / 2 at Chromaprint's rate; zeros for a mono track."""
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=CHROMAPRINT_SAMPLE_RATE)
        chunks = [converted.to_ndarray() for frame in container.decode(audio=0)
                  for converted in resampler.resample(frame)]
    stereo = np.concatenate(chunks, axis=1)
    return ((stereo[0] - stereo[1]) / 2).astype(np.float32)


def main(manifest: Path, kind: str = "speech_over_music") -> None:
    params, tolerance = AudioParams(), DecisionParams().co_located_offset_seconds
    items = {item.video_id: item for item in read_manifest(manifest)}
    settings = Settings(media_roots=[Path(manifest).parent.resolve()])
    line = TimeMap(0.0)
    for item in (item for item in items.values() if item.kind == kind):
        copy = extract_fingerprint(Path(item.file), settings, params)
        original = extract_fingerprint(Path(items[item.related].file), settings, params)._replace(resampled=())
        result = compare_on_line(copy, original, params, line, tolerance, lambda r: agrees(r, line, tolerance))
        errors, counted, _ = item_errors(copy.items, original.items, 0, params.static_run)
        bits = (np.asarray(copy.items, np.uint32)[:, None] >> np.arange(32, dtype=np.uint32)) & 1
        reference_bits = (np.asarray(original.items, np.uint32)[:, None] >> np.arange(32, dtype=np.uint32)) & 1
        n = min(len(bits), len(reference_bits))
        per_classifier = (bits[:n] != reference_bits[:n]).reshape(n, CLASSIFIERS, 2).mean(axis=(0, 2))
        print(f"{item.video_id} ({item.duration:.1f} s) vs {item.related}: on the pictures' line same "
              f"{result.same_recording}, false alarm {result.false_alarm:.2g}, overlap BER {result.overlap_ber:.3f} "
              f"vs chance {result.chance_ber:.3f}; at offset 0 BER {errors[counted].sum() / (32 * counted.sum()):.3f}; "
              f"per classifier BER min {per_classifier.min():.2f} median {np.median(per_classifier):.2f}")
        found = compare_landmarks(copy.landmarks, original.landmarks, params, line.offset, line.speed, tolerance)
        print(f"  landmarks on the line: same {found.same_recording}, false alarm {found.false_alarm:.2g} "
              f"({found.matches} votes where {found.expected:.2f} are expected), partial {found.partial:.2g}, "
              f"contained {found.contained:.2g} (the original's loud peaks in the copy, found/of/gain "
              f"{found.reference_kept}; the copy's in the original {found.query_kept})")
        centre_removed = side(Path(item.file))
        level = 10 * np.log10(np.mean(centre_removed ** 2) + 1e-20)
        fingerprint = AudioFingerprint(chromaprint_items(centre_removed), ITEMS_PER_SECOND,
                                       len(centre_removed) / CHROMAPRINT_SAMPLE_RATE,
                                       len(centre_removed) / CHROMAPRINT_SAMPLE_RATE, AudioState.OK)
        free, near = compare(fingerprint, original, params), compare(fingerprint, original, params, near=line,
                                                                     tolerance_s=tolerance)
        print(f"  centre removed (level {level:.0f} dBFS): full search false alarm {free.false_alarm:.2g} at "
              f"offset {free.offset:+.2f} s (BER {free.ber:.3f}); on the line {near.false_alarm:.2g} "
              f"(BER {near.ber:.3f}, chance {near.chance_ber:.3f})")


if __name__ == "__main__":
    main(Path(sys.argv[1]), *sys.argv[2:3])
