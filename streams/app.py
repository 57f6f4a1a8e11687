r"""The Faust application, its topics and its one table, built from the Settings passed in.

    video-published -> ingest -> accepted -+-> frames -+-> features -> join -> joined -> match -> duplicate-verdict
                                           +-> audio  -+
    any stage's failure -> video-published-dlq (+ a failed verdict)
    video-removed -> removal -> joined (the match stage's one order) -> video-removal-result

Nothing is built at import: `create_app(settings)` makes a `Stream` and each module of
`streams.stages` registers its agent on it (`register(stream)`), so the Triton address, the ports,
the topic names are whatever the caller's Settings say, and the tools that run the per-video
pipeline (eval, calibrate, bench, backfill) never build a Faust app."""

from __future__ import annotations

from dataclasses import dataclass

import faust

from streams.config import Settings
from streams.kafka.topics import internal_topic
from streams.kafka.transport import Transport
from streams.runtime import Runtime


@dataclass(frozen=True)
class Stream:
    """What one worker's stages run on. Every value is JSON bytes validated by the pydantic models
    in `schemas`, so the topics carry raw bytes."""

    settings: Settings
    app: faust.App
    runtime: Runtime  # the frame model, the index and the thread pool the stages share
    published: faust.TopicT
    accepted: faust.TopicT
    features: faust.TopicT
    joined: faust.TopicT
    verdict: faust.TopicT
    dlq: faust.TopicT
    removed: faust.TopicT
    removal_result: faust.TopicT
    # Partial results of the join stage: video_id -> {"frames": FeatureHalf JSON, "audio": ...}.
    halves: faust.Table


def faust_app(settings: Settings) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",  # the join table is rebuilt from its changelog topic on start
        topic_partitions=settings.partitions,
        topic_allow_declare=False,  # `dupstream topics create` / `up` make them, with their configs
        topic_disable_leader=True,  # no leader election is used; its topic would need broker-side auto-creation
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(1.0, settings.session_timeout_s / 3),
        broker_request_timeout=max(30.0, settings.session_timeout_s * 5),
        broker_max_poll_interval=max(300.0, settings.decode_timeout_s * 2),
        producer_max_request_size=16 * 1024 * 1024,
        consumer_max_fetch_size=16 * 1024 * 1024,
        web_enabled=settings.web_port != 0,
        web_port=settings.web_port or 6066,
        web_host=settings.web_host,
        stream_wait_empty=False,
        table_cleanup_interval=60.0,
        autodiscover=False,
    )
    # Faust's consumer, with a fetch wait that does not hold every stage hop (streams.kafka.transport).
    app.transport = Transport(app.conf.broker_consumer, app)
    return app


def create_app(settings: Settings) -> Stream:
    app = faust_app(settings)

    def raw_topic(name: str, partitions: int | None = None) -> faust.TopicT:
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                         partitions=partitions, internal=False)

    return Stream(
        settings=settings,
        app=app,
        runtime=Runtime(settings),
        published=raw_topic(settings.topic_published),
        accepted=raw_topic(internal_topic(settings, "accepted")),
        features=raw_topic(internal_topic(settings, "features")),
        joined=raw_topic(internal_topic(settings, "joined"), partitions=1),
        verdict=raw_topic(settings.topic_verdict),
        dlq=raw_topic(settings.topic_dlq),
        removed=raw_topic(settings.topic_removed),
        removal_result=raw_topic(settings.topic_removal_result),
        # value_type stays None (plain JSON): Faust takes any other type for a Record and, restoring
        # the changelog after a restart, fails on every entry, so a restarted worker never became ready.
        halves=app.Table("halves", default=dict, key_type=str, value_type=None, partitions=settings.partitions),
    )
