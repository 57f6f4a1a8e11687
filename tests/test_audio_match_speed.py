"""Sound sped up or slowed down with its pitch (a 0.5x-2x speed button that resamples) on the
pictures' line (streams.audio.match): the query's opening re-played at the coarse line speeds
(streams.audio.extract), the copy nearest the line's speed heard there, as one more hypothesis,
and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest

from schemas.events import AudioState
from streams.audio import CHROMAPRINT_SAMPLE_RATE as RATE, ITEMS_PER_SECOND, AudioFingerprint, ResampledItems
from streams.audio.extract import extract_fingerprint, fingerprint_samples
from streams.audio.match import TimeMap, agrees, compare, compare_on_line
from streams.config import Settings
from streams.params import AudioParams
from tooling.audio.edits import EXCERPT_RATE, excerpt
from tooling.devset.samples import ffmpeg

PARAMS = AudioParams()
TOLERANCE = 2.5  # decision.co_located_offset_seconds


def _items(length: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2 ** 32, length, dtype=np.uint64).astype(np.uint32)


def _resampled(source, speed: float, directory):
    """source played `speed` times faster, pitch moved alike (asetrate), as a speed button does."""
    out = directory / f"{source.stem}_x{speed}.wav"
    if not out.exists():
        ffmpeg("-i", str(source), "-af", f"asetrate={EXCERPT_RATE}*{speed},aresample={EXCERPT_RATE}", str(out))
    return out


@pytest.fixture(scope="module")
def music(media, tmp_path_factory):
    directory = tmp_path_factory.mktemp("speed")
    settings = Settings(media_roots=[directory])
    base = excerpt(media["funkyrobot.mp3"], directory / "funkyrobot.wav", 30, 24)
    other = excerpt(media["1918.mp3"], directory / "1918.wav", 40, 24)
    stored = {name: extract_fingerprint(path, settings, PARAMS)._replace(resampled=())
              for name, path in (("base", base), ("other", other))}
    return directory, settings, base, stored


def _on_line(query: AudioFingerprint, stored: AudioFingerprint, line: TimeMap):
    return compare_on_line(query, stored, PARAMS, line, TOLERANCE, lambda m: agrees(m, line, TOLERANCE))


@pytest.mark.media
@pytest.mark.parametrize("speed", [0.5, 0.67, 1.5, 2.0])
def test_a_resampled_copy_at_a_speed_button_s_speed_is_the_same_recording_on_its_line(music, speed):
    directory, settings, base, stored = music
    query = extract_fingerprint(_resampled(base, speed, directory), settings, PARAMS)
    line = TimeMap(0.0, speed)
    result = compare(query, stored["base"], PARAMS, near=line, tolerance_s=TOLERANCE)
    assert result.same_recording and result.speed == pytest.approx(speed, rel=0.01), result
    assert not compare(query, stored["base"], PARAMS).same_recording  # the free search does not reach it
    # the same sound resampled, over another recording's time line at that speed: not it
    assert not _on_line(query, stored["other"], line).same_recording


def test_the_coarse_copies_are_heard_on_a_line_beyond_the_resampled_speeds_only_one_at_a_time():
    """One coarse copy (the nearest) on a line at 1.6x, none on a line at speed 1 (whose pitch
    hypotheses are the semitones') and none in the free search."""
    plain = AudioFingerprint(_items(60, 1), ITEMS_PER_SECOND, 30.0, 30.0, AudioState.OK)
    coarse = plain._replace(resampled=tuple(ResampledItems(speed, _items(int(60 * speed), n))
                                            for n, speed in enumerate(PARAMS.line_speeds)))
    stored = AudioFingerprint(_items(120, 99), ITEMS_PER_SECOND, 60.0, 60.0, AudioState.OK)

    def hypotheses(query, near=None):
        return compare(query, stored, PARAMS, near=near, tolerance_s=TOLERANCE).hypotheses

    fast = TimeMap(0.0, 1.6)
    assert 0 < hypotheses(coarse, fast) - hypotheses(plain, fast) <= hypotheses(plain, fast)
    for near in (None, TimeMap(0.0, 1.0), TimeMap(0.0, 1.05)):
        assert hypotheses(coarse, near) == hypotheses(plain, near)


def test_only_the_opening_is_re_played_at_the_line_speeds():
    rng = np.random.default_rng(5)
    seconds = PARAMS.line_speeds_seconds + 20
    samples = (rng.normal(size=int(seconds * RATE)) * np.repeat(rng.uniform(0.1, 1, int(seconds * 4)),
                                                                RATE // 4 + 1)[:int(seconds * RATE)]).astype(np.float32)
    fingerprint = fingerprint_samples(samples, PARAMS)
    assert fingerprint.state == AudioState.OK
    speeds = [copy.speed for copy in fingerprint.resampled]
    assert speeds == [*PARAMS.resampled_speeds, *PARAMS.line_speeds]
    for copy in fingerprint.resampled:
        heard = seconds if copy.speed in PARAMS.resampled_speeds else PARAMS.line_speeds_seconds
        assert len(copy.items) == pytest.approx((heard * copy.speed - 2.6) * ITEMS_PER_SECOND, abs=3)
