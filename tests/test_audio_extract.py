"""Soundtrack fingerprints on real decoded audio (packaged music, speech and clips)."""

import base64

import numpy as np
import pytest

from streams.audio import ITEMS_PER_SECOND, FingerprintFormatError
from streams.audio.extract import decode_mono, decompress, extract_fingerprint, replayed
from streams.audio.match import compare
from streams.config import Settings
from tooling.devset.samples import ffmpeg
from streams.errors import MediaError
from streams.params import AudioParams

PARAMS = AudioParams()


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
    fingerprint = extract_fingerprint(media["funkyrobot.mp3"], Settings(), PARAMS)
    assert fingerprint.state == "ok" and fingerprint.items.dtype == np.uint32
    assert fingerprint.duration == pytest.approx(223.5, abs=0.5)
    assert fingerprint.usable_seconds > 200
    # Chromaprint needs about 2.6 s before its first item.
    assert len(fingerprint.items) == pytest.approx((fingerprint.duration - 2.6) * ITEMS_PER_SECOND, abs=3)
    assert len(np.unique(fingerprint.items)) > 0.9 * len(fingerprint.items)


def test_a_usable_soundtrack_also_has_its_items_on_the_resampled_speed_grid(media):
    fingerprint = extract_fingerprint(media["trailer_bbb.mp4"], Settings(), PARAMS)
    assert [copy.speed for copy in fingerprint.resampled] == [*PARAMS.resampled_speeds, *PARAMS.line_speeds]
    for copy in fingerprint.resampled[:len(PARAMS.resampled_speeds)]:  # the line speeds': tests/test_audio_match_speed.py
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
    fingerprint = extract_fingerprint(media["trailer_bbb.mp4"], Settings(), PARAMS)
    assert fingerprint.state == "ok" and len(fingerprint.items) > 350


def test_a_video_without_an_audio_stream_has_no_audio(media):
    for name in ("bikes.mp4", "muted_b.mp4"):
        fingerprint = extract_fingerprint(media[name], Settings(), PARAMS)
        assert fingerprint.state == "no_audio" and len(fingerprint.items) == 0


def test_a_silent_track_is_too_little_audio(media, tmp_path):
    # world.mp4's own track is near-digital silence (-91 dBFS): under the absolute floor.
    silent = extract_fingerprint(media["world.mp4"], Settings(), PARAMS)
    assert silent.state == "too_little_audio" and silent.resampled == ()
    silence = tmp_path / "silence.m4a"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "20", "-c:a", "aac", str(silence))
    fingerprint = extract_fingerprint(silence, Settings(), PARAMS)
    assert fingerprint.state == "too_little_audio" and fingerprint.usable_seconds == 0.0


def test_short_speech_is_usable_unless_the_minimum_asks_for_more(media):
    short = extract_fingerprint(media["cate_blanch.mp3"], Settings(), PARAMS)
    assert short.state == "ok" and short.usable_seconds == pytest.approx(7.8, abs=0.3)
    stricter = AudioParams(min_audio_seconds=8)
    assert extract_fingerprint(media["cate_blanch.mp3"], Settings(), stricter).state == "too_little_audio"


def test_a_track_too_short_for_enough_items_is_too_little_audio(media, tmp_path):
    # 3 s of music: sound throughout, but Chromaprint's 2.6 s warm-up leaves 3 items.
    clip = tmp_path / "three.wav"
    ffmpeg("-ss", "30", "-t", "3", "-i", str(media["funkyrobot.mp3"]), str(clip))
    fingerprint = extract_fingerprint(clip, Settings(media_roots=[tmp_path]), PARAMS)
    assert fingerprint.usable_seconds > 2.5 and len(fingerprint.items) < PARAMS.min_match_items
    assert fingerprint.state == "too_little_audio"


def test_a_five_second_clips_soundtrack_is_fingerprinted_and_found_in_its_source(media, tmp_path):
    """A 5 s video (pictures and AAC sound): usable, and its sound is found in the source track."""
    clip = tmp_path / "clip.mp4"
    ffmpeg("-i", str(media["bikes.mp4"]), "-ss", "42", "-t", "5", "-i", str(media["funkyrobot.mp3"]), "-map", "0:v",
           "-map", "1:a", "-t", "5", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-b:a", "64k", str(clip))
    settings = Settings(media_roots=[tmp_path, media["funkyrobot.mp3"].parent])
    query = extract_fingerprint(clip, settings, PARAMS)
    assert query.state == "ok" and query.duration == pytest.approx(5, abs=0.2)
    source = tmp_path / "source.wav"
    ffmpeg("-ss", "30", "-t", "30", "-i", str(media["funkyrobot.mp3"]), str(source))
    result = compare(query, extract_fingerprint(source, settings, PARAMS), PARAMS)
    assert result.same_recording and result.false_alarm <= PARAMS.max_false_alarm
    assert result.offset == pytest.approx(12, abs=0.5)


def _at_level(source, out, mean_dbfs, settings):
    """source re-leveled so that its mean (RMS over the track) is mean_dbfs."""
    samples = decode_mono(source, settings)
    level = 10 * np.log10(np.mean(np.square(samples, dtype=np.float64)))
    ffmpeg("-i", str(source), "-af", f"volume={mean_dbfs - level:.2f}dB", "-c:a", "pcm_s16le", str(out))
    return out


def test_a_copy_fourteen_db_quieter_is_usable_and_the_same_recording(media, tmp_path):
    """The issue's quiet copy: mean -47 dBFS, 14 dB under its original; the fingerprint is
    gain-invariant, so silence is judged relative to the track and the copy is as usable."""
    settings = Settings(media_roots=[tmp_path, media["sax.wav"].parent])
    original = _at_level(media["sax.wav"], tmp_path / "original.wav", -33.0, settings)
    quiet = _at_level(media["sax.wav"], tmp_path / "quiet.wav", -47.0, settings)
    peak = 20 * np.log10(np.abs(decode_mono(quiet, settings)).max())
    assert -40 < peak < -20
    loud, soft = (extract_fingerprint(path, settings, PARAMS) for path in (original, quiet))
    # Only its quietest fades (under -70 dBFS, near 16-bit silence) are lost.
    assert soft.state == "ok" and soft.usable_seconds >= 0.9 * loud.usable_seconds
    result = compare(soft, loud, PARAMS)
    assert result.same_recording and result.offset == pytest.approx(0, abs=0.2)


def test_music_padded_with_silence_counts_only_its_sound(media, tmp_path):
    padded = tmp_path / "padded.wav"
    ffmpeg("-i", str(media["sax.wav"]), "-af", "adelay=20000:all=1", str(padded))
    fingerprint = extract_fingerprint(padded, Settings(), PARAMS)
    assert fingerprint.duration == pytest.approx(36.0, abs=0.2)
    assert fingerprint.usable_seconds == pytest.approx(14.2, abs=1.5)


def test_an_unreadable_file_raises(tmp_path):
    text = tmp_path / "text.mp4"
    text.write_text("not a video")
    with pytest.raises(MediaError):
        extract_fingerprint(text, Settings(), PARAMS)


def test_decoding_a_soundtrack_stops_at_the_decode_time_limit(media):
    # 223 s of MP3 take about 0.4 s to decode here; the limit stops it long before the end.
    with pytest.raises(MediaError) as caught:
        extract_fingerprint(media["funkyrobot.mp3"], Settings(decode_timeout_s=0.05), PARAMS)
    assert caught.value.code == "decode_timeout"


def test_a_soundtrack_longer_than_max_seconds_is_too_long(media):
    # sax.wav lasts 16 s; the length is counted in decoded samples, not taken from the header.
    with pytest.raises(MediaError) as caught:
        extract_fingerprint(media["sax.wav"], Settings(max_seconds=5), PARAMS)
    assert caught.value.code == "media_too_long"
    whole = extract_fingerprint(media["sax.wav"], Settings(max_seconds=16.5), PARAMS)
    assert whole.duration == pytest.approx(16.0, abs=0.1)
