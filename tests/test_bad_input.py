"""Bad input: every hostile or broken event and file fails its one video with a clear error code,
or, when the damage is survivable (a corrupt packet, no soundtrack), does not fail it at all.

The corpus is generated here, small, with ffmpeg's test sources; one integration test pushes it
through a real stack."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import pytest

from streams.config import Settings
from tooling.devset.samples import ffmpeg
from streams.errors import DupstreamError
from streams.media.uri import check_uri, local_path
from streams.media.video import sample_frames
from streams.stages.ingest import accept, best_effort_id, parse_event
from tests.conftest import CACHE, running_stack


class BadFile(NamedTuple):
    name: str
    code: str | None  # None: the video must still be judged


def _testsrc(path: Path, seconds: float, size: str = "160x120", rate: int = 10, *extra: str) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}", "-t", str(seconds), *extra, str(path))
    return path


def build_corpus(directory: Path) -> dict[str, Path]:
    """Small broken, hostile and survivable files, each named for what it is."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {name: directory / name for name in (
        "empty.mp4", "text.mp4", "readme.txt", "random.mp4", "image.png", "audio_only.m4a", "cover_art.mp3",
        "truncated.mp4", "header_only.mp4", "video_only.mp4", "corrupt_middle.mp4", "huge_frames.mp4",
        "too_long.mkv")}
    if all(path.exists() for path in files.values()):
        return files
    files["empty.mp4"].write_bytes(b"")
    files["text.mp4"].write_text("a text file posing as a video\n" * 40)
    files["readme.txt"].write_text("FFmpeg would render this text as a video\n" * 40)
    files["random.mp4"].write_bytes(os.urandom(50_000))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", str(files["image.png"]))
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", str(files["audio_only.m4a"]))
    ffmpeg("-i", str(files["audio_only.m4a"]), "-i", str(files["image.png"]), "-map", "0", "-map", "1",
           "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic", str(files["cover_art.mp3"]))
    # The moov atom is written last: cut off, the file has no index at all.
    whole = _testsrc(directory / "whole.mp4", 6, "160x120", 10, "-c:v", "libx264")
    data = whole.read_bytes()
    files["truncated.mp4"].write_bytes(data[: len(data) // 2])
    files["header_only.mp4"].write_bytes(data[:64])
    _testsrc(files["video_only.mp4"], 4, "160x120", 10, "-an")
    damaged = bytearray(_testsrc(directory / "clean.mp4", 6, "160x120", 10, "-c:v", "mpeg4",
                                 "-movflags", "+faststart").read_bytes())
    middle = len(damaged) // 2
    damaged[middle: middle + 1500] = os.urandom(1500)
    files["corrupt_middle.mp4"].write_bytes(damaged)
    _testsrc(files["huge_frames.mp4"], 1, "1920x1080", 1)
    # Matroska written as a live stream: the header does not say how long it is.
    _testsrc(files["too_long.mkv"], 90, "32x32", 1, "-f", "matroska", "-live", "1")
    return files


# Limits the corpus is judged under (the integration stack uses them too): a full-HD frame or a
# minute and a half is "too much" here.
LIMITS = {"max_pixels": 1280 * 720, "max_seconds": 60.0}

EXPECTED = [
    BadFile("empty.mp4", "media_empty"),
    BadFile("text.mp4", "media_unreadable"),
    BadFile("readme.txt", "media_unreadable"),
    BadFile("random.mp4", "media_unreadable"),
    BadFile("image.png", "no_video_stream"),
    BadFile("audio_only.m4a", "no_video_stream"),
    BadFile("cover_art.mp3", "no_video_stream"),
    BadFile("truncated.mp4", "media_unreadable"),
    BadFile("header_only.mp4", "media_unreadable"),
    BadFile("huge_frames.mp4", "media_too_large"),
    BadFile("too_long.mkv", "media_too_long"),
    BadFile("video_only.mp4", None),
    BadFile("corrupt_middle.mp4", None),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("bad-input"))


@pytest.fixture(scope="module")
def settings(corpus) -> Settings:
    return Settings(media_roots=[next(iter(corpus.values())).parent], **LIMITS)


@pytest.fixture(params=["in one decode", "in segments"])
def decoding(request, monkeypatch):
    """A file decoded alone in one decode, and in segments side by side, as a long one is (these
    are seconds long: sampling is let start again every 1.5 s)."""
    from streams.media import video

    if request.param == "in segments":
        monkeypatch.setattr(video, "RESTART_SECONDS", 1.0)
        monkeypatch.setattr(video, "decode_workers", lambda: 2)
    else:
        monkeypatch.setattr(video, "decode_workers", lambda: 1)


def frames_of(path: Path, settings: Settings):
    """What the frame stage does with a file: resolve it under the roots, then sample."""
    return sample_frames(local_path(str(path), settings), settings)


@pytest.mark.media
@pytest.mark.parametrize("case", EXPECTED, ids=lambda case: case.name)
def test_each_file_fails_with_its_code_or_is_judged(case, corpus, settings, decoding):
    if case.code is None:
        frames = frames_of(corpus[case.name], settings)
        assert len(frames.timestamps) >= 3
        return
    with pytest.raises(DupstreamError) as caught:
        frames_of(corpus[case.name], settings)
    assert caught.value.code == case.code, caught.value.message
    assert caught.value.message


@pytest.mark.media
def test_a_corrupt_packet_in_the_middle_is_skipped_not_fatal(corpus, settings, decoding):
    damaged = frames_of(corpus["corrupt_middle.mp4"], settings)
    clean = frames_of(corpus["corrupt_middle.mp4"].with_name("clean.mp4"), settings)
    assert damaged.duration == pytest.approx(clean.duration, abs=0.5)
    assert len(damaged.timestamps) >= len(clean.timestamps) - 1


@pytest.mark.media
def test_the_decode_time_limit_stops_a_slow_video(corpus, decoding):
    settings = Settings(media_roots=[corpus["video_only.mp4"].parent], decode_timeout_s=1e-6)
    with pytest.raises(DupstreamError) as caught:
        frames_of(corpus["video_only.mp4"], settings)
    assert caught.value.code == "decode_timeout"


@pytest.mark.media
def test_a_file_larger_than_max_bytes_is_refused_before_decoding(corpus):
    settings = Settings(media_roots=[corpus["video_only.mp4"].parent], max_bytes=1000)
    with pytest.raises(DupstreamError) as caught:
        check_uri(str(corpus["video_only.mp4"]), settings)
    assert caught.value.code == "media_too_large"


@pytest.mark.parametrize("uri, code", [
    ("no_such_video.mp4", "media_not_found"),
    ("../outside.mp4", "media_forbidden"),
    ("symlink_loop.mp4", "media_not_found"),
    ("a" * 300 + ".mp4", "media_not_found"),
    ("file:///etc/passwd", "media_forbidden"),
    ("file://remote-host/v.mp4", "media_forbidden"),
    ("file:///tmp/nul%00byte.mp4", "media_not_found"),
    ("~nosuchuser/v.mp4", "media_forbidden"),
    ("http://[::1/v.mp4", "invalid_event"),
])
@pytest.mark.media
def test_uris_that_name_no_usable_file(uri, code, corpus, settings):
    root = corpus["empty.mp4"].parent
    loop = root / "symlink_loop.mp4"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    target = uri if "://" in uri or uri.startswith("~") else str(root / uri)
    if uri == "file:///tmp/nul%00byte.mp4":
        target = f"file://{root}/nul%00byte.mp4"
    with pytest.raises(DupstreamError) as caught:
        check_uri(target, settings)
    assert caught.value.code == code, caught.value.message


BAD_EVENTS = {
    "not_json": b"{this is not json",
    "not_utf8": b"\xff\xfe\x00garbage",
    "a_json_list": b'["video_id", "uri"]',
    "missing_uri": b'{"video_id": "v1"}',
    "missing_video_id": b'{"uri": "/tmp/v.mp4"}',
    "invalid_video_id": b'{"video_id": "../../etc", "uri": "/tmp/v.mp4"}',
    "long_video_id": json.dumps({"video_id": "v" * 129, "uri": "/tmp/v.mp4"}).encode(),
    "oversized_uri": json.dumps({"video_id": "v1", "uri": "/" + "a" * 5000}).encode(),
    "oversized_metadata": json.dumps({"video_id": "v1", "uri": "/tmp/v.mp4", "metadata": {"x": "y" * 70_000}}).encode(),
    "unknown_scheme": b'{"video_id": "v1", "uri": "ftp://host/v.mp4"}',
    "nul_in_uri": b'{"video_id": "v1", "uri": "/tmp/v\\u0000.mp4"}',
    "bad_date": b'{"video_id": "v1", "uri": "/tmp/v.mp4", "published_at": "yesterday"}',
    "deeply_nested": b'{"video_id": "v1", "uri": "/tmp/v.mp4", "metadata": ' + b"[" * 50_000 + b"}",
    "empty": b"",
}


@pytest.mark.parametrize("name", BAD_EVENTS)
def test_malformed_events_are_invalid_events(name):
    value = BAD_EVENTS[name]
    with pytest.raises(DupstreamError) as caught:
        parse_event(value)
    assert caught.value.code == "invalid_event" and caught.value.message
    assert best_effort_id(None, value) in ("v1", "unknown")


def test_a_key_that_differs_from_the_video_id_is_refused():
    with pytest.raises(DupstreamError) as caught:
        accept(b"other", b'{"video_id": "v1", "uri": "/nowhere/v.mp4"}', Settings())
    assert caught.value.code == "invalid_event"


def test_a_failed_event_is_filed_under_its_key_else_its_id_else_unknown():
    assert best_effort_id(b"from-key", b"{broken") == "from-key"
    assert best_effort_id(b"bad key!", b'{"video_id": "v1"}') == "v1"
    assert best_effort_id(None, b'{"video_id": "../x"}') == "unknown"


@pytest.mark.integration
def test_a_batch_of_bad_input_fails_clearly_and_the_worker_goes_on(tmp_path, corpus, samples, frame_model_url):
    from streams.kafka.clients import publish_raw

    root = corpus["empty.mp4"].parent
    overrides = {name: str(value) for name, value in LIMITS.items()}
    good = next(s for s in samples if s.video_id == "bikes_silent")
    failing = [case for case in EXPECTED if case.code is not None]
    events = [(f"bad-{n}", json.dumps({"video_id": f"bad-{n}", "uri": str(corpus[case.name])}).encode(), case.code)
              for n, case in enumerate(failing)]
    events += [("bad-missing", json.dumps({"video_id": "bad-missing", "uri": str(root / "gone.mp4")}).encode(),
                "media_not_found"),
               ("bad-outside", json.dumps({"video_id": "bad-outside", "uri": "/etc/hostname"}).encode(),
                "media_forbidden")]
    events += [(f"event-{n}", BAD_EVENTS[name], "invalid_event")
               for n, name in enumerate(("not_json", "missing_uri", "invalid_video_id", "oversized_metadata"))]
    with running_stack(tmp_path, [root, good.path.parent, CACHE], frame_model_url, **overrides) as stack:
        publish_raw(stack.settings, [(key.encode(), value) for key, value, _ in events])
        stack.publish("good-after-bad", str(good.path))
        for key, value, code in events:
            verdict = stack.log.verdict(key, timeout=120)  # a broken event is filed under its key
            assert verdict.status == "failed" and verdict.error.code == code, (key, verdict.error)
            assert verdict.error.message
            letter = stack.log.dead_letter(key.encode())
            assert letter.value() == value  # the original bytes, untouched
            headers = dict(letter.headers())
            assert headers["dupstream.error.code"] == code.encode()
        assert stack.log.verdict("good-after-bad", timeout=180).status == "ok"
        assert stack.workers[0].poll() is None
