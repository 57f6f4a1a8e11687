"""Same pictures, edited sound (streams.audio.match): a pitch shifted at a kept tempo, made with
ffmpeg's rubberband or sox, is the same recording on the pictures' line; another recording shifted
so is not. "Differs" needs positive evidence: an agreement between a copy's and chance is
inconclusive, not "different"; other words over a shared music bed still differ."""

from __future__ import annotations

import subprocess
import wave
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from schemas.events import AudioState
from streams.audio import CHROMAPRINT_SAMPLE_RATE as RATE, ITEMS_PER_SECOND, AudioFingerprint, ResampledItems
from streams.audio.extract import decode_mono, extract_fingerprint
from streams.audio.match import TimeMap, _free, agrees, compare, compare_on_line
from streams.config import Settings
from streams.params import AudioParams
from tooling.audio.edits import excerpt
from tooling.devset.samples import ffmpeg
from tooling.devset.speech import has_speech_synthesis, spoken

PARAMS = AudioParams()
TOLERANCE = 2.5  # decision.co_located_offset_seconds
LINE = TimeMap(0.0)


def _on_line(query: AudioFingerprint, stored: AudioFingerprint):
    return compare_on_line(query, stored, PARAMS, LINE, TOLERANCE, lambda m: agrees(m, LINE, TOLERANCE))


def _pitched(source, semitones: int, directory, tool: str = "rubberband"):
    """source shifted by whole semitones at its tempo (ffmpeg's rubberband, or sox's pitch)."""
    out = directory / f"{source.stem}_{tool}_{semitones:+d}.wav"
    if tool == "sox":
        subprocess.run(["sox", str(source), str(out), "pitch", str(100 * semitones)], check=True)
    else:
        ffmpeg("-y", "-i", str(source), "-af", f"rubberband=pitch={2 ** (semitones / 12):.6f}", str(out))
    return out


@pytest.fixture(scope="module")
def music(media, tmp_path_factory):
    """20 s of funkyrobot.mp3 (stored, as the index keeps it: no resampled copies), its first 6 s,
    and 20 s of 1918.mp3 (another recording)."""
    directory = tmp_path_factory.mktemp("pitch")
    settings = Settings(media_roots=[directory])
    base = excerpt(media["funkyrobot.mp3"], directory / "funkyrobot.wav", 30, 20)
    short = excerpt(media["funkyrobot.mp3"], directory / "funkyrobot_6s.wav", 30, 6)
    other = excerpt(media["1918.mp3"], directory / "1918.wav", 40, 20)
    stored = extract_fingerprint(base, settings, PARAMS)._replace(resampled=())
    return directory, settings, base, short, other, stored


@pytest.mark.media
@pytest.mark.parametrize("semitones", [-3, -2, 2, 3])
def test_a_pitch_shift_at_a_kept_tempo_is_the_same_recording_on_the_pictures_line(music, semitones):
    directory, settings, base, short, _, stored = music
    for source in (base, short):
        result = _on_line(extract_fingerprint(_pitched(source, semitones, directory), settings, PARAMS), stored)
        assert result.same_recording and result.test == "chromaprint", (source.name, result)
        assert result.speed == pytest.approx(1.0, abs=0.011) and abs(result.offset) < 0.5, result


@pytest.mark.media
@pytest.mark.parametrize("semitones", [-3, 3])
def test_the_semitones_beyond_the_grid_are_what_finds_a_three_semitone_shift(music, semitones):
    """Why the resampled speeds reach 2 ** (+-3 / 12): with the +-10 % grid alone the tempo-restored
    lines are 7-8 % off in pitch, and Chromaprint's chroma does not bear it."""
    directory, settings, base, _, _, stored = music
    grid_only = replace(PARAMS, resampled_speeds=tuple(speed for speed in PARAMS.resampled_speeds
                                                       if min(PARAMS.speed_grid) <= speed <= max(PARAMS.speed_grid)))
    query = extract_fingerprint(_pitched(base, semitones, directory), settings, grid_only)
    line = TimeMap(0.0)
    result = compare_on_line(query, stored, grid_only, line, TOLERANCE, lambda m: agrees(m, line, TOLERANCE))
    assert not result.same_recording, result


@pytest.mark.media
def test_a_sox_pitch_shift_is_heard_on_the_pictures_line_only(music):
    """sox's pitch effect as well; the free search (an audio-only candidate) keeps to the tempo grid."""
    directory, settings, base, _, _, stored = music
    query = extract_fingerprint(_pitched(base, 3, directory, "sox"), settings, PARAMS)
    result = _on_line(query, stored)
    assert result.same_recording and result.speed == pytest.approx(1.0, abs=0.011), result
    assert not compare(query, stored, PARAMS).same_recording


@pytest.mark.media
def test_another_recording_pitch_shifted_is_not_the_same_and_mostly_differs(music):
    """Never the same recording; "differs" is a test at level differ_min_false_alarm, so an
    unrelated pair may fall in the inconclusive middle (here, 1918.mp3 3 semitones down: false
    alarm 1.3e-3, judged on frames) but not most of them."""
    directory, settings, _, _, other, stored = music
    results = [_on_line(extract_fingerprint(_pitched(other, semitones, directory), settings, PARAMS), stored)
               for semitones in (-3, -2, 2, 3)]
    assert not any(result.same_recording for result in results), results
    assert sum(result.decisive for result in results) >= 3, results


def _items(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2 ** 32, length, dtype=np.uint64).astype(np.uint32)


def test_every_pitch_hypothesis_is_counted():
    """On a pictures' line at speed 1 a resampled copy adds its tempo-restored line to the
    hypotheses (Šidák counts it); a sped-up line and the free search try no copy beyond the grid."""
    items = _items(60, 1)
    plain = AudioFingerprint(items, ITEMS_PER_SECOND, 30.0, 30.0, AudioState.OK)
    beyond = plain._replace(resampled=(ResampledItems(1.1225, _items(67, 2)),))
    stored = AudioFingerprint(_items(80, 3), ITEMS_PER_SECOND, 40.0, 40.0, AudioState.OK)
    on_line = [compare(query, stored, PARAMS, near=LINE, tolerance_s=TOLERANCE).hypotheses for query in (plain, beyond)]
    assert on_line[1] > on_line[0]
    assert compare(beyond, stored, PARAMS).hypotheses == compare(plain, stored, PARAMS).hypotheses
    sped_up = TimeMap(0.0, 0.8)
    assert (compare(beyond, stored, PARAMS, near=sped_up, tolerance_s=TOLERANCE).hypotheses
            == compare(plain, stored, PARAMS, near=sped_up, tolerance_s=TOLERANCE).hypotheses)


@hypothesis_settings(max_examples=40, deadline=None)
@given(flipped=st.floats(0.0, 0.5), length=st.integers(10, 80), seed=st.integers(0, 2 ** 16))
def test_differs_only_where_unrelated_tracks_agree_as_well_at_least_at_the_stated_rate(flipped, length, seed):
    """Whatever the agreement, "differs" (decisive) and "same recording" never both hold, and
    differs needs a false alarm above differ_min_false_alarm: between it and max_false_alarm the
    sound is inconclusive."""
    rng = np.random.default_rng(seed)
    reference = _items(length, seed)
    flips = (rng.random((length, 32)) < flipped) << np.arange(32, dtype=np.uint64)
    query = reference ^ flips.sum(axis=1).astype(np.uint32)
    fingerprint = AudioFingerprint(query, ITEMS_PER_SECOND, length / ITEMS_PER_SECOND, length, AudioState.OK)
    stored = AudioFingerprint(reference, ITEMS_PER_SECOND, length / ITEMS_PER_SECOND, length, AudioState.OK)
    result = compare(fingerprint, stored, PARAMS, near=LINE, tolerance_s=TOLERANCE)
    assert not (result.same_recording and result.decisive)
    if result.decisive:
        assert result.false_alarm > PARAMS.differ_min_false_alarm


def _written(path, samples: np.ndarray):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


@pytest.mark.media
@pytest.mark.parametrize("bed_db", [-20.0, -12.0])
def test_other_words_over_a_shared_music_bed_still_differ(media, tmp_path, bed_db):
    """The danger of needing positive evidence: one voice's other words over the same music bed
    (same room, other talk) must stay "differs", not fall to inconclusive (and so to a duplicate
    on frames)."""
    if not has_speech_synthesis():
        pytest.skip("espeak-ng is not installed")
    settings = Settings(media_roots=[tmp_path])
    bed, words, other_words = (decode_mono(path, settings) for path in (
        excerpt(media["funkyrobot.mp3"], tmp_path / "bed.wav", 30, 30), spoken("en-us", 0, tmp_path / "w0.wav"),
        spoken("en-us", 1, tmp_path / "w1.wav")))
    size = min(len(bed), len(words), len(other_words))

    def over_the_bed(voice: np.ndarray) -> np.ndarray:
        voice = voice[:size]
        return voice + bed[:size] * np.sqrt(np.mean(voice ** 2) / np.mean(bed[:size] ** 2)) * 10 ** (bed_db / 20)

    stored = extract_fingerprint(_written(tmp_path / "take.wav", over_the_bed(words)), settings, PARAMS)
    for seconds in (6, 12):
        clip = over_the_bed(other_words)[:seconds * RATE]
        query = extract_fingerprint(_written(tmp_path / f"other_{seconds}.wav", clip), settings, PARAMS)
        result = _on_line(query, stored)
        assert not result.same_recording and result.decisive, (seconds, result)


def test_the_free_comparison_memoised_on_the_query_is_its_own():
    """compare_on_line keeps its free comparison with the query's items array (match._free): a
    fingerprint _replace'd with other resampled copies shares that array and gets its own."""
    items = _items(60, 1)
    plain = AudioFingerprint(items, ITEMS_PER_SECOND, 30.0, 30.0, AudioState.OK)
    within = plain._replace(resampled=(ResampledItems(1.04, _items(62, 2)),))
    stored = AudioFingerprint(_items(80, 3), ITEMS_PER_SECOND, 40.0, 40.0, AudioState.OK)
    for query in (plain, within, plain, within):
        assert _free(query, stored, PARAMS) == compare(query, stored, PARAMS)
    assert _free(within, stored, PARAMS).hypotheses > _free(plain, stored, PARAMS).hypotheses
