"""The worker's Faust transport: its consumer's fetch wait (streams.kafka.transport), checked without a broker."""

import asyncio

import aiokafka

from streams.app import create_app
from streams.config import Settings
from streams.kafka.transport import FETCH_MAX_WAIT_MS


def test_the_worker_consumer_waits_briefly_for_a_fetch():
    app = create_app(Settings()).app

    async def fetch_waits() -> tuple[int, int]:
        # aiokafka keeps the argument in this attribute, which the transport sets after Faust
        # passed 1500 ms: the first value checks that an aiokafka upgrade has not moved it.
        given = aiokafka.AIOKafkaConsumer(fetch_max_wait_ms=1234)
        worker = app.consumer._thread._create_worker_consumer(app.transport)
        waits = given._fetch_max_wait_ms, worker._fetch_max_wait_ms
        await given.stop()
        await worker.stop()
        return waits

    assert asyncio.run(fetch_waits()) == (1234, FETCH_MAX_WAIT_MS)
    assert FETCH_MAX_WAIT_MS < 1500
