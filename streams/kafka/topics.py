"""Every topic dupstream uses, declared once, and their creation with confluent-kafka's AdminClient."""

from __future__ import annotations

from typing import NamedTuple

from streams.config import Settings
from streams.kafka import KafkaError, client_config

DAY_MS = 24 * 3600 * 1000


class TopicSpec(NamedTuple):
    name: str
    partitions: int
    config: dict[str, str]
    purpose: str


class TopicState(NamedTuple):
    """A topic as the broker has it, beside what the configuration asks for."""

    spec: TopicSpec
    partitions: int | None  # None: the topic is missing
    replication_factor: int | None
    config: dict[str, str]  # the broker's values of the keys the spec sets

    @property
    def drift(self) -> dict[str, str]:
        """The configuration values the broker does not have yet."""
        if self.partitions is None:
            return {}
        return {key: value for key, value in self.spec.config.items() if self.config.get(key) != value}


def _kept_for(days: float) -> dict[str, str]:
    return {"retention.ms": str(round(days * DAY_MS)), "cleanup.policy": "delete"}


def internal_topic(settings: Settings, stage: str) -> str:
    return f"{settings.app_id}-{stage}"


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """The topics, with the partitioning that lets each stage scale on its own.

    The join stage's input and its table's changelog must be co-partitioned (same count, same
    key). The match stage reads one partition on purpose: index insertions happen in one total
    order, so "the earlier video" is well defined and two copies published together cannot both
    miss each other; takedowns are forwarded into that partition, so a removal and a match never
    touch the index at the same time."""
    n = settings.partitions
    keep = _kept_for(settings.retention_days)
    return [
        TopicSpec(settings.topic_published, n, keep, "input: one event per published video"),
        TopicSpec(settings.topic_verdict, n, _kept_for(settings.verdict_retention_days), "output: one verdict per video"),
        TopicSpec(settings.topic_dlq, n, _kept_for(settings.dlq_retention_days),
                  "dead letters: original event bytes, error in headers"),
        TopicSpec(settings.topic_removed, n, keep, "input: takedowns, one event per video to remove"),
        TopicSpec(settings.topic_removal_result, n, _kept_for(settings.verdict_retention_days),
                  "output: what each takedown did"),
        TopicSpec(internal_topic(settings, "accepted"), n, keep, "ingest -> frames, audio"),
        TopicSpec(internal_topic(settings, "features"), n, keep, "frames, audio -> join"),
        TopicSpec(internal_topic(settings, "joined"), 1, keep,
                  "join, removal -> match (one partition: one index order)"),
        TopicSpec(f"{settings.app_id}-halves-changelog", n, {"cleanup.policy": "compact"},
                  "changelog of the join table"),
    ]


def admin_client(settings: Settings):
    from confluent_kafka.admin import AdminClient

    return AdminClient(client_config(settings.kafka_bootstrap))


def _topics(admin, settings: Settings, timeout: float) -> dict:
    """The broker's topics' metadata by name."""
    try:
        return admin.list_topics(timeout=timeout).topics
    except Exception as error:  # confluent-kafka raises KafkaException with a cause code
        raise KafkaError(f"cannot reach Kafka at {settings.kafka_bootstrap}: {error}") from error


def existing_topics(settings: Settings, timeout: float = 10.0) -> dict[str, int]:
    return {name: len(topic.partitions) for name, topic in _topics(admin_client(settings), settings, timeout).items()}


def _wait_all(futures: dict, what: str, timeout: float, tolerated: str | None = None) -> dict:
    """The results of an AdminClient call's futures, by resource; a failure names the resource."""
    results = {}
    for resource, future in futures.items():
        try:
            results[resource] = future.result(timeout)
        except Exception as error:
            if tolerated is None or tolerated not in str(error):
                raise KafkaError(f"could not {what} {getattr(resource, 'name', resource)}: {error}") from error
    return results


def create_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Create the missing topics with their partitions, replication and configuration; existing
    ones keep their partitions (see `configure_topics` for their configuration). Returns the
    names created."""
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
    # Another `topics create` (a second worker host, say) may have made it meanwhile: fine.
    return list(_wait_all(futures, "create topic", timeout, tolerated="TOPIC_ALREADY_EXISTS"))


def describe_topics(settings: Settings, timeout: float = 10.0) -> list[TopicState]:
    from confluent_kafka.admin import ConfigResource, ResourceType

    admin = admin_client(settings)
    metadata = _topics(admin, settings, timeout)
    specs = topic_specs(settings)
    resources = [ConfigResource(ResourceType.TOPIC, spec.name) for spec in specs if spec.name in metadata]
    configs = {resource.name: entries for resource, entries in
               _wait_all(admin.describe_configs(resources), "describe topic", timeout).items()} if resources else {}
    states = []
    for spec in specs:
        topic = metadata.get(spec.name)
        if topic is None:
            states.append(TopicState(spec, None, None, {}))
            continue
        first = next(iter(topic.partitions.values()), None)
        entries = configs.get(spec.name, {})
        states.append(TopicState(spec, len(topic.partitions), len(first.replicas) if first else None,
                                 {key: entries[key].value for key in spec.config if key in entries}))
    return states


def configure_topics(settings: Settings, timeout: float = 30.0) -> list[str]:
    """Set the configured retention and cleanup policy on existing topics that differ; returns
    their names. Partitions are never changed here: the per-video topics and the join table's
    changelog are co-partitioned, so their counts change together, with the stream drained."""
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

    changes = [
        ConfigResource(ResourceType.TOPIC, state.spec.name, incremental_configs=[
            ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET) for key, value in state.drift.items()
        ])
        for state in describe_topics(settings) if state.drift
    ]
    if not changes:
        return []
    admin = admin_client(settings)
    return [resource.name for resource in
            _wait_all(admin.incremental_alter_configs(changes), "configure topic", timeout)]


def missing_topics(settings: Settings) -> list[str]:
    present = existing_topics(settings)
    return [spec.name for spec in topic_specs(settings) if spec.name not in present]
