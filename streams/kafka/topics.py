"""Every topic dupstream uses, declared once, and their creation with confluent-kafka's AdminClient."""

from __future__ import annotations

from typing import NamedTuple

from streams.config import Settings
from streams.kafka import KafkaError

WEEK_MS = 7 * 24 * 3600 * 1000


class TopicSpec(NamedTuple):
    name: str
    partitions: int
    config: dict[str, str]
    purpose: str


def internal_topic(settings: Settings, stage: str) -> str:
    return f"{settings.app_id}-{stage}"


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """The topics, with the partitioning that lets each stage scale on its own.

    The join stage's input and its table's changelog must be co-partitioned (same count, same
    key). The match stage reads one partition on purpose: index insertions happen in one total
    order, so "the earlier video" is well defined and two copies published together cannot both
    miss each other."""
    n = settings.partitions
    keep = {"retention.ms": str(WEEK_MS), "cleanup.policy": "delete"}
    return [
        TopicSpec(settings.topic_published, n, keep, "input: one event per published video"),
        TopicSpec(settings.topic_verdict, n, keep, "output: one verdict per video"),
        TopicSpec(settings.topic_dlq, n, {"retention.ms": str(8 * WEEK_MS), "cleanup.policy": "delete"},
                  "dead letters: original event bytes, error in headers"),
        TopicSpec(internal_topic(settings, "accepted"), n, keep, "ingest -> frames, audio"),
        TopicSpec(internal_topic(settings, "features"), n, keep, "frames, audio -> join"),
        TopicSpec(internal_topic(settings, "joined"), 1, keep, "join -> match (one partition: one index order)"),
        TopicSpec(f"{settings.app_id}-halves-changelog", n, {"cleanup.policy": "compact"},
                  "changelog of the join table"),
    ]


def admin_client(settings: Settings):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": settings.kafka_bootstrap})


def existing_topics(settings: Settings, timeout: float = 10.0) -> dict[str, int]:
    try:
        metadata = admin_client(settings).list_topics(timeout=timeout)
    except Exception as error:  # confluent-kafka raises KafkaException with a cause code
        raise KafkaError(f"cannot reach Kafka at {settings.kafka_bootstrap}: {error}") from error
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


def create_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create the missing topics; existing ones are left as they are. Returns the names created."""
    from confluent_kafka.admin import NewTopic

    present = existing_topics(settings)
    missing = [spec for spec in topic_specs(settings) if spec.name not in present]
    if not missing:
        return []
    admin = admin_client(settings)  # keep a reference: the futures die with the client
    futures = admin.create_topics(
        [NewTopic(s.name, num_partitions=s.partitions, replication_factor=settings.replication_factor,
                  config=s.config) for s in missing],
        operation_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout)
            created.append(name)
        except Exception as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise KafkaError(f"could not create topic {name}: {error}") from error
    return created


def missing_topics(settings: Settings) -> list[str]:
    present = existing_topics(settings)
    return [spec.name for spec in topic_specs(settings) if spec.name not in present]
