"""One Faust worker running every stage. Production runs many (`dupstream worker`), each taking
a share of the partitions; `dupstream up` runs one beside its embedded broker."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Callable

from streams.kafka import KafkaError
from streams.kafka.topics import missing_topics
from streams.logs import logging_config

log = logging.getLogger(__name__)


def _load_stages() -> None:
    # Importing a stage module registers its agent with the app.
    from streams.stages import audio, frames, ingest, join, match, removal  # noqa: F401


def _ready(app) -> bool:
    """True once this worker holds partitions, its table is recovered and no rebalance runs:
    from then on an event published is processed."""
    consumer = app.consumer
    if app.rebalancing or not consumer or not consumer.assignment():
        return False
    return app.tables.recovery.completed.is_set()


def run_worker(on_ready: Callable[[], None] | None = None, loglevel: str = "WARNING") -> None:
    from faust.worker import Worker

    from streams.app import app, settings
    from streams.runtime import get_runtime

    missing = missing_topics(settings)
    if missing:
        raise KafkaError(
            f"topics missing on {settings.kafka_bootstrap}: {', '.join(missing)}; create them with `dupstream topics create`"
        )
    _load_stages()
    if settings.web_port:
        from streams.api import serve_api
        from streams.app import published_topic, removed_topic
        from streams.metrics import serve_metrics

        serve_metrics(app)
        serve_api(app, settings, published_topic, removed_topic)

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
        get_runtime().close()
