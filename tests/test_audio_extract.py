"""Soundtrack fingerprints on real decoded audio (packaged music, speech and clips)."""

import base64

import numpy as np
import pytest

from streams.audio import ITEMS_PER_SECOND, FingerprintFormatError
from streams.audio.extract import RESAMPLED_SPEEDS, decompress, extract_fingerprint, replayed
from streams.config import Settings
from streams.devset.samples import ffmpeg
from streams.errors import MediaError


def _packed(*data: int) -> str:
    return base64.urlsafe_b64encode(bytes(data)).decode().rstrip("=")


# Chromaprint's own decompressor test vectors (tests/test_fingerprint_decompressor.cpp).
@pytest.mark.parametrize("data, items", [
    ((0, 0, 0, 1, 1), [1]),
    ((0, 0, 0, 1, 73, 0), [7]),
    ((0, 0, 0, 1, 7, 0), [1 << 6]),
    ((0, 0, 0, 1, 7, 2), [1 << 8]),
    ((0, 0, 0, 2, 65, 0), [1, 0]),
    ((0, 0, 0, 2, 1, 0), [1, 1]),
])
def test_compressed_fingerprints_decode_to_chromaprints_raw_items(data, items):
    decoded, algorithm = decompress(_packed(*data))
    assert algorithm == 0 and decoded.dtype == np.uint32 and decoded.tolist() == items


def test_a_long_compressed_fingerprint_decodes_like_chromaprint():
    items, algorithm = decompress("AQAAEwkjrUmSJQpUHflR9mjSJMdZpcO_Imdw9dCO9Clu4_wQPvhCB01w6xAtXNcAp5RASgDBhDSCGGIAcwA")
    expected = np.array([-587455133, -591649759, -574868448, -576973520, -543396544, 1330439488, 1326360000,
                         1326355649, 1191625921, 1192674515, 1194804466, 1195336818, 1165981042, 1165956451,
                         1157441379, 1157441299, 1291679571, 1291673457, 1170079601], np.int64).astype(np.uint32)
    assert algorithm == 1 and np.array_equal(items, expected)


@pytest.mark.parametrize("broken", [_packed(0, 255, 255, 255), _packed(0, 0, 0, 1, 7), "A"])
def test_broken_fingerprints_are_refused(broken):
    with pytest.raises(FingerprintFormatError):
        decompress(broken)


def test_music_gives_about_eight_items_a_second(media):
    fingerprint = extract_fingerprint(media["funkyrobot.mp3"], Settings())
    assert fingerprint.state == "ok" and fingerprint.items.dtype == np.uint32
    assert fingerprint.duration == pytest.approx(223.5, abs=0.5)
    assert fingerprint.usable_seconds > 200
    # Chromaprint needs about 2.6 s before its first item.
    assert len(fingerprint.items) == pytest.approx((fingerprint.duration - 2.6) * ITEMS_PER_SECOND, abs=3)
    assert len(np.unique(fingerprint.items)) > 0.9 * len(fingerprint.items)


def test_a_usable_soundtrack_also_has_its_items_on_the_resampled_speed_grid(media):
    fingerprint = extract_fingerprint(media["trailer_bbb.mp4"], Settings())
    assert [copy.speed for copy in fingerprint.resampled] == list(RESAMPLED_SPEEDS)
    for copy in fingerprint.resampled:
        # Re-played `speed` times slower: that many times longer, less Chromaprint's 2.6 s warm-up.
        expected = (fingerprint.duration * copy.speed - 2.6) * ITEMS_PER_SECOND
        assert copy.items.dtype == np.uint32 and len(copy.items) == pytest.approx(expected, abs=3)
        assert not np.array_equal(copy.items[:50], fingerprint.items[:50])


def test_replaying_slower_lowers_the_pitch_by_the_same_factor():
    rate, seconds = 11025, 4.0
    tone = np.sin(2 * np.pi * 440 * np.arange(int(rate * seconds)) / rate).astype(np.float32)
    for speed in (0.9, 1.05):
        slower = replayed(tone, speed)
        assert len(slower) == pytest.approx(len(tone) * speed, abs=2) and slower.dtype == np.float32
        spectrum = np.abs(np.fft.rfft(slower))
        peak = np.argmax(spectrum) * rate / len(slower)
        assert peak == pytest.approx(440 / speed, abs=0.5)


def test_a_clips_soundtrack_is_fingerprinted(media):
    fingerprint = extract_fingerprint(media["trailer_bbb.mp4"], Settings())
    assert fingerprint.state == "ok" and len(fingerprint.items) > 350


def test_a_video_without_an_audio_stream_has_no_audio(media):
    for name in ("bikes.mp4", "muted_b.mp4"):
        fingerprint = extract_fingerprint(media[name], Settings())
        assert fingerprint.state == "no_audio" and len(fingerprint.items) == 0


def test_a_silent_track_is_too_little_audio(media, tmp_path):
    # world.mp4's own track is digital silence (-91 dBFS).
    silent = extract_fingerprint(media["world.mp4"], Settings())
    assert silent.state == "too_little_audio" and silent.resampled == ()
    silence = tmp_path / "silence.m4a"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "20", "-c:a", "aac", str(silence))
    fingerprint = extract_fingerprint(silence, Settings())
    assert fingerprint.state == "too_little_audio" and fingerprint.usable_seconds == 0.0


def test_short_speech_is_too_little_audio_unless_the_minimum_allows_it(media):
    short = extract_fingerprint(media["cate_blanch.mp3"], Settings())
    assert short.state == "too_little_audio" and short.usable_seconds == pytest.approx(7.8, abs=0.3)
    assert extract_fingerprint(media["cate_blanch.mp3"], Settings(min_audio_seconds=5)).state == "ok"


def test_music_padded_with_silence_counts_only_its_sound(media, tmp_path):
    padded = tmp_path / "padded.wav"
    ffmpeg("-i", str(media["sax.wav"]), "-af", "adelay=20000:all=1", str(padded))
    fingerprint = extract_fingerprint(padded, Settings())
    assert fingerprint.duration == pytest.approx(36.0, abs=0.2)
    assert fingerprint.usable_seconds == pytest.approx(14.2, abs=1.5)


def test_an_unreadable_file_raises(tmp_path):
    text = tmp_path / "text.mp4"
    text.write_text("not a video")
    with pytest.raises(MediaError):
        extract_fingerprint(text, Settings())


def test_decoding_a_soundtrack_stops_at_the_decode_time_limit(media):
    # 223 s of MP3 take about 0.4 s to decode here; the limit stops it long before the end.
    with pytest.raises(MediaError) as caught:
        extract_fingerprint(media["funkyrobot.mp3"], Settings(decode_timeout_s=0.05))
    assert caught.value.code == "decode_timeout"


def test_a_soundtrack_longer_than_max_seconds_is_too_long(media):
    # sax.wav lasts 16 s; the length is counted in decoded samples, not taken from the header.
    with pytest.raises(MediaError) as caught:
        extract_fingerprint(media["sax.wav"], Settings(max_seconds=5))
    assert caught.value.code == "media_too_long"
    assert extract_fingerprint(media["sax.wav"], Settings(max_seconds=16.5)).duration == pytest.approx(16.0, abs=0.1)
