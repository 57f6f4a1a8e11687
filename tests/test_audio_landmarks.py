"""The second "same recording" test (streams.audio.landmarks): sound added on top of a recording
(a voice-over on the music, pink noise at 0 dB SNR) keeps it the same recording on the pictures'
line, where Chromaprint is at chance; another track, the same speaker's other words and other
words over a shared quiet bed do not become it. A video indexed before the landmarks is judged
by Chromaprint alone."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from streams.audio import CHROMAPRINT_SAMPLE_RATE as RATE, ITEMS_PER_SECOND, AudioFingerprint
from tooling.audio.edits import excerpt, pink_noise
from streams.audio.extract import decode_mono, extract_fingerprint
from streams.audio.landmarks import (FRAMES_PER_SECOND, compare_landmarks, containment, hashes, kept, peaks,
                                     poisson_tail, unpack)
from streams.audio.match import AudioMatch, TimeMap, agrees, compare_on_line
from streams.config import Settings
from tooling.devset.samples import ffmpeg
from tooling.devset.speech import has_speech_synthesis, spoken
from streams.index import StoredVideo, video_data_payload, video_from_payload, video_payload
from streams.params import AudioParams
from streams.values import Segment

PARAMS = AudioParams()
TOLERANCE = 2.5  # decision.co_located_offset_seconds: how far from the frames' line the sound may lie


# --- fast: the arithmetic ---------------------------------------------------------------------

def _packed(frames, bins, levels=None) -> np.ndarray:
    levels = np.zeros(len(frames), np.uint32) if levels is None else np.asarray(levels, np.uint32)
    return ((np.asarray(frames, np.uint32) << 12) | (levels << 8) | np.asarray(bins, np.uint32)).astype(np.uint32)


def _random_peaks(rng, seconds: float, per_second: int = 24) -> np.ndarray:
    count = int(seconds * per_second)
    frames = np.sort(rng.integers(0, int(seconds * FRAMES_PER_SECOND), count))
    return _packed(frames, rng.integers(PARAMS.landmark_min_bin, PARAMS.landmark_max_bin, count),
                   rng.integers(0, 16, count))


def test_a_packed_peak_unpacks_to_its_frame_bin_and_level():
    frames, bins, levels = unpack(_packed([0, 7, 600_000], [5, 229, 100], [0, 15, 3]))
    assert frames.tolist() == [0, 7, 600_000] and bins.tolist() == [5, 229, 100] and levels.tolist() == [0, 15, 3]


def test_the_poisson_tail_matches_its_sum():
    assert poisson_tail(np.array([0]), np.array([2.0]))[0] == 1.0
    exact = 1 - sum(np.exp(-2.0) * 2.0 ** k / np.prod(np.arange(1, k + 1)) for k in range(5))
    assert poisson_tail(np.array([5]), np.array([2.0]))[0] == pytest.approx(exact, rel=1e-9)


def test_pairs_stay_within_the_target_zone():
    frames, bins, _ = unpack(_random_peaks(np.random.default_rng(1), 10))
    keys, anchors = hashes(frames, bins, PARAMS)
    assert len(keys) <= PARAMS.landmark_fanout * len(frames) and len(keys) > 2 * len(frames)
    dt = keys & 0xFF
    assert dt.min() >= 1 and dt.max() <= PARAMS.landmark_max_dt


def test_a_shifted_subset_of_the_peaks_is_the_same_recording_and_random_peaks_are_not():
    rng = np.random.default_rng(2)
    stored = _random_peaks(rng, 30)
    frames, bins, levels = unpack(stored)
    # 8 s from 10 s on, a third of the peaks kept (the rest masked by added sound), plus as many new ones.
    inside = (frames >= 10 * FRAMES_PER_SECOND) & (frames < 18 * FRAMES_PER_SECOND) & (rng.random(len(frames)) < 0.33)
    kept = _packed(frames[inside] - int(10 * FRAMES_PER_SECOND), bins[inside], levels[inside])
    query = np.sort(np.concatenate([kept, _random_peaks(rng, 8)]))
    found = compare_landmarks(query, stored, PARAMS, offset=10.0)
    assert found.same_recording and found.offset == pytest.approx(10.0, abs=0.05), found
    assert not compare_landmarks(_random_peaks(rng, 8), stored, PARAMS, offset=10.0).same_recording


def test_a_copy_contains_its_original_s_loud_peaks_and_a_shared_bed_does_not():
    """The containment check: the stored track's loud peaks found in the query on the line, and
    how much quieter they are there (the gain: a louder sound added on top masks more)."""
    rng = np.random.default_rng(5)
    frames = np.sort(rng.integers(0, int(8 * FRAMES_PER_SECOND), 200))
    bins = rng.integers(PARAMS.landmark_min_bin, PARAMS.landmark_max_bin, 200)
    levels = rng.integers(0, 8, 200)
    stored = _packed(frames, bins, levels)
    # A copy under a voice-over 8 dB over it: every other peak masked, the rest 2 steps quieter.
    copy = _packed(frames[::2] + 43, bins[::2], levels[::2] + 2)
    copy_kept = kept(stored, copy, 1.0, 43.0, 1.0, 0, frames.max(), PARAMS.landmark_loud_share)
    found, of, gain = copy_kept[:3]
    assert of >= 0.25 * 200 and found == pytest.approx(of / 2, abs=6) and gain == 2.0
    assert containment(copy_kept, PARAMS) > PARAMS.landmark_max_partial
    # Two takes over one bed: the stored voice's loud peaks are missing, the quiet bed's found at their level.
    bed = levels >= 6
    other_take = _packed(frames[bed] + 43, bins[bed], levels[bed])
    bed_kept = kept(stored, other_take, 1.0, 43.0, 1.0, 0, frames.max(), PARAMS.landmark_loud_share)
    assert bed_kept.found == 0 and bed_kept.gain == 0.0 and containment(bed_kept, PARAMS) <= PARAMS.landmark_max_partial


def test_the_hypergeometric_tail_matches_its_count():
    from itertools import combinations

    from streams.audio.landmarks import hypergeometric_cdf

    # 9 peaks of which 4 found, 3 of them loud: how often would 3 drawn hold at most 1 found one?
    draws = list(combinations(range(9), 3))
    exact = sum(sum(x < 4 for x in draw) <= 1 for draw in draws) / len(draws)
    assert hypergeometric_cdf(1, 9, 4, 3) == pytest.approx(exact, rel=1e-9)
    assert hypergeometric_cdf(3, 9, 4, 3) == pytest.approx(1.0) and hypergeometric_cdf(-1, 9, 4, 3) == 0.0


def test_a_take_that_keeps_the_quiet_peaks_and_not_the_loud_ones_is_not_contained():
    """Many of the stored track's loud peaks found, as a copy would keep them, but its quiet ones
    found far more often: the shared part is what lies under the loud sound (a bed under the
    stored voice), which a copy's added sound would have masked first."""
    from streams.audio.landmarks import Kept

    loud_like_a_copy = Kept(found=30, of=60, gain=0.0, found_all=200, of_all=240)
    assert containment(loud_like_a_copy._replace(found_all=90), PARAMS) > PARAMS.landmark_max_partial
    assert containment(loud_like_a_copy, PARAMS) <= PARAMS.landmark_max_partial


def test_a_record_written_before_the_landmarks_reads_back_without_them():
    video = StoredVideo("a", "a", 1, None, 5.0, "ok", "AAAA", 7.8, "{}", "/m/a.mp4", "BBBB")
    assert video_from_payload(video_payload(video), video_data_payload(video)) == video
    data = video_data_payload(video)
    del data["audio_landmarks"]
    assert video_from_payload(video_payload(video), data).audio_landmarks == ""


def test_without_landmarks_on_either_side_chromaprint_judges_alone():
    items = np.random.default_rng(4).integers(0, 1 << 32, 40, dtype=np.uint64)
    with_landmarks = AudioFingerprint(items.astype(np.uint32), ITEMS_PER_SECOND, 6.0, 6.0, "ok",
                                      landmarks=_random_peaks(np.random.default_rng(3), 6))
    without = with_landmarks._replace(landmarks=np.zeros(0, np.uint32))
    line = TimeMap(0.0)
    result = compare_on_line(with_landmarks, without, PARAMS, line, TOLERANCE, lambda m: agrees(m, line, TOLERANCE))
    assert isinstance(result, AudioMatch) and result.test == "chromaprint" and result.landmarks is None


def test_the_reason_names_the_test_that_found_the_sound_and_why_the_landmarks_did_not():
    from streams.audio.landmarks import LandmarkMatch
    from streams.matching.decision import _landmarks_differ, _same_phrase

    found = LandmarkMatch(True, 1.6e-16, 17, 0.58, 0.0, 1.0, 0.3, 7.8, 1077, 0.73)
    heard = AudioMatch(True, 0.38, 0.0, 1.0, Segment(0, 8), Segment(0, 8), false_alarm=1.6e-16, test="landmarks",
                       landmarks=found)
    assert "spectral-peak landmarks" in _same_phrase(heard, PARAMS) and "landmark_max_false_alarm" in _same_phrase(
        heard, PARAMS)
    assert "audio.max_false_alarm" in _same_phrase(heard._replace(test="chromaprint"), PARAMS)
    bed = heard._replace(same_recording=False, test="chromaprint", landmarks=found._replace(partial=3e-7))
    assert "landmark_max_partial" in _landmarks_differ(bed, PARAMS)
    loud_bed = heard._replace(same_recording=False, test="chromaprint", landmarks=found._replace(contained=2e-9))
    assert "2.0e-09 <= audio.landmark_max_partial" in _landmarks_differ(loud_bed, PARAMS)
    assert _landmarks_differ(bed._replace(landmarks=None), PARAMS) == ""


# --- media: real recordings with sound added ------------------------------------------------------

def _written(path, samples: np.ndarray):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.clip(samples * 32767, -32768, 32767).astype("<i2").tobytes())
    return path


def _at(samples: np.ndarray, level_db: float, against: np.ndarray) -> np.ndarray:
    return samples * np.sqrt(np.mean(against ** 2) / np.mean(samples ** 2)) * 10 ** (level_db / 20)


@pytest.fixture(scope="module")
def sounds(media, tmp_path_factory):
    """30 s of funkyrobot.mp3 (the stored music), 30 s of 1918.mp3 (another track), and espeak's
    en-us saying two different word sequences (one speaker, other words)."""
    if not has_speech_synthesis():
        pytest.skip("espeak-ng is not installed")
    directory = tmp_path_factory.mktemp("landmarks")
    settings = Settings(media_roots=[directory, media["funkyrobot.mp3"].parent])
    decoded = {name: decode_mono(path, settings)[: 30 * RATE] for name, path in (
        ("music", excerpt(media["funkyrobot.mp3"], directory / "music.wav", 30, 30)),
        ("other music", excerpt(media["1918.mp3"], directory / "other.wav", 40, 30)),
        ("words", spoken("en-us", 0, directory / "words.wav")),
        ("other words", spoken("en-us", 1, directory / "other_words.wav")))}
    return directory, settings, decoded


def _copy(directory, settings, name: str, samples: np.ndarray, start: float, seconds: float) -> AudioFingerprint:
    """seconds of the samples from start, re-encoded as AAC 64 kb/s (an upload), fingerprinted."""
    clip = _written(directory / f"{name}.wav", samples[int(start * RATE):int((start + seconds) * RATE)])
    ffmpeg("-y", "-i", str(clip), "-c:a", "aac", "-b:a", "64k", str(clip.with_suffix(".m4a")))
    return extract_fingerprint(clip.with_suffix(".m4a"), settings, PARAMS)


def _on_line(query: AudioFingerprint, stored: AudioFingerprint, offset: float) -> AudioMatch:
    line = TimeMap(offset)
    return compare_on_line(query, stored, PARAMS, line, TOLERANCE, lambda m: agrees(m, line, TOLERANCE))


def _stored(settings, directory, name: str, samples: np.ndarray) -> AudioFingerprint:
    return extract_fingerprint(_written(directory / f"{name}.stored.wav", samples), settings, PARAMS)


@pytest.mark.media
@pytest.mark.parametrize("voice_db", [-6.0, -3.0, 0.0])
def test_music_under_an_espeak_voice_over_is_the_same_recording(sounds, voice_db):
    directory, settings, decoded = sounds
    music = decoded["music"]
    stored = _stored(settings, directory, "music", music)
    voice = np.resize(decoded["words"], len(music))
    query = _copy(directory, settings, f"voice_over_{voice_db:+.0f}", music + _at(voice, voice_db, music), 9.0, 8.0)
    result = _on_line(query, stored, 9.0)
    assert result.same_recording and agrees(result, TimeMap(9.0), TOLERANCE), result
    assert result.test == "chromaprint" or min(result.landmarks.partial,
                                               result.landmarks.contained) > PARAMS.landmark_max_partial


@pytest.mark.media
def test_music_plus_pink_noise_at_0_db_snr_is_the_same_recording(sounds):
    directory, settings, decoded = sounds
    music = decoded["music"]
    stored = _stored(settings, directory, "music", music)
    noisy = music + _at(pink_noise(np.random.default_rng(7), len(music)), 0.0, music)
    query = _copy(directory, settings, "pink_noise", noisy, 12.0, 8.0)
    result = _on_line(query, stored, 12.0)
    assert result.same_recording and agrees(result, TimeMap(12.0), TOLERANCE), result


@pytest.mark.media
def test_the_voice_over_is_the_landmarks_finding_where_chromaprint_is_at_chance(sounds):
    directory, settings, decoded = sounds
    music = decoded["music"]
    stored = _stored(settings, directory, "music", music)
    voice = np.resize(decoded["words"], len(music))
    query = _copy(directory, settings, "voice_over_0", music + _at(voice, 0.0, music), 9.0, 8.0)
    without = _on_line(query._replace(landmarks=np.zeros(0, np.uint32)), stored, 9.0)
    result = _on_line(query, stored, 9.0)
    assert not without.same_recording
    assert result.test == "landmarks" and result.false_alarm <= PARAMS.landmark_max_false_alarm
    assert result.landmarks.matches > 3 * result.landmarks.expected


@pytest.mark.media
@pytest.mark.parametrize("other", ["other music", "other words"])
def test_another_track_or_the_same_speaker_s_other_words_are_not_the_same_recording(sounds, other):
    directory, settings, decoded = sounds
    own = "music" if other == "other music" else "words"
    stored = _stored(settings, directory, own, decoded[own])
    for start in (2.0, 9.0, 16.0):
        query = _copy(directory, settings, f"{other}_{start:g}", decoded[other], start, 8.0)
        result = _on_line(query, stored, start)
        assert not result.same_recording, (start, result)
        assert result.landmarks is not None and not result.landmarks.same_recording


@pytest.mark.media
def test_other_words_over_a_shared_quiet_bed_are_not_the_same_recording(sounds):
    """Two takes of one voice over one music bed 20 dB under it: the bed's peaks agree on the line,
    but only where the stored voice is silent (the shared-background check)."""
    directory, settings, decoded = sounds
    size = min(len(decoded["words"]), len(decoded["other words"]), len(decoded["music"]))
    bed = decoded["music"][:size]
    take = decoded["words"][:size] + _at(bed, -20.0, decoded["words"][:size])
    other_take = decoded["other words"][:size] + _at(bed, -20.0, decoded["other words"][:size])
    stored = _stored(settings, directory, "take", take)
    query = _copy(directory, settings, "other_take", other_take, 5.0, 12.0)
    result = _on_line(query, stored, 5.0)
    assert not result.same_recording, result


@pytest.mark.media
@pytest.mark.parametrize("bed_db", [-12.0, -6.0])
def test_other_words_over_a_shared_loud_bed_are_not_the_same_recording(sounds, bed_db):
    """The product's hard case: the same room's other words over one loud music bed (6-12 dB under
    the voice). The bed's peaks agree on the line, and many of them are loud in the stored track,
    but the stored voice's are not in the query: it does not contain the stored recording."""
    directory, settings, decoded = sounds
    size = min(len(decoded["words"]), len(decoded["other words"]), len(decoded["music"]))
    bed = decoded["music"][:size]
    take = decoded["words"][:size] + _at(bed, bed_db, decoded["words"][:size])
    other_take = decoded["other words"][:size] + _at(bed, bed_db, decoded["other words"][:size])
    stored = _stored(settings, directory, f"take_{bed_db:+.0f}", take)
    for start in (3.0, 11.0):
        query = _copy(directory, settings, f"other_take_{bed_db:+.0f}_{start:g}", other_take, start, 8.0)
        result = _on_line(query, stored, start)
        assert not result.same_recording, (start, result)
        assert result.landmarks.contained <= PARAMS.landmark_max_partial or result.landmarks.false_alarm > \
            PARAMS.landmark_max_false_alarm or result.landmarks.partial <= PARAMS.landmark_max_partial


@pytest.mark.media
def test_music_keeps_about_its_share_of_peaks_a_second(sounds):
    """landmark_peaks_per_second of 4 bytes each: what the index stores beside the Chromaprint items."""
    _, _, decoded = sounds
    found = peaks(decoded["music"], PARAMS)
    seconds = len(decoded["music"]) / RATE
    assert 0.8 * PARAMS.landmark_peaks_per_second <= len(found) / seconds <= PARAMS.landmark_peaks_per_second


@pytest.mark.media
def test_a_series_clip_is_not_the_same_recording_and_a_voice_over_copy_of_it_is(sounds):
    """A creator's series as the development set's recipes make one (calibrate --series): one
    voice saying other words over the first 8 s of a 10 s clip, the same music bed 10 dB under it
    from the bed's start, the tail the bed alone. The bed agrees on the line, but the stored voice
    is not in the other clip: not the same recording. The stored clip with another voice talking
    over it 6 dB louder keeps it: the same recording, found by the landmarks."""
    directory, settings, decoded = sounds
    size = 10 * RATE

    def over_the_bed(words: np.ndarray) -> np.ndarray:
        voice = np.zeros(size, np.float32)
        voice[:8 * RATE] = words[:8 * RATE]
        return voice + _at(decoded["music"][:size], -10.0, voice)

    clip = over_the_bed(decoded["words"])
    stored = _stored(settings, directory, "series_first", clip)
    series = _on_line(_copy(directory, settings, "series_second", over_the_bed(decoded["other words"]), 0.0, 10.0),
                      stored, 0.0)
    assert not series.same_recording, series
    # The bed is found beyond chance on the line; the check that the agreement is the whole
    # stored recording refuses it.
    assert series.landmarks.false_alarm <= PARAMS.landmark_max_false_alarm
    other_voice = decode_mono(spoken("en-gb", 5, directory / "en_gb_5.wav"), settings)
    voice_over = clip + _at(np.resize(other_voice, size), 6.0, clip)
    copy = _on_line(_copy(directory, settings, "series_voice_over", voice_over, 0.0, 10.0), stored, 0.0)
    assert copy.same_recording and agrees(copy, TimeMap(0.0), TOLERANCE), copy
    assert copy.test == "landmarks"  # Chromaprint does not find it under the louder voice
