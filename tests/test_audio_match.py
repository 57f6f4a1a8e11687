"""Soundtrack comparison on real audio: the edits re-uploads make (tooling.audio.edits) are found
on the right time line; different recordings are not the same recording."""

import numpy as np
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from streams.audio import ITEMS_PER_SECOND, AudioFingerprint, ResampledItems
from tooling.audio.edits import EDITS, edited, excerpt
from tooling.devset.speech import has_speech_synthesis, spoken
from streams.audio.extract import extract_fingerprint as _extract
from streams.audio.match import TimeMap, agrees, compare, compare_on_line, informative
from streams.config import Settings
from tooling.devset.samples import ffmpeg
from streams.params import AudioParams

SETTINGS = Settings()
PARAMS = AudioParams()


def extract_fingerprint(path, settings=SETTINGS):
    return _extract(path, settings, PARAMS)


@pytest.fixture(scope="module")
def music(media, tmp_path_factory):
    """30 s of arcade's funkyrobot.mp3 (the reference), and 1918.mp3 as the unrelated recording."""
    directory = tmp_path_factory.mktemp("audio_edits")
    base = excerpt(media["funkyrobot.mp3"], directory / "funkyrobot.wav", 30, 30)
    return directory, base, media["1918.mp3"], extract_fingerprint(base, SETTINGS)


@pytest.mark.parametrize("edit", EDITS, ids=[edit.name for edit in EDITS])
def test_an_edited_copy_is_the_same_recording_on_the_right_time_line(music, edit):
    directory, base, other, reference = music
    query = extract_fingerprint(edited(base, edit, directory, other), SETTINGS)
    result = compare(query, reference, PARAMS)
    assert result.same_recording, result
    assert result.false_alarm <= PARAMS.max_false_alarm and result.ber < 0.3
    assert result.speed == pytest.approx(edit.speed, abs=0.011)
    assert result.offset == pytest.approx(edit.offset, abs=0.3)
    # The stretch found lies on the stated time line.
    q, r = result.query_segment, result.reference_segment
    assert r.start == pytest.approx(result.speed * q.start + result.offset, abs=0.3)
    assert q.end - q.start >= 4.0


def test_mild_edits_keep_a_low_bit_error_rate_over_nearly_the_whole_copy(music):
    directory, base, other, reference = music
    for edit in EDITS[:3]:
        result = compare(extract_fingerprint(edited(base, edit, directory, other)), reference, PARAMS)
        assert result.ber < 0.08 and result.query_segment.end - result.query_segment.start > 25


def test_partial_overlap_names_the_shared_stretch(music):
    directory, base, other, reference = music
    partial = next(edit for edit in EDITS if edit.name == "partial")
    result = compare(extract_fingerprint(edited(base, partial, directory, other)), reference, PARAMS)
    # The query is 10 s of 1918.mp3, then the reference from 14 s on.
    assert result.query_segment.start == pytest.approx(10, abs=2.5)
    assert result.reference_segment.start == pytest.approx(14, abs=2.5)


def test_different_music_is_not_the_same_recording(music, media, tmp_path):
    _, _, other, reference = music
    for name, start in (("1918.mp3", 40), ("trailer_bbb.mp4", 0), ("sax.wav", 0)):
        query = extract_fingerprint(excerpt(media[name], tmp_path / f"{name}.wav", start, 30), SETTINGS)
        result = compare(query, reference, PARAMS)
        assert not result.same_recording and result.ber > 0.35, (name, result)


def test_different_voices_are_not_the_same_recording(media, tmp_path):
    voices = tmp_path / "voices.wav"
    ffmpeg("-i", str(media["heath_ledger.mp3"]), "-i", str(media["recording1.wav"]), "-i", str(media["cantina.wav"]),
           "-filter_complex", "[0:a]aresample=44100,aformat=channel_layouts=mono[a];[1:a]aresample=44100,"
           "aformat=channel_layouts=mono[b];[2:a]aresample=44100,aformat=channel_layouts=mono[c];"
           "[a][b][c]concat=n=3:v=0:a=1", str(voices))
    result = compare(extract_fingerprint(media["cate_blanch.mp3"], SETTINGS),
                     extract_fingerprint(voices, SETTINGS), PARAMS)
    assert not result.same_recording and result.ber > 0.3


def test_one_soundtrack_under_different_pictures_is_the_same_recording(media, tmp_path):
    videos = []
    for picture in ("bikes.mp4", "carphone_pristine.mp4"):
        out = tmp_path / f"{picture}.music.mp4"
        ffmpeg("-stream_loop", "3", "-i", str(media[picture]), "-ss", "60", "-t", "12", "-i",
               str(media["funkyrobot.mp3"]), "-map", "0:v", "-map", "1:a", "-shortest", "-c:v", "libx264",
               "-preset", "veryfast", "-c:a", "aac", "-b:a", "64k", str(out))
        videos.append(extract_fingerprint(out, SETTINGS))
    assert all(video.state == "ok" for video in videos)
    result = compare(videos[0], videos[1], PARAMS)
    assert result.same_recording and result.ber < 0.1 and result.offset == pytest.approx(0, abs=0.2)


def test_silence_never_matches_silence(media):
    # Both tracks are digital silence: one constant item each, which carries no evidence.
    a, b = (extract_fingerprint(media[name], SETTINGS) for name in ("world.mp4", "a.mp4"))
    assert not informative(a.items, PARAMS.static_run).any()
    assert not compare(a, b, PARAMS).same_recording


def test_too_short_fingerprints_compare_as_different():
    items = np.random.default_rng(1).integers(0, 2**32, PARAMS.min_match_items - 1, dtype=np.uint32)
    short = AudioFingerprint(items, ITEMS_PER_SECOND, 1.3, 1.3, "ok")
    result = compare(short, short, PARAMS)
    assert not result.same_recording and result.ber == 0.5 and not result.decisive  # too short to tell


def _edit(name):
    return next(edit for edit in EDITS if edit.name == name)


def test_a_resampled_re_upload_is_found_from_the_stages_wire_form_against_the_stored_plain_items(music):
    """The audio stage's half (through JSON) carries the resampled copies; the index row keeps the
    plain items only, and the comparison finds the ×1.05 copy on its time line."""
    import base64
    from datetime import UTC, datetime

    from schemas.internal import AcceptedVideo, AudioHalf
    from streams.index import StoredVideo
    from streams.stages.audio import audio_half
    from streams.pipeline import query_fingerprint, stored_fingerprint

    directory, base, other, _ = music
    settings = Settings(media_roots=[directory])

    def half(path):
        accepted = AcceptedVideo(video_id=path.stem, uri=str(path), raw_event=base64.b64encode(b"{}").decode(),
                                 accepted_at=datetime.now(UTC))
        return AudioHalf.model_validate_json(audio_half(accepted, settings).model_dump_json())

    original, sped_up = half(base), half(edited(base, _edit("rate_x1.05"), directory, other))
    assert len(sped_up.resampled) == len(query_fingerprint(sped_up).resampled) > 0
    stored = StoredVideo(video_id="original", cluster_id="original", sequence=1, published_at=None, duration=30.0,
                         audio_state=original.state, audio_items=original.items,
                         audio_items_per_second=original.items_per_second, verdict="{}")
    assert stored_fingerprint(stored).resampled == ()
    result = compare(query_fingerprint(sped_up), stored_fingerprint(stored), PARAMS)
    assert result.same_recording and result.speed == pytest.approx(1.05, abs=0.011)
    assert result.offset == pytest.approx(0, abs=0.3)


def test_a_resampled_copy_of_other_music_is_not_the_same_recording(music):
    directory, base, other, reference = music
    other_base = excerpt(other, directory / "1918.wav", 40, 30)
    for name in ("rate_x1.05", "rate_x0.95"):
        result = compare(extract_fingerprint(edited(other_base, _edit(name), directory, base)), reference,
                         PARAMS)
        assert not result.same_recording and result.ber > 0.35, (name, result)


def test_a_track_too_short_for_any_item_compares_as_different():
    """Chromaprint's warm-up gives no item for a track under ~3 s: every copy of it is empty."""
    empty = np.zeros(0, np.uint32)
    other = np.random.default_rng(1).integers(0, 2**32, 400, dtype=np.uint32)
    short = AudioFingerprint(empty, ITEMS_PER_SECOND, 2.0, 2.0, "ok",
                             tuple(ResampledItems(speed, empty) for speed in (0.9, 1.1)))
    result = compare(short, AudioFingerprint(other, ITEMS_PER_SECOND, 52.0, 52.0, "ok"), PARAMS)
    assert not result.same_recording


def _items(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32, length, dtype=np.uint32)


@hypothesis_settings(max_examples=60, deadline=None)
@given(query=st.integers(0, 300), reference=st.integers(0, 300), copies=st.lists(st.integers(0, 300), max_size=3),
       seed=st.integers(0, 2**16))
def test_fingerprints_of_any_length_compare_without_error(query, reference, copies, seed):
    """What a stored video or a query holds depends on its track's length: from nothing up."""
    resampled = tuple(ResampledItems(0.9 + 0.1 * n, _items(length, seed + n)) for n, length in enumerate(copies))
    result = compare(AudioFingerprint(_items(query, seed), ITEMS_PER_SECOND, query / ITEMS_PER_SECOND, 60.0, "ok",
                                      resampled),
                     AudioFingerprint(_items(reference, seed + 9), ITEMS_PER_SECOND, reference / ITEMS_PER_SECOND,
                                      60.0, "ok"), PARAMS)
    assert 0.0 <= result.ber <= 1.0 and result.query_segment.start <= result.query_segment.end


def test_two_different_music_tracks_over_six_seconds_are_not_the_same_after_the_full_search(music, media, tmp_path):
    """The issue's case: 6 s of one track against another, every offset, speed and resampled copy."""
    _, _, other, reference = music
    track = excerpt(other, tmp_path / "1918.wav", 20, 120)
    for start in range(0, 120, 10):
        clip = tmp_path / f"clip{start}.wav"
        ffmpeg("-ss", str(start), "-t", "6", "-i", str(track), str(clip))
        query = extract_fingerprint(clip, Settings(media_roots=[tmp_path]))
        assert query.state == "ok" and query.resampled
        result = compare(query, reference, PARAMS)
        assert not result.same_recording and result.false_alarm > PARAMS.max_false_alarm, (start, result)
        assert result.decisive, (start, result)  # 6 s could have shown the same recording: "differ" holds
        assert result.hypotheses > 1000


@pytest.fixture(scope="module")
def one_voice(tmp_path_factory):
    """One synthetic voice saying four different word sequences."""
    if not has_speech_synthesis():
        pytest.skip("espeak-ng is not installed")
    directory = tmp_path_factory.mktemp("voice")
    settings = Settings(media_roots=[directory])
    return directory, [extract_fingerprint(spoken("en-us", seed, directory / f"{seed}.wav"), settings)
                       for seed in range(4)]


@pytest.mark.media
def test_different_words_by_one_voice_are_not_the_same_recording(one_voice):
    """Same person, same room, different talk: the bits agree far above half by chance (the
    voice's own spectrum), which the test's chance BER accounts for."""
    _, takes = one_voice
    for a, query in enumerate(takes):
        for b, reference in enumerate(takes):
            if a != b:
                result = compare(query, reference, PARAMS)
                assert result.chance_ber < 0.45 and not result.same_recording and result.decisive, (a, b, result)


@pytest.mark.media
def test_a_clip_of_one_take_is_found_in_it_and_not_in_the_others(one_voice):
    directory, takes = one_voice
    clip = directory / "clip.wav"
    ffmpeg("-ss", "5", "-t", "6", "-i", str(directory / "0.wav"), "-c:a", "aac", "-b:a", "48k",
           str(clip.with_suffix(".m4a")))
    query = extract_fingerprint(clip.with_suffix(".m4a"), Settings(media_roots=[directory]))
    found = [compare(query, take, PARAMS) for take in takes]
    assert found[0].same_recording and found[0].offset == pytest.approx(5, abs=0.5)
    assert not any(result.same_recording for result in found[1:])


def test_a_known_time_map_tries_fewer_hypotheses_and_says_where_it_holds(music, tmp_path):
    directory, base, other, reference = music
    clip = tmp_path / "clip.wav"
    ffmpeg("-ss", "11", "-t", "5", "-i", str(edited(base, _edit("aac_48k"), directory, other)), str(clip))
    query = extract_fingerprint(clip, Settings(media_roots=[tmp_path]))
    free = compare(query, reference, PARAMS)
    near = compare(query, reference, PARAMS, near=TimeMap(11.0, 1.0), tolerance_s=1.0)
    assert free.same_recording and near.same_recording
    assert near.hypotheses < free.hypotheses / 20 and near.false_alarm < free.false_alarm
    assert near.offset == pytest.approx(11, abs=0.3)
    assert agrees(near, TimeMap(11.0, 1.0), 1.0) and not agrees(near, TimeMap(15.0, 1.0), 1.0)
    # Under a time map elsewhere, the same clip is not found.
    assert not compare(query, reference, PARAMS, near=TimeMap(2.0, 1.0), tolerance_s=1.0).same_recording


def test_the_same_alignment_is_more_significant_with_fewer_hypotheses_or_a_longer_overlap():
    from streams.audio.match import false_alarm

    assert false_alarm(5.0, 100, PARAMS) < false_alarm(5.0, 10000, PARAMS) < false_alarm(4.0, 10000, PARAMS)
    assert false_alarm(float("-inf"), 100, PARAMS) == 1.0 and false_alarm(3.0, 0, PARAMS) == 1.0


def test_four_seconds_of_a_speaker_s_other_words_differ_on_the_pictures_line_and_copies_do_not(media, tmp_path):
    """The carphone case: 4 s clips of one narrowband speaker (codec2's david4), whose biased bits
    give a chance BER near 0.13, so that even identical sound over their 8-11 items cannot pass the
    test. On the time line the pictures give (offset 0: the same pictures), his other words still
    compare as "not the same recording" (decisive: they agree less than copies do), while mildly
    edited copies of the clip are not called different. (Clipping +9 dB into 16 bits changes this
    voice's bits about as much as other words do: the cost, measured per edit by
    `python -m tooling.audio.calibrate --share-only`.)"""
    source = media["codec2_david4.wav"]
    reference = extract_fingerprint(excerpt(source, tmp_path / "words.wav", 0, 4))
    line = TimeMap(0.0)

    def on_the_line(query):
        return compare_on_line(query, reference, PARAMS, line, 2.5, lambda result: agrees(result, line, 2.5))

    other_words = extract_fingerprint(excerpt(source, tmp_path / "other_words.wav", 10, 4))
    result = on_the_line(other_words)
    assert result.chance_ber < 0.25 and not result.could_find, result
    assert not result.same_recording and result.decisive, result
    for name in ("mp3_32k", "aac_48k", "volume_-20dB", "pink_noise"):
        copy = extract_fingerprint(edited(tmp_path / "words.wav", _edit(name), tmp_path, media["1918.mp3"]))
        found = on_the_line(copy)
        assert found.same_recording or not found.decisive, (name, found)


@pytest.mark.parametrize("tempo", [0.8, 1.25])
def test_a_copy_played_faster_or_slower_than_the_grid_is_heard_at_the_pictures_speed(music, tmp_path, tempo):
    """The devset's speed copies play 0.8-1.25x with the sound (atempo); the free search's grid stops
    at +-10 %, so such a copy's sound is heard on the line its frames measured, and only there."""
    directory, base, other, reference = music
    copy = tmp_path / f"tempo_{tempo}.wav"
    ffmpeg("-i", str(base), "-af", f"atempo={tempo}", str(copy))
    query = extract_fingerprint(copy)
    on_line = compare(query, reference, PARAMS, near=TimeMap(0.0, tempo), tolerance_s=1.0)
    assert on_line.same_recording and on_line.speed == pytest.approx(tempo, abs=0.011), on_line
    assert not compare(query, reference, PARAMS, near=TimeMap(0.0, 1.0), tolerance_s=1.0).same_recording
    unrelated = extract_fingerprint(excerpt(other, tmp_path / "other.wav", 40, 30 / tempo))
    assert not compare(unrelated, reference, PARAMS, near=TimeMap(0.0, tempo), tolerance_s=1.0).same_recording
