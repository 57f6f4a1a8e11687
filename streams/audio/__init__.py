"""Soundtrack fingerprints: Chromaprint items computed by Essentia (extract.py), their alignment
and comparison (match.py), the item windows the index searches (windows.py), and the
spectral-peak landmarks that survive sound added on top (landmarks.py)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from schemas.events import AudioState
from streams.errors import DupstreamError

# Chromaprint works on 11025 Hz mono and emits one 32-bit item per 1365 samples.
CHROMAPRINT_SAMPLE_RATE = 11025
ITEMS_PER_SECOND = CHROMAPRINT_SAMPLE_RATE / 1365
# An item sums up 16 frames of 4096 samples, 1365 apart: about 2.2 s of sound from its start.
ITEM_SPAN_SECONDS = (15 * 1365 + 4096) / CHROMAPRINT_SAMPLE_RATE


class ResampledItems(NamedTuple):
    """The query's items after re-playing its audio `speed` times slower, pitch and tempo together:
    what undoes a re-upload sped up by resampling (reference_time = speed * query_time)."""

    speed: float
    items: np.ndarray  # uint32, at the reference's pace


class AudioFingerprint(NamedTuple):
    items: np.ndarray  # uint32 [N], raw Chromaprint items (what `fpcalc -raw` prints)
    items_per_second: float
    duration: float  # seconds of decoded audio
    usable_seconds: float  # seconds of it that are not silence
    state: AudioState
    # Only a query's: its items on a grid of resampled speeds (streams.audio.extract.RESAMPLED_SPEEDS).
    resampled: tuple[ResampledItems, ...] = ()
    # Spectral-peak landmarks (streams.audio.landmarks.peaks), uint32 packed; empty when the sound
    # is not usable or the video was indexed before they existed (then Chromaprint judges alone).
    landmarks: np.ndarray = np.zeros(0, np.uint32)


class FingerprintFormatError(DupstreamError, ValueError):
    """A compressed Chromaprint fingerprint that does not decode."""
