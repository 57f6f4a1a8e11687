"""A video's soundtrack as Chromaprint items.

The first audio stream is decoded with PyAV and converted by libswresample straight to 11025 Hz
mono, Chromaprint's own working rate: Chromaprint does not resample again, and a minute of sound
is 2.6 MB of samples. Essentia's Chromaprinter returns the compressed base64 form, which
`decompress` turns back into the raw items.

A re-upload sped up by resampling moves pitch with tempo, and Chromaprint's chroma bins with it:
re-timing the items (streams.audio.match) cannot undo that beyond about 2 %. So the query's audio
is also re-played at each speed of AudioParams.resampled_speeds and fingerprinted again, and its
opening (line_speeds_seconds) at the coarser AudioParams.line_speeds, which reach 0.5x-2x and
are heard on a pictures' line only.

Silence is judged relative to the track (streams.params.AudioParams): Chromaprint compares
energies within the track, so a copy 14 dB quieter has the same items; what is not sound is a
block far below the track's own loud level (pauses, room tone) or near digital silence."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from schemas.events import AudioState
from streams.audio import (CHROMAPRINT_SAMPLE_RATE, ITEMS_PER_SECOND, AudioFingerprint, FingerprintFormatError,
                           ResampledItems)
from streams.audio.landmarks import peaks
from streams.audio.match import informative
from streams.config import Settings
from streams.errors import ErrorCode, MediaError
from streams.media.decoding import open_container, within_time_limit
from streams.params import AudioParams

# Samples interpolated at once: the block's temporaries stay in the cache (a few hundred kB).
REPLAY_BLOCK = 1 << 16

_NORMAL_BITS = 3
_EXCEPTIONAL_BITS = 5
_MAX_NORMAL = (1 << _NORMAL_BITS) - 1


def _unpack(data: bytes, width: int, count: int | None = None) -> np.ndarray:
    """Little-endian packed unsigned integers of `width` bits (Chromaprint's PackInt3/5Array)."""
    bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
    usable = len(bits) // width
    if count is not None:
        usable = min(usable, count)
    groups = bits[: usable * width].reshape(usable, width).astype(np.uint32)
    return groups @ (1 << np.arange(width, dtype=np.uint32))


def decompress(fingerprint: str) -> tuple[np.ndarray, int]:
    """The raw items and the algorithm number of a compressed, URL-safe base64 Chromaprint
    fingerprint.

    Layout: one byte algorithm, three bytes item count (big-endian); then, per item, the
    positions of the bits that changed since the previous item as gaps, 3 bits each with 0
    closing the item and 7 meaning "7 plus the next 5-bit exceptional value"; then the
    exceptional values."""
    try:
        data = base64.urlsafe_b64decode(fingerprint + "=" * (-len(fingerprint) % 4))
    except ValueError as error:
        raise FingerprintFormatError(f"not base64: {error}") from error
    if len(data) < 4:
        raise FingerprintFormatError("shorter than its header")
    algorithm, count = data[0], int.from_bytes(data[1:4], "big")
    if count == 0:
        return np.zeros(0, np.uint32), algorithm
    normal = _unpack(data[4:], _NORMAL_BITS)
    ends = np.flatnonzero(normal == 0)
    if len(ends) < count:
        raise FingerprintFormatError(f"{len(ends)} items encoded, the header says {count}")
    normal = normal[: ends[count - 1] + 1]
    normal_bytes = (len(normal) * _NORMAL_BITS + 7) // 8
    exceptional_at = np.flatnonzero(normal == _MAX_NORMAL)
    exceptional = _unpack(data[4 + normal_bytes:], _EXCEPTIONAL_BITS, len(exceptional_at))
    if len(exceptional) < len(exceptional_at):
        raise FingerprintFormatError("exceptional bits missing")
    gaps = normal.astype(np.int64)
    gaps[exceptional_at] += exceptional
    # Bit positions are running sums of the gaps within each item (an item's gaps end at a 0).
    item_of = np.concatenate(([0], np.cumsum(gaps == 0)[:-1]))
    running = np.cumsum(gaps)
    item_start = np.concatenate(([0], running[ends[: count - 1]]))
    position = running - item_start[item_of]
    changed = gaps != 0
    if np.any(position[changed] > 32):
        raise FingerprintFormatError("a bit position beyond 32")
    deltas = np.zeros(count, np.uint32)
    np.add.at(deltas, item_of[changed], (np.uint32(1) << (position[changed] - 1).astype(np.uint32)))
    return np.bitwise_xor.accumulate(deltas), algorithm


def decode_mono(path: Path, settings: Settings) -> np.ndarray | None:
    """The first audio stream at 11025 Hz mono float32, or None when the file has none. Decoding
    is held to the same time limit as the frames' (streams.media.decoding), and more than
    settings.max_seconds of sound is media_too_long, counted in decoded samples: a track's header
    and timestamps may lie, its samples are what costs memory."""
    import av

    container = open_container(path, settings)
    with container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=CHROMAPRINT_SAMPLE_RATE)
        limit = int(settings.max_seconds * CHROMAPRINT_SAMPLE_RATE)
        chunks, decoded = [], 0
        try:
            for frame in within_time_limit(container.decode(stream), settings):
                for converted in resampler.resample(frame):
                    chunks.append(converted.to_ndarray().reshape(-1))
                    decoded += len(chunks[-1])
                if decoded > limit:
                    raise MediaError(f"the soundtrack lasts more than the {settings.max_seconds:g} s allowed",
                                     code=ErrorCode.MEDIA_TOO_LONG)
            chunks += [converted.to_ndarray().reshape(-1) for converted in resampler.resample(None)]
        except av.error.FFmpegError as error:
            if not chunks:
                raise MediaError(f"the audio stream does not decode: {error}") from error
    return np.concatenate(chunks)[:limit] if chunks else np.zeros(0, np.float32)


def block_levels(samples: np.ndarray, sample_rate: int, params: AudioParams) -> np.ndarray:
    """dBFS RMS of each whole block of params.silence_block_seconds (-200 for digital silence)."""
    block = int(params.silence_block_seconds * sample_rate)
    blocks = len(samples) // block
    power = np.mean(np.square(samples[: blocks * block].reshape(blocks, block), dtype=np.float64), axis=1)
    return 10 * np.log10(power + 1e-20)


def usable_seconds(samples: np.ndarray, sample_rate: int, params: AudioParams) -> float:
    """Seconds of the signal that are sound: blocks at most params.silence_below_loud_db under the
    track's loud level (its silence_loud_percentile block level) and above silence_floor_db."""
    levels = block_levels(samples, sample_rate, params)
    if len(levels) == 0:
        return 0.0
    loud = np.percentile(levels, params.silence_loud_percentile)
    floor = max(params.silence_floor_db, loud - params.silence_below_loud_db)
    return float(np.count_nonzero(levels > floor) * params.silence_block_seconds)


def chromaprint_items(samples: np.ndarray) -> np.ndarray:
    """Raw Chromaprint items of 11025 Hz mono samples (empty when too short for one item)."""
    import essentia.standard as es

    if len(samples) == 0:
        return np.zeros(0, np.uint32)
    compressed = es.Chromaprinter(sampleRate=CHROMAPRINT_SAMPLE_RATE)(np.ascontiguousarray(samples, np.float32))
    return decompress(compressed)[0] if compressed else np.zeros(0, np.uint32)


def replayed(samples: np.ndarray, speed: float, steps: np.ndarray | None = None) -> np.ndarray:
    """The samples played `speed` times slower, pitch lowered by the same factor (what undoes a
    re-upload sped up by `speed` through resampling). Linear interpolation, about a quarter of what
    Chromaprint then costs on the copy: its images and aliases stay above 4.9 kHz for speeds
    0.9-1.1, and Chromaprint listens below 3.5 kHz. steps: np.diff(samples), when the caller replays the same
    samples at several speeds (resampled_items)."""
    samples = np.asarray(samples, np.float32)
    if len(samples) < 2:
        return samples.copy()
    steps = np.diff(samples) if steps is None else steps
    count = int((len(samples) - 1) * speed) + 1
    out = np.empty(count, np.float32)
    last = len(samples) - 2
    for start in range(0, count, REPLAY_BLOCK):
        position = np.arange(start, min(start + REPLAY_BLOCK, count), dtype=np.float64)
        position /= speed
        index = np.minimum(position.astype(np.int64), last)
        position -= index
        # sample + fraction * step, in float32 as ever, in place
        value = position.astype(np.float32)
        value *= steps[index]
        value += samples[index]
        out[start:start + len(index)] = value
    return out


def resampled_items(samples: np.ndarray, speeds: tuple[float, ...]) -> tuple[ResampledItems, ...]:
    """The items of the samples re-played at each speed (streams.audio.ResampledItems)."""
    samples = np.asarray(samples, np.float32)
    steps = np.diff(samples)
    return tuple(ResampledItems(speed, chromaprint_items(replayed(samples, speed, steps))) for speed in speeds)


def fingerprint_samples(samples: np.ndarray, params: AudioParams) -> AudioFingerprint:
    """The fingerprint of 11025 Hz mono samples: 'ok' with its resampled copies (those at the
    line speeds of its opening only) and its
    spectral-peak landmarks when it has
    params.min_audio_seconds of sound and at least params.min_match_items informative items (what
    a comparison needs to decide), 'too_little_audio' otherwise."""
    duration = len(samples) / CHROMAPRINT_SAMPLE_RATE
    sound = usable_seconds(samples, CHROMAPRINT_SAMPLE_RATE, params)
    items = chromaprint_items(samples)
    enough = np.count_nonzero(informative(items, params.static_run)) >= params.min_match_items
    state = AudioState.OK if sound >= params.min_audio_seconds and enough else AudioState.TOO_LITTLE_AUDIO
    if state != AudioState.OK:
        return AudioFingerprint(items, ITEMS_PER_SECOND, duration, sound, state)
    opening = samples[:int(params.line_speeds_seconds * CHROMAPRINT_SAMPLE_RATE)]
    resampled = resampled_items(samples, params.resampled_speeds) + resampled_items(opening, params.line_speeds)
    return AudioFingerprint(items, ITEMS_PER_SECOND, duration, sound, state, resampled, peaks(samples, params))


def extract_fingerprint(path: Path, settings: Settings, params: AudioParams) -> AudioFingerprint:
    """The soundtrack's fingerprint (fingerprint_samples); a file without an audio stream gives
    state 'no_audio'. settings bound the decoding (time, length, paths); params shape the
    fingerprint. An audio stream that cannot be decoded at all raises MediaError."""
    samples = decode_mono(path, settings)
    if samples is None:
        return AudioFingerprint(np.zeros(0, np.uint32), ITEMS_PER_SECOND, 0.0, 0.0, AudioState.NO_AUDIO)
    return fingerprint_samples(samples, params)
