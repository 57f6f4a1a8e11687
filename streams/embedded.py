"""`dupstream up`: the whole stack in one foreground process, on this machine's own parts.

The Tansu broker and (when installed) tritonserver run as child processes; the worker runs in
this process. Ctrl-C stops the worker first, then the children. The data directory keeps the
Qdrant Edge shards between runs; the broker's log is in memory and starts empty each time."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from streams.config import Settings

log = logging.getLogger(__name__)


@contextlib.contextmanager
def frame_model_server(settings: Settings) -> Iterator[str]:
    """The Triton URL the worker should use: a tritonserver started here when `triton_url` is
    'embedded' and the server is installed, the configured URL otherwise, 'onnx' as fallback."""
    if settings.triton_url != "embedded":
        yield settings.triton_url
        return
    from streams.embedding import triton_server

    installed = triton_server.find_installed()
    if installed is None:
        print("frame model: tritonserver is not installed (`make setup` installs it); "
              "using ONNX Runtime in-process", flush=True)
        yield "onnx"
        return
    with triton_server.TritonServer(installed) as server:
        print(f"frame model: tritonserver on {server.grpc_url}", flush=True)
        yield server.grpc_url


def up(settings: Settings) -> None:
    from streams.kafka.broker import EmbeddedBroker
    from streams.kafka.topics import create_topics

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker(settings.kafka_bootstrap, log_path=settings.data_dir / "broker.log")
    with broker, frame_model_server(settings) as triton_url:
        create_topics(settings)
        from streams.worker import run_worker

        def announce() -> None:
            print(f"dupstream ready: broker on {settings.kafka_bootstrap}, "
                  f"index in {settings.qdrant_path or settings.qdrant_location}, "
                  f"publish to '{settings.topic_published}', verdicts on '{settings.topic_verdict}'", flush=True)

        try:
            run_worker(settings.model_copy(update={"triton_url": triton_url}), on_ready=announce)
        except SystemExit:
            pass
        finally:
            sys.stdout.flush()
