"""Kafka at the edges: the embedded broker, topic administration, producer and consumer tools."""

import logging

from streams.errors import DupstreamError

librdkafka_log = logging.getLogger("streams.kafka.librdkafka")


class KafkaError(DupstreamError):
    """The broker could not be started or reached, or a topic is missing."""


# librdkafka's lines about a broker going away: a connection closed or refused (FAIL), the consumer
# group's session lost meanwhile (SESSTMOUT). The client reconnects and rejoins by itself, and a
# broker that stays away ends in an error of ours (events not delivered, a topic that cannot be
# listed), so they are chatter, not news.
RECONNECTING = {"FAIL", "SESSTMOUT"}


class _ClientLog:
    """Where confluent-kafka's clients send librdkafka's log lines instead of stderr (its `logger`
    setting; they arrive on the client's poll/flush): RECONNECTING lines at DEBUG, every other line
    at its own level."""

    def log(self, level: int, message: str, facility: str = "", *args) -> None:
        librdkafka_log.log(logging.DEBUG if facility in RECONNECTING else level, message, facility, *args)


def client_config(bootstrap: str, **config) -> dict:
    """A confluent-kafka client's configuration: the broker, librdkafka's log through Python logging."""
    return {"bootstrap.servers": bootstrap, "logger": _ClientLog(), **config}
