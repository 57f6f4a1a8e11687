"""The Faust transport the worker runs on: Faust's aiokafka driver with a short consumer fetch wait.

Faust builds its worker's aiokafka consumer with `fetch_max_wait_ms=1500` and no setting to change
it. Apache Kafka answers a fetch as soon as one byte is there, so the wait costs nothing there; Tansu
(the embedded broker, 0.6) holds a fetch over several partitions for a share of the wait even when a
message has arrived: with the worker's ~17 partitions every stage hop took ~0.75 s, ~2.5 s per video
over its four hops. A 100 ms wait cuts a hop to a few tens of ms; an idle consumer then sends ten
fetches a second, which neither side notices."""

from __future__ import annotations

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka

FETCH_MAX_WAIT_MS = 100


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads it when the consumer starts (it hands it to its Fetcher), not before.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = _Consumer
