"""Audio candidates from the index on real soundtracks, on both engines (the Qdrant server one in
qdrant-client's local mode, standing in for a server that does not install here)."""

import numpy as np
import pytest

from tooling.audio.edits import EDITS, edited, excerpt
from streams.audio.extract import extract_fingerprint as _extract
from streams.audio.match import TimeMap, compare
from streams.audio.windows import (STORED_HOP, WINDOW_BITS, audio_candidates, padded_windows, stored_windows,
                                   window_hits)
from streams.config import Settings
from tooling.devset.samples import ffmpeg
from streams.index import AudioHit
from streams.params import AudioParams
from tests.test_index import open_edge, open_server

SETTINGS = Settings()
PARAMS = AudioParams()


def find_candidates(index, items, items_per_second, params):
    """What the pipeline does with the window search: its hits, voted with the votes they need."""
    hits, min_votes = window_hits(index, items, items_per_second, params)
    return audio_candidates(hits, params, min_votes=min_votes)

def extract_fingerprint(path, settings=SETTINGS):
    return _extract(path, settings, PARAMS)


@pytest.fixture(scope="module")
def fingerprints(media, tmp_path_factory):
    directory = tmp_path_factory.mktemp("windows")
    base = excerpt(media["funkyrobot.mp3"], directory / "funky.wav", 30, 30)
    found = {name: extract_fingerprint(media[name]) for name in ("funkyrobot.mp3", "1918.mp3", "sax.wav")}
    for edit in EDITS:
        if edit.name in ("aac_48k", "trimmed_6s", "tempo_x1.05"):
            copy = edited(base, edit, directory, media["1918.mp3"])
            found[edit.name] = extract_fingerprint(copy)
            if edit.name == "aac_48k":
                # A 5 s clip: shorter than one window (32 items, ~6.6 s of sound).
                clip = directory / "clip5.wav"
                ffmpeg("-ss", "12", "-t", "5", "-i", str(copy), str(clip))
                found["clip_5s"] = extract_fingerprint(clip, Settings(media_roots=[directory]))
    # The same 5 s of the track, straight from the source (another encode of one sound).
    plain = directory / "plain5.wav"
    ffmpeg("-ss", "12", "-t", "5", "-i", str(base), str(plain))
    found["plain_5s"] = extract_fingerprint(plain, Settings(media_roots=[directory]))
    return found


def test_windows_are_plus_minus_one_and_their_dot_product_counts_agreeing_bits(fingerprints):
    items = fingerprints["funkyrobot.mp3"].items
    windows, offsets = stored_windows(items, fingerprints["funkyrobot.mp3"].items_per_second, PARAMS)
    assert windows.shape[1] == WINDOW_BITS and set(np.unique(windows)) == {-1.0, 1.0}
    assert np.all(np.diff(offsets) > 0.9)
    hamming = np.bitwise_count(items[:32] ^ items[8:40]).sum()
    assert windows[0] @ windows[1] == WINDOW_BITS - 2 * hamming


def test_silence_gives_no_windows():
    assert len(stored_windows(np.full(200, 7, np.uint32), 8.0, PARAMS)[0]) == 0
    assert len(padded_windows(np.full(20, 7, np.uint32), 8.0, PARAMS)[0]) == 0


@pytest.mark.parametrize("open_at", [open_edge, open_server], ids=["edge", "server"])
def test_edited_copies_find_their_source_at_the_right_offset(fingerprints, tmp_path, open_at):
    index = open_at(tmp_path)
    for name in ("funkyrobot.mp3", "1918.mp3"):
        index.add_audio(name, *stored_windows(fingerprints[name].items, fingerprints[name].items_per_second, PARAMS))
    for name, offset in (("aac_48k", 30), ("trimmed_6s", 36), ("tempo_x1.05", 30)):
        query = fingerprints[name]
        candidates = find_candidates(index, query.items, query.items_per_second, PARAMS)
        assert candidates[0].video_id == "funkyrobot.mp3", (name, candidates)
        assert candidates[0].offset == pytest.approx(offset, abs=1.5)
        assert all(c.video_id != "1918.mp3" for c in candidates)
    # The 5 s clip (from 42 s of the track, whose loops repeat) is found where its sound recurs.
    clip = fingerprints["clip_5s"]
    candidates = find_candidates(index, clip.items, clip.items_per_second, PARAMS)
    assert candidates[0].video_id == "funkyrobot.mp3" and all(c.video_id != "1918.mp3" for c in candidates)
    there = compare(clip, fingerprints["funkyrobot.mp3"], PARAMS, near=TimeMap(candidates[0].offset), tolerance_s=1.5)
    assert there.same_recording, candidates
    sax = fingerprints["sax.wav"]
    assert find_candidates(index, sax.items, sax.items_per_second, PARAMS) == []
    index.close()


@pytest.mark.parametrize("open_at", [open_edge, open_server], ids=["edge", "server"])
def test_a_short_stored_track_is_found_by_a_long_and_by_a_short_query(fingerprints, tmp_path, open_at):
    """A 5 s clip (shorter than a window) stored: a later video over the same sound finds it by
    sound alone, whether that video is longer (the 30 s copy it was cut from) or as short."""
    index = open_at(tmp_path)
    clip = fingerprints["clip_5s"]
    windows, offsets = stored_windows(clip.items, clip.items_per_second, PARAMS)
    assert len(clip.items) < 25 and len(windows) == STORED_HOP  # all its items, at each placement
    assert np.allclose(np.abs(windows[0][windows[0] != 0]), 32 / len(clip.items))
    index.add_audio("clip", windows, offsets)
    index.add_audio("1918.mp3", *stored_windows(fingerprints["1918.mp3"].items,
                                                fingerprints["1918.mp3"].items_per_second, PARAMS))
    longer = fingerprints["aac_48k"]  # the clip is its 12-17 s
    candidates = find_candidates(index, longer.items, longer.items_per_second, PARAMS)
    assert candidates[0].video_id == "clip" and candidates[0].offset == pytest.approx(-12, abs=1.5), candidates
    assert candidates[0].votes >= PARAMS.window_min_votes
    short = fingerprints["plain_5s"]
    candidates = find_candidates(index, short.items, short.items_per_second, PARAMS)
    assert candidates[0].video_id == "clip" and candidates[0].offset == pytest.approx(0, abs=1.5), candidates
    assert compare(short, clip, PARAMS).same_recording
    sax = fingerprints["sax.wav"]
    assert all(c.video_id != "clip" for c in find_candidates(index, sax.items, sax.items_per_second, PARAMS))
    index.close()


def test_a_short_query_fills_one_placement_per_stored_hop(fingerprints):
    """Its items, zero-padded, at each of STORED_HOP placements: the dot product with a stored
    window counts the agreeing bits of its items alone."""
    query = fingerprints["clip_5s"]
    windows, offsets, size = padded_windows(query.items, query.items_per_second, PARAMS)
    assert size == len(query.items) < 32 and len(windows) == STORED_HOP
    assert np.count_nonzero(windows, axis=1).tolist() == [size * 32] * STORED_HOP
    assert offsets[0] == 0 and np.all(np.diff(offsets) < 0)


def test_a_common_track_does_not_crowd_out_the_real_match():
    # Windows 0-9 of the query are a trending track found in 40 videos; windows 10-14 match "copy".
    hits = [AudioHit(float(q), f"dancer{v}", float(q) + 5, 900.0) for q in range(10) for v in range(40)]
    hits += [AudioHit(float(q), "copy", float(q) + 2, 900.0) for q in range(10, 15)]
    candidates = audio_candidates(hits, PARAMS)
    assert candidates[0].video_id == "copy" and candidates[0].offset == 2
    assert all(c.votes < candidates[0].votes for c in candidates[1:])


def test_the_query_itself_is_excluded():
    hits = [AudioHit(float(q), "me", float(q), 1024.0) for q in range(10)]
    assert audio_candidates(hits, PARAMS, exclude="me") == []
