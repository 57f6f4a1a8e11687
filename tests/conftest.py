"""Shared fixtures: real media from packages, and a real stack (Tansu broker + one worker); the
test tiers.

Every test is in one tier (pyproject.toml lists the markers):
- integration: marked so; starts real processes (broker, workers, tritonserver);
- media: marked so, or using a fixture of real media or the frame model (MEDIA_FIXTURES):
  decoded clips, the models, ffmpeg-made edits; the index engines at size;
- fast: every other test. `make test-fast` runs these alone, and they are held to it: a fast test
  that runs ffmpeg, downloads a package, opens packaged media or loads a model fails and says which.

Integration fixtures start real processes and are session-scoped: a consumer-group join costs
about half the session timeout (6 s here), so every stream test shares one worker."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from streams.config import Settings

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache"

MEDIA_FIXTURES = {"media", "samples", "frame_model_url", "triton_url", "triton_installation"}
# Commands a fast test must not start: media tools, speech synthesis, package downloads, the model server.
MEDIA_COMMANDS = {"ffmpeg", "ffprobe", "sox", "espeak-ng", "pip", "apt-get", "tritonserver"}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.get_closest_marker("integration"):
            continue
        if not item.get_closest_marker("media") and MEDIA_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.media)
        if not item.get_closest_marker("media"):
            item.add_marker(pytest.mark.fast)


class NotInTheFastTier(Exception):
    pass


def _refuse(what: str):
    def refused(*args, **kwargs):
        raise NotInTheFastTier(f"a fast test {what}: mark it (or its module) pytest.mark.media")
    return refused


class _FastPopen(subprocess.Popen):
    def __init__(self, args, *rest, **kwargs):
        argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
        names = {Path(os.fsdecode(part)).name for part in argv[:3]}  # `python -m pip` too
        if names & MEDIA_COMMANDS:
            _refuse(f"runs {' '.join(map(os.fsdecode, argv))}")()
        super().__init__(args, *rest, **kwargs)


@contextlib.contextmanager
def _fast_tier_guard(item) -> Iterator[None]:
    """What needs real media or a model belongs to the media tier: a fast test (and the fixtures it
    sets up, whatever their scope) fails when it reaches for them."""
    if not item.get_closest_marker("fast"):
        yield
        return
    import onnxruntime

    import tooling.devset.packaged

    with mock.patch.object(subprocess, "Popen", _FastPopen), \
            mock.patch.object(onnxruntime, "InferenceSession", _refuse("loads a model")), \
            mock.patch.object(tooling.devset.packaged, "packaged_media", _refuse("opens packaged media")):
        yield


def pytest_terminal_summary(terminalreporter) -> None:
    """The session's CPU time beside its wall time: on a shared machine the wall time is mostly
    the wait for a core, and the CPU time is what the tests cost."""
    own, children = os.times()[:2], os.times()[2:4]
    load = os.getloadavg()[0]
    terminalreporter.write_line(f"cpu: {sum(own):.1f} s in pytest, {sum(children):.1f} s in its child processes "
                                f"(load average {load:.1f} at the end)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    with _fast_tier_guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    with _fast_tier_guard(item):
        return (yield)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def media() -> dict[str, Path]:
    from tooling.devset.packaged import packaged_media

    return packaged_media(CACHE)


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    from tooling.devset.samples import build_samples

    return build_samples(tmp_path_factory.mktemp("samples"), CACHE)


class VerdictLog:
    """Collects every verdict and dead letter from the moment the stack is up."""

    def __init__(self, settings: Settings):
        from streams.kafka.clients import read_topic

        self.settings = settings
        self.verdicts: dict[str, list] = {}
        self.dead_letters: dict[bytes | None, list] = {}
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._collect, args=(read_topic, settings.topic_verdict), daemon=True),
            threading.Thread(target=self._collect, args=(read_topic, settings.topic_dlq), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _collect(self, read_topic, topic: str) -> None:
        from schemas.events import Verdict

        for message in read_topic(self.settings, topic, from_beginning=True, stop=self._stop):
            with self._changed:
                if topic == self.settings.topic_verdict:
                    verdict = Verdict.model_validate_json(message.value())
                    self.verdicts.setdefault(verdict.video_id, []).append(verdict)
                else:
                    self.dead_letters.setdefault(message.key(), []).append(message)
                self._changed.notify_all()

    def close(self) -> None:
        """Stop reading (before the broker goes away, so no client is left retrying it)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(5)

    def wait(self, store: dict, key, count: int = 1, timeout: float = 120.0) -> list:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(store.get(key, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} entries for {key!r} within {timeout:.0f} s; have {store.get(key)}")
                self._changed.wait(left)
            return list(store[key])

    def verdict(self, video_id: str, count: int = 1, timeout: float = 120.0):
        return self.wait(self.verdicts, video_id, count, timeout)[count - 1]

    def dead_letter(self, key: bytes, timeout: float = 60.0):
        return self.wait(self.dead_letters, key, 1, timeout)[0]


class Stack:
    def __init__(self, settings: Settings, env: dict[str, str], log_path: Path):
        self.settings = settings
        self.env = env
        self.log_path = log_path
        self.log: VerdictLog | None = None
        self.workers: list[subprocess.Popen] = []
        self._producer = None

    def start_worker(self, timeout: float = 90.0) -> subprocess.Popen:
        ready = threading.Event()
        worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel", "INFO"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env,
                                  cwd=REPO)

        def follow() -> None:
            with open(self.log_path, "a") as log:
                for line in worker.stdout:
                    log.write(line)
                    log.flush()
                    if "worker ready" in line:
                        ready.set()

        threading.Thread(target=follow, daemon=True).start()
        if not ready.wait(timeout):
            worker.kill()
            raise RuntimeError(f"worker not ready after {timeout:.0f} s; see {self.log_path}")
        self.workers.append(worker)
        return worker

    def publish(self, video_id: str, uri: str) -> None:
        from schemas.events import VideoPublished
        from streams.kafka.clients import producer, publish

        self._producer = self._producer or producer(self.settings)
        publish(self.settings, [VideoPublished(video_id=video_id, uri=uri)], self._producer)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    worker.kill()


def stack_environment(tmp: Path, triton_url: str, media_roots: list[Path]) -> dict[str, str]:
    return {
        **os.environ,
        "DUPSTREAM_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "DUPSTREAM_DATA_DIR": str(tmp / "data"),
        "DUPSTREAM_WEB_PORT": "0",
        "DUPSTREAM_SESSION_TIMEOUT_S": "6",
        "DUPSTREAM_TRITON_URL": triton_url,
        "DUPSTREAM_MEDIA_ROOTS": json.dumps([str(root) for root in media_roots]),
    }


@pytest.fixture(scope="session")
def frame_model_url() -> str:
    """The worker's frame model: a real tritonserver when the project's setup installed one,
    else ONNX Runtime in-process (the same descriptors, see tests/test_triton.py)."""
    try:
        from tests.triton_fixtures import running_triton_url
    except ImportError:
        return "onnx"
    return running_triton_url() or "onnx"


@contextlib.contextmanager
def running_stack(tmp: Path, media_roots: list[Path], frame_model_url: str, **overrides: str) -> Iterator[Stack]:
    """A broker with the topics, a verdict log, and one worker (start more with start_worker)."""
    from streams.kafka.broker import EmbeddedBroker
    from streams.kafka.topics import create_topics

    env = stack_environment(tmp, frame_model_url, media_roots)
    env.update({f"DUPSTREAM_{name.upper()}": value for name, value in overrides.items()})
    with mock.patch.dict(os.environ, env):
        settings = Settings()
    with EmbeddedBroker(settings.kafka_bootstrap, log_path=tmp / "broker.log"):
        create_topics(settings)
        stack = Stack(settings, env, tmp / "worker.log")
        stack.log = VerdictLog(settings)
        stack.start_worker()
        try:
            yield stack
        finally:
            stack.stop()
            stack.log.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, samples, frame_model_url) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack"), [samples[0].path.parent, CACHE], frame_model_url) as stack:
        yield stack
