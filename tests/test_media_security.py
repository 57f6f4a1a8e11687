"""Security of media access: local paths stay inside the media roots, http(s) goes only to allowed
hosts and public addresses (loopback only when explicitly allowed), size-capped and time-limited,
and no shell or subprocess is anywhere near decoding.

The web server is a real http.server on 127.0.0.1 in a thread; loopback is the only address a
test can reach, so the tests that fetch allow it explicitly (http_allow_private)."""

from __future__ import annotations

import ast
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from streams.config import Settings
from streams.errors import DupstreamError
from streams.media.uri import MediaForbidden, check_uri, local_path, opened_media

REPO = Path(__file__).resolve().parent.parent
BODY = os.urandom(64 * 1024)


class _Handler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        route, _, target = self.path.partition("?to=")
        if route == "/video.mp4":
            self._send(BODY)
        elif route == "/redirect":
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
        elif route == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * len(BODY)))
            self.end_headers()
        elif route == "/unannounced":  # no Content-Length: the cap must hold while reading
            self.send_response(200)
            self.end_headers()
            for _ in range(10):
                self.wfile.write(BODY)
        elif route == "/trickle":  # a byte at a time, never done
            self.send_response(200)
            self.end_headers()
            for _ in range(200):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        elif route == "/stall":  # headers, then nothing
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(3)
        else:
            self.send_error(404)

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def loopback_allowed(**overrides) -> Settings:
    return Settings(**{"http_allowed_hosts": ["127.0.0.1"], "http_allow_private": True, "http_timeout_s": 5.0,
                       **overrides})


def fetched(uri: str, settings: Settings) -> bytes:
    with opened_media(uri, settings) as path:
        return path.read_bytes()


def code_of(uri: str, settings: Settings) -> str:
    with pytest.raises(DupstreamError) as caught:
        fetched(uri, settings)
    assert caught.value.message
    return caught.value.code


def test_an_allowed_host_is_fetched_into_a_temporary_file(server):
    with opened_media(f"{server}/video.mp4", loopback_allowed()) as path:
        assert path.read_bytes() == BODY
    assert not path.exists()


def test_loopback_is_refused_unless_allowed_even_for_an_allowed_host(server):
    _Handler.requests.clear()
    assert code_of(f"{server}/video.mp4", Settings(http_allowed_hosts=["127.0.0.1"])) == "media_forbidden"
    assert _Handler.requests == []  # refused on connecting: not a byte was asked for


def test_a_host_not_allowed_is_refused_at_ingest(server):
    with pytest.raises(MediaForbidden):
        check_uri(f"{server}/video.mp4".replace("127.0.0.1", "localhost"), loopback_allowed())
    with pytest.raises(MediaForbidden):
        check_uri(f"{server}/video.mp4", Settings())


def test_redirects_stay_on_allowed_hosts_and_schemes(server):
    port = server.rsplit(":", 1)[1]
    assert fetched(f"{server}/redirect?to={server}/video.mp4", loopback_allowed()) == BODY
    assert code_of(f"{server}/redirect?to=http://localhost:{port}/video.mp4", loopback_allowed()) == "media_forbidden"
    assert code_of(f"{server}/redirect?to=file:///etc/passwd", loopback_allowed()) == "media_forbidden"
    # An allowed name that leads to a loopback address is refused where it connects.
    settings = Settings(http_allowed_hosts=["127.0.0.1", "localhost"])
    assert code_of(f"{server}/redirect?to=http://localhost:{port}/video.mp4", settings) == "media_forbidden"


def test_the_size_cap_holds_announced_or_not(server):
    settings = loopback_allowed(max_bytes=len(BODY) * 2)
    assert code_of(f"{server}/huge", settings) == "media_too_large"
    assert code_of(f"{server}/unannounced", settings) == "media_too_large"


def test_the_time_limit_holds_for_slow_and_silent_servers(server):
    settings = loopback_allowed(http_timeout_s=1.0)
    assert code_of(f"{server}/trickle", settings) == "fetch_timeout"
    assert code_of(f"{server}/stall", settings) == "fetch_timeout"


def test_a_missing_remote_file_is_not_found(server):
    assert code_of(f"{server}/nothing-here.mp4", loopback_allowed()) == "media_not_found"


def test_symlinked_directories_and_encoded_dot_dots_do_not_escape(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"x")
    (root / "inside.mp4").write_bytes(b"x")
    (root / "door").symlink_to(outside, target_is_directory=True)
    (root / "alias.mp4").symlink_to(root / "inside.mp4")
    settings = Settings(media_roots=[root])
    for uri in (f"{root}/door/secret.mp4", f"file://{root}/%2e%2e/outside/secret.mp4", f"{root}/../outside/secret.mp4"):
        with pytest.raises(MediaForbidden):
            local_path(uri, settings)
    assert local_path(str(root / "alias.mp4"), settings) == (root / "inside.mp4").resolve()


DECODING_MODULES = ["streams/media", "streams/audio", "streams/stages", "streams/embedding/onnx.py"]


def test_no_shell_or_subprocess_is_involved_in_decoding():
    """Decoding is PyAV and Essentia in-process: a crafted file name can never reach a shell."""
    sources = [path for entry in DECODING_MODULES for path in
               ((REPO / entry).rglob("*.py") if (REPO / entry).is_dir() else [REPO / entry])]
    assert len(sources) > 5
    for source in sources:
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert not {"subprocess", "pty", "commands"} & set(names), f"{source}: imports {names}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
                assert not node.attr.startswith(("system", "popen", "exec", "spawn")), f"{source}: os.{node.attr}"
            if isinstance(node, ast.keyword) and node.arg == "shell":
                pytest.fail(f"{source}: shell= in a call")


def test_the_two_halves_of_a_video_fetch_it_once(server):
    """The frame and audio stages open the same URI at about the same time: one fetch serves both,
    and the copy goes when both are done."""
    _Handler.requests.clear()
    uri = f"{server}/video.mp4"
    with opened_media(uri, loopback_allowed(), readers=2) as first:
        with opened_media(uri, loopback_allowed(), readers=2) as second:
            assert second == first and second.read_bytes() == BODY
        assert first.exists()  # the other half still reads it
    assert not first.exists()
    assert len(_Handler.requests) == 1


def test_a_half_that_comes_after_the_other_closed_still_finds_the_copy(server):
    _Handler.requests.clear()
    uri = f"{server}/video.mp4"
    with opened_media(uri, loopback_allowed(), readers=2) as first:
        pass
    assert first.exists()  # lingers for the other half
    with opened_media(uri, loopback_allowed(), readers=2) as second:
        assert second == first
    assert not first.exists() and len(_Handler.requests) == 1
