"""`dupstream demo`: build the sample set, start `dupstream up`, publish the samples one after the
other, and print the verdicts beside what they should be. The samples are built by the
development tooling (`tooling.devset.samples`), which the command hands in; the private stack
and the progress line here are shared with the tools that run the stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from streams.config import Settings


def progress(message: str) -> None:
    print(f"\r\033[K{message}", end="" if sys.stdout.isatty() else "\n", flush=True)


def private_stack(data_dir: Path, media_roots: list[str]) -> tuple[Settings, dict[str, str]]:
    """Settings, and the environment that hands them to `dupstream up`, of a stack of one's own:
    its data in data_dir (created), a free broker port, no web server, media under media_roots."""
    from streams.embedding.triton_server import free_port

    settings = Settings(data_dir=data_dir, kafka_bootstrap=f"127.0.0.1:{free_port()}", web_port=0,
                        media_roots=media_roots)
    env = {"DUPSTREAM_DATA_DIR": str(data_dir), "DUPSTREAM_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
           "DUPSTREAM_WEB_PORT": "0", "DUPSTREAM_MEDIA_ROOTS": json.dumps(media_roots)}
    data_dir.mkdir(parents=True, exist_ok=True)
    return settings, env


class RunningStack:
    """`dupstream up` in a child process; waits for its `ready` line."""

    def __init__(self, settings: Settings, env: dict[str, str] | None = None):
        self.settings = settings
        self.log_path = settings.data_dir / "up.log"
        self._ready = threading.Event()
        self._env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def _follow(self) -> None:
        with open(self.log_path, "a") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                if "ready" in line:
                    self._ready.set()

    def __enter__(self) -> "RunningStack":
        self.process = subprocess.Popen([sys.executable, "-m", "streams.cli", "up"], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=self._env)
        threading.Thread(target=self._follow, daemon=True).start()
        deadline = time.monotonic() + 300
        while not self._ready.wait(0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"`dupstream up` did not become ready; see {self.log_path}")
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT, as Ctrl-C
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def run_demo(settings: Settings, build_samples: Callable[[Path, Path], list]) -> int:
    """`build_samples(directory, cache)`: the samples, each with its id, path, what it is and the
    verdict expected."""
    from schemas.events import VideoPublished
    from streams.kafka.clients import producer, publish, read_verdicts

    started = time.monotonic()
    progress("building the sample set from packaged clips ...")
    samples = build_samples(settings.data_dir / "samples", settings.data_dir / "cache")
    progress("starting the embedded stack (broker, frame model, index, worker) ...")
    rows = []
    with RunningStack(settings):
        verdicts = read_verdicts(settings, from_beginning=True, timeout=600)
        client = producer(settings)  # one for all: a new idempotent producer takes ~0.5 s to start
        for number, sample in enumerate(samples, 1):
            progress(f"[{number}/{len(samples)}] {sample.video_id}: {sample.what} ...")
            sent = time.monotonic()
            publish(settings, [VideoPublished(video_id=sample.video_id, uri=str(sample.path.resolve()))], client)
            verdict = next(v for v in verdicts if v.video_id == sample.video_id)
            rows.append((sample, verdict, time.monotonic() - sent))
        verdicts.close()
    progress("")
    print(f"{'video':<22} {'what':<32} {'expected':<29} {'verdict':<33} {'of':<8} {'s':>5}  evidence")
    wrong = 0
    for sample, verdict, seconds in rows:
        ok = verdict.verdict.value == sample.expected_verdict and verdict.duplicate_of == sample.expected_duplicate_of
        wrong += not ok
        evidence = verdict.reason if verdict.status == "ok" else f"{verdict.error.code}: {verdict.error.message}"
        print(f"{sample.video_id:<22} {sample.what[:32]:<32} {sample.expected_verdict:<29} "
              f"{verdict.verdict.value + ('' if ok else ' (!)'):<33} {verdict.duplicate_of or '-':<8} "
              f"{seconds:5.1f}  {evidence}")
    print(f"{len(rows) - wrong}/{len(rows)} verdicts as expected, {time.monotonic() - started:.0f} s in all")
    return 0 if wrong == 0 else 1
