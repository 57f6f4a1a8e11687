import os

import pytest

from streams.config import Settings
from streams.errors import MediaError
from streams.media.uri import MediaForbidden, MediaNotFound, check_uri, local_path


@pytest.fixture
def settings(tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    return Settings(media_roots=[root], data_dir=tmp_path / "data")


def test_a_file_under_a_media_root_resolves(settings, tmp_path):
    video = tmp_path / "media" / "v.mp4"
    video.write_bytes(b"x")
    assert local_path(str(video), settings) == video.resolve()
    assert local_path(f"file://{video}", settings) == video.resolve()


@pytest.mark.parametrize("make_uri", [
    lambda tmp: str(tmp / "elsewhere.mp4"),
    lambda tmp: str(tmp / "media" / ".." / "elsewhere.mp4"),
    lambda tmp: "/etc/passwd",
])
def test_paths_outside_the_roots_are_forbidden(settings, tmp_path, make_uri):
    (tmp_path / "elsewhere.mp4").write_bytes(b"x")
    with pytest.raises(MediaForbidden):
        local_path(make_uri(tmp_path), settings)


def test_a_symlink_out_of_the_roots_is_forbidden(settings, tmp_path):
    (tmp_path / "secret.mp4").write_bytes(b"x")
    os.symlink(tmp_path / "secret.mp4", tmp_path / "media" / "link.mp4")
    with pytest.raises(MediaForbidden):
        local_path(str(tmp_path / "media" / "link.mp4"), settings)


def test_missing_and_empty_files_have_their_own_codes(settings, tmp_path):
    with pytest.raises(MediaNotFound):
        local_path(str(tmp_path / "media" / "nope.mp4"), settings)
    (tmp_path / "media" / "empty.mp4").write_bytes(b"")
    with pytest.raises(MediaError) as caught:
        local_path(str(tmp_path / "media" / "empty.mp4"), settings)
    assert caught.value.code == "media_empty"


def test_oversized_files_are_refused(tmp_path):
    (tmp_path / "big.mp4").write_bytes(b"x" * 100)
    settings = Settings(media_roots=[tmp_path], max_bytes=10)
    with pytest.raises(MediaError) as caught:
        local_path(str(tmp_path / "big.mp4"), settings)
    assert caught.value.code == "media_too_large"


def test_http_needs_an_allowed_host(settings):
    with pytest.raises(MediaForbidden):
        check_uri("https://cdn.example.com/v.mp4", settings)
