"""One Faust worker running every stage. Production runs many (`dupstream worker`), each taking
a share of the partitions; `dupstream up` runs one beside its embedded broker."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Callable

from streams.config import Settings
from streams.kafka import KafkaError
from streams.kafka.topics import missing_topics
from streams.logs import logging_config

log = logging.getLogger(__name__)


def register_stages(stream) -> None:
    """Every stage's agent on the stream's app: one worker runs them all."""
    from streams.stages import audio, frames, ingest, join, match, removal

    for stage in (ingest, frames, audio, join, match, removal):
        stage.register(stream)


def _ready(app) -> bool:
    """True once this worker holds partitions, its table is recovered and no rebalance runs:
    from then on an event published is processed."""
    consumer = app.consumer
    if app.rebalancing or not consumer or not consumer.assignment():
        return False
    return app.tables.recovery.completed.is_set()


def run_worker(settings: Settings, on_ready: Callable[[], None] | None = None,
               loglevel: str = "WARNING") -> None:
    from faust.worker import Worker

    from streams.app import create_app

    missing = missing_topics(settings)
    if missing:
        raise KafkaError(
            f"topics missing on {settings.kafka_bootstrap}: {', '.join(missing)}; create them with `dupstream topics create`"
        )
    stream = create_app(settings)
    app = stream.app
    register_stages(stream)
    if settings.web_port:
        from streams.api import serve_api
        from streams.metrics import serve_metrics

        serve_metrics(app)
        serve_api(stream)

    @app.task
    async def announce_ready() -> None:
        while not _ready(app):
            await asyncio.sleep(0.2)
        if on_ready:
            on_ready()

    worker = Worker(app, loglevel=loglevel, logging_config=logging_config(loglevel, settings.log_format), quiet=True,
                    stdout=sys.stdout, stderr=sys.stderr)
    try:
        worker.execute_from_commandline()
    finally:
        stream.runtime.close()
