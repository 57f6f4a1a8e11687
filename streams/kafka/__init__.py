"""Kafka at the edges: the embedded broker, topic administration, producer and consumer tools."""


class KafkaError(Exception):
    """The broker could not be started or reached, or a topic is missing."""
