"""Producer and consumer tools for people and tests (confluent-kafka): publish videos, read verdicts."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from schemas.events import VIDEO_ID_PATTERN, Verdict, VideoPublished, VideoRemoval, VideoRemoved
from streams.config import Settings
from streams.kafka import KafkaError, client_config


def stable_video_id(uri: str) -> str:
    """A readable id from the file name (e.g. 'clip_copy.mp4' -> 'clip_copy'); URIs whose name is
    unusable get a hash of the URI."""
    name = Path(uri.split("?")[0].rstrip("/")).stem
    candidate = re.sub(r"[^A-Za-z0-9._:-]+", "-", name).strip("-.")[:128]
    if re.fullmatch(VIDEO_ID_PATTERN, candidate or "-!"):
        return candidate
    return "video-" + hashlib.sha1(uri.encode()).hexdigest()[:16]


def event_for(path_or_uri: str, video_id: str | None = None) -> VideoPublished:
    uri = path_or_uri if "://" in path_or_uri else str(Path(path_or_uri).expanduser().resolve())
    return VideoPublished(video_id=video_id or stable_video_id(uri), uri=uri, published_at=datetime.now(UTC))


def producer(settings: Settings):
    from confluent_kafka import Producer

    return Producer(client_config(settings.kafka_bootstrap, **{"enable.idempotence": True,
                                                               "message.max.bytes": 16 * 1024 * 1024}))


def publish_raw(settings: Settings, items: list[tuple[bytes | None, bytes]], topic: str | None = None,
                timeout: float = 30.0, client=None) -> None:
    """Produce (key, value) pairs as they are and wait until the broker has them all. Whoever
    publishes again and again passes one `producer(settings)`: a new one takes ~0.5 s to deliver its
    first event (librdkafka asks for the idempotent producer id again after 500 ms when its broker
    connection was not up yet)."""
    errors: list[str] = []

    def delivered(error, message) -> None:
        if error is not None:
            errors.append(str(error))

    if client is None:
        client = producer(settings)
    for key, value in items:
        client.produce(topic or settings.topic_published, key=key, value=value, on_delivery=delivered)
        client.poll(0)
    remaining = client.flush(timeout)
    if remaining or errors:
        raise KafkaError(f"{remaining} events not delivered to {settings.kafka_bootstrap}: {'; '.join(errors)}")


def publish(settings: Settings, events: list[VideoPublished], client=None) -> None:
    publish_raw(settings, [(e.video_id.encode(), e.model_dump_json(exclude_none=True).encode()) for e in events],
                client=client)


def read_topic(settings: Settings, topic: str, *, from_beginning: bool = True, timeout: float | None = None,
               stop: threading.Event | None = None) -> Iterator:
    """Messages of a topic as they arrive, until `timeout` seconds pass or `stop` is set (or forever)."""
    from confluent_kafka import Consumer

    consumer = Consumer(client_config(settings.kafka_bootstrap, **{
        "group.id": f"dupstream-reader-{uuid.uuid4().hex[:12]}",
        "auto.offset.reset": "earliest" if from_beginning else "latest",
        "enable.auto.commit": False,
        "session.timeout.ms": int(settings.session_timeout_s * 1000),
    }))
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout if timeout else None
    try:
        while (deadline is None or time.monotonic() < deadline) and not (stop is not None and stop.is_set()):
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().retriable() or "PARTITION_EOF" in str(message.error()):
                    continue
                raise KafkaError(f"reading {topic}: {message.error()}")
            yield message
    finally:
        consumer.close()


def read_verdicts(settings: Settings, **options) -> Iterator[Verdict]:
    for message in read_topic(settings, settings.topic_verdict, **options):
        yield Verdict.model_validate_json(message.value())


def verdict_line(verdict: Verdict) -> str:
    """One readable line: id, class, what it duplicates, the evidence's scores."""
    parts = [f"{verdict.video_id:<28}", f"{verdict.verdict.value:<30}"]
    if verdict.duplicate_of:
        parts.append(f"of {verdict.duplicate_of}")
    if verdict.visual:
        v = verdict.visual
        parts.append(f"visual {v.score:.2f} q[{v.query_segment.start:.0f}-{v.query_segment.end:.0f}s]"
                     f"~{v.video_id}[{v.reference_segment.start:.0f}-{v.reference_segment.end:.0f}s]")
    if verdict.audio:
        parts.append(f"audio ber {verdict.audio.ber:.2f}")
    if verdict.error:
        parts.append(f"{verdict.error.code}: {verdict.error.message}")
    return "  ".join(parts)


def request_removals(settings: Settings, video_ids: list[str], reason: str | None = None) -> list[VideoRemoved]:
    """Publish one `video-removed` event per id, each with a request id to find its result by."""
    requests = [VideoRemoved(video_id=video_id, reason=reason, request_id=uuid.uuid4().hex) for video_id in video_ids]
    publish_raw(settings, [(r.video_id.encode(), r.model_dump_json(exclude_none=True).encode()) for r in requests],
                topic=settings.topic_removed)
    return requests


def removal_results(settings: Settings, requests: list[VideoRemoved], timeout: float) -> Iterator[VideoRemoval]:
    """The results of these requests as they arrive, until all are in or timeout seconds pass."""
    pending = {request.request_id for request in requests}
    for message in read_topic(settings, settings.topic_removal_result, timeout=timeout):
        result = VideoRemoval.model_validate_json(message.value())
        if result.request_id in pending:
            pending.discard(result.request_id)
            yield result
            if not pending:
                return


def removal_line(result: VideoRemoval) -> str:
    """One readable line: id, what happened, the cluster's new root, the points deleted."""
    parts = [f"{result.video_id:<28}", f"{result.status.value:<10}"]
    if result.reason:
        parts.append(f"({result.reason})")
    if result.new_root:
        parts.append(f"cluster root {result.cluster_id} -> {result.new_root} for {', '.join(result.repointed)}")
    if result.removed_points:
        parts.append("points deleted: " + ", ".join(f"{kind} {count}" for kind, count in result.removed_points.items()))
    if result.error:
        parts.append(f"{result.error.code}: {result.error.message}")
    return "  ".join(parts)


def verdict_json(verdict: Verdict) -> str:
    return json.dumps(verdict.model_dump(mode="json"), sort_keys=True)
