"""Topic administration against a real broker (Tansu, Kafka-compatible)."""

import os
import subprocess
import sys

import pytest

from streams.config import Settings
from streams.kafka.topics import DAY_MS, configure_topics, create_topics, describe_topics
from tests.conftest import REPO, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    from streams.kafka.broker import EmbeddedBroker

    settings = Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}", partitions=3, dlq_retention_days=45)
    with EmbeddedBroker(settings.kafka_bootstrap, log_path=tmp_path_factory.mktemp("broker") / "broker.log"):
        yield settings


def cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DUPSTREAM_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
                   "DUPSTREAM_PARTITIONS": str(settings.partitions),
                   "DUPSTREAM_DLQ_RETENTION_DAYS": str(settings.dlq_retention_days), **env}
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], capture_output=True, text=True,
                          env=environment, cwd=REPO, timeout=120)


def test_create_makes_every_topic_as_configured_and_twice_changes_nothing(settings):
    assert len(create_topics(settings)) == 9
    states = {state.spec.name: state for state in describe_topics(settings)}
    assert all(state.partitions == state.spec.partitions and not state.drift for state in states.values())
    assert states["video-published"].partitions == 3 and states["dupstream-joined"].partitions == 1
    assert states["video-published-dlq"].config == {"retention.ms": str(45 * DAY_MS), "cleanup.policy": "delete"}
    assert states["duplicate-verdict"].config["retention.ms"] == str(30 * DAY_MS)
    assert states["video-published"].config["retention.ms"] == str(7 * DAY_MS)
    assert states["dupstream-halves-changelog"].config == {"cleanup.policy": "compact"}
    assert states["video-removed"].partitions == 3
    assert states["video-removal-result"].config["retention.ms"] == str(30 * DAY_MS)
    assert {state.replication_factor for state in states.values()} == {1}
    assert create_topics(settings) == [] and configure_topics(settings) == []


def test_create_puts_back_a_changed_retention_and_describe_shows_it(settings):
    create_topics(settings)
    shorter = settings.model_copy(update={"dlq_retention_days": 2.0})
    assert configure_topics(shorter) == ["video-published-dlq"]
    described = cli(settings, "topics", "describe")
    assert described.returncode == 0, described.stderr
    dlq = next(line for line in described.stdout.splitlines() if line.startswith("video-published-dlq"))
    assert dlq.split()[:6] == ["video-published-dlq", "3", "1", "delete", "2d", "(want"]
    assert "45d)" in dlq
    created = cli(settings, "topics", "create")
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines() == ["created: nothing, all topics exist",
                                           "reconfigured (retention, cleanup policy): video-published-dlq"]
    assert next(s for s in describe_topics(settings) if s.spec.name == "video-published-dlq").drift == {}


def test_a_worker_without_its_topics_names_the_missing_ones(settings):
    create_topics(settings)
    started = cli(settings, "worker", DUPSTREAM_APP_ID="elsewhere", DUPSTREAM_WEB_PORT="0")
    assert started.returncode == 2
    assert started.stderr.strip().splitlines()[-1] == (
        f"dupstream: topics missing on {settings.kafka_bootstrap}: elsewhere-accepted, elsewhere-features, "
        "elsewhere-joined, elsewhere-halves-changelog; create them with `dupstream topics create`"
    )
