"""Audio candidates from the index on real soundtracks, on both engines (the Qdrant server one in
qdrant-client's local mode, standing in for a server that does not install here)."""

import numpy as np
import pytest

from streams.audio.edits import EDITS, edited, excerpt
from streams.audio.extract import extract_fingerprint
from streams.audio.windows import (WINDOW_BITS, WINDOW_NEIGHBOURS, audio_candidates, query_windows, stored_windows,
                                   window_score_floor)
from streams.config import Settings
from streams.index import AudioHit
from tests.test_index import open_edge, open_server

SETTINGS = Settings()


@pytest.fixture(scope="module")
def fingerprints(media, tmp_path_factory):
    directory = tmp_path_factory.mktemp("windows")
    base = excerpt(media["funkyrobot.mp3"], directory / "funky.wav", 30, 30)
    found = {name: extract_fingerprint(media[name], SETTINGS) for name in ("funkyrobot.mp3", "1918.mp3", "sax.wav")}
    for edit in EDITS:
        if edit.name in ("aac_48k", "trimmed_6s", "tempo_x1.05"):
            found[edit.name] = extract_fingerprint(edited(base, edit, directory, media["1918.mp3"]), SETTINGS)
    return found


def test_windows_are_plus_minus_one_and_their_dot_product_counts_agreeing_bits(fingerprints):
    items = fingerprints["funkyrobot.mp3"].items
    windows, offsets = stored_windows(items, fingerprints["funkyrobot.mp3"].items_per_second)
    assert windows.shape[1] == WINDOW_BITS and set(np.unique(windows)) == {-1.0, 1.0}
    assert np.all(np.diff(offsets) > 0.9)
    hamming = np.bitwise_count(items[:32] ^ items[8:40]).sum()
    assert windows[0] @ windows[1] == WINDOW_BITS - 2 * hamming


def test_silence_gives_no_windows():
    assert len(stored_windows(np.full(200, 7, np.uint32), 8.0)[0]) == 0


@pytest.mark.parametrize("open_at", [open_edge, open_server], ids=["edge", "server"])
def test_edited_copies_find_their_source_at_the_right_offset(fingerprints, tmp_path, open_at):
    index = open_at(tmp_path)
    for name in ("funkyrobot.mp3", "1918.mp3"):
        index.add_audio(name, *stored_windows(fingerprints[name].items, fingerprints[name].items_per_second))
    for name, offset in (("aac_48k", 30), ("trimmed_6s", 36), ("tempo_x1.05", 30)):
        query = fingerprints[name]
        hits = index.search_audio(*query_windows(query.items, query.items_per_second), limit=WINDOW_NEIGHBOURS,
                                  score_floor=window_score_floor())
        candidates = audio_candidates(hits)
        assert candidates[0].video_id == "funkyrobot.mp3", (name, candidates)
        assert candidates[0].offset == pytest.approx(offset, abs=1.5)
        assert all(c.video_id != "1918.mp3" for c in candidates)
    sax = fingerprints["sax.wav"]
    hits = index.search_audio(*query_windows(sax.items, sax.items_per_second), limit=WINDOW_NEIGHBOURS,
                              score_floor=window_score_floor())
    assert audio_candidates(hits) == []
    index.close()


def test_a_common_track_does_not_crowd_out_the_real_match():
    # Windows 0-9 of the query are a trending track found in 40 videos; windows 10-14 match "copy".
    hits = [AudioHit(float(q), f"dancer{v}", float(q) + 5, 900.0) for q in range(10) for v in range(40)]
    hits += [AudioHit(float(q), "copy", float(q) + 2, 900.0) for q in range(10, 15)]
    candidates = audio_candidates(hits)
    assert candidates[0].video_id == "copy" and candidates[0].offset == 2
    assert all(c.votes < candidates[0].votes for c in candidates[1:])


def test_the_query_itself_is_excluded():
    hits = [AudioHit(float(q), "me", float(q), 1024.0) for q in range(10)]
    assert audio_candidates(hits, exclude="me") == []
