"""Fuzzing the two doors hostile input comes through: the event value and the media bytes.
Whatever comes in, the answer is a DupstreamError with a code (one video fails), never another
exception (a crashed stage) and never a hang. Bounded: a fixed number of examples, each with a
deadline."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from streams.config import Settings
from streams.errors import DupstreamError
from streams.stages.ingest import accept, best_effort_id, parse_event

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
uris = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["/", "..", "file://", "http://", "https://[::1", "file://host/x", "~/x", "/dev/zero"]),
    st.builds(lambda scheme, rest: f"{scheme}://{rest}", st.sampled_from(["file", "http", "https", "ftp", "data"]),
              st.text(max_size=60)),
)
events = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {"video_id": st.text(max_size=140) | st.integers(), "uri": uris},
        optional={"published_at": st.text(max_size=30), "metadata": json_values},
    ).map(lambda event: json.dumps(event).encode()),
)
keys = st.none() | st.binary(max_size=140) | st.text(max_size=140).map(str.encode)


@hypothesis_settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(key=keys, value=events)
def test_any_event_value_fails_with_a_code_or_is_accepted(key, value):
    for step in (lambda: parse_event(value), lambda: accept(key, value, Settings())):
        try:
            step()
        except DupstreamError as error:
            assert error.code and error.message
    assert isinstance(best_effort_id(key, value), str)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    """A small real clip, with sound, whose bytes the media fuzz mutates."""
    from tooling.devset.samples import ffmpeg

    path = tmp_path_factory.mktemp("fuzz") / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=5", "-f", "lavfi", "-i", "sine=duration=3",
           "-t", "3", "-shortest", "-c:v", "mpeg4", "-movflags", "+faststart", str(path))
    return path.read_bytes()


def media_bytes(clip: bytes):
    """Pure noise, or the clip with a stretch overwritten or cut (a plausible header over garbage
    is what reaches deepest into the demuxers and decoders)."""
    damaged = st.tuples(st.integers(0, len(clip) - 1), st.binary(min_size=1, max_size=2000)).map(
        lambda spot: clip[: spot[0]] + spot[1] + clip[spot[0] + len(spot[1]):])
    cut = st.integers(1, len(clip) - 1).map(lambda end: clip[:end])
    return st.one_of(st.binary(min_size=1, max_size=4000), damaged, cut)


@pytest.mark.media
def test_any_bytes_as_a_media_file_fail_with_a_code_or_decode(clip):
    from streams.audio.extract import extract_fingerprint
    from streams.media.video import sample_frames
    from streams.params import AudioParams

    def fingerprint(path: Path, settings: Settings):
        return extract_fingerprint(path, settings, AudioParams())

    limits = Settings(decode_timeout_s=10.0, max_seconds=60.0)

    @hypothesis_settings(max_examples=120, deadline=15000, suppress_health_check=[HealthCheck.too_slow])
    @given(data=media_bytes(clip))
    def decode(data: bytes) -> None:
        with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
            file.write(data)
            file.flush()
            for step in (sample_frames, fingerprint):
                try:
                    step(Path(file.name), limits)
                except DupstreamError as error:
                    assert error.code and error.message

    decode()
