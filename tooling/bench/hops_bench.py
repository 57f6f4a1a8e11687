"""Seconds between the stages: the small samples through `dupstream up`, one at a time, and per
video the time each hop adds beyond its stage's own work, from the messages' produce timestamps.

    ingest = accepted - published           frames / audio = their half - accepted - stage seconds
    join   = joined - the later half        match = verdict - joined - match seconds
    fixed  = publish -> verdict - (the slower of frames and audio) - match"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from streams.config import Settings
from tooling.devset.packaged import CHECKOUT_CACHE

COLUMNS = ("publish_to_verdict", "stage_work", "fixed", "ingest", "frames", "audio", "join", "match")


def topic_messages(settings: Settings, topic: str, idle_s: float = 2.0) -> list:
    """Every message of a topic, read from the start of each partition (no group to join)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"hops-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in partitions])
    messages, last = [], time.monotonic()
    while time.monotonic() - last < idle_s:
        message = consumer.poll(0.2)
        if message is not None and not message.error():
            messages.append(message)
            last = time.monotonic()
    consumer.close()
    return messages


def hop_seconds(published_at: float, by_topic: dict[str, list]) -> dict[str, float]:
    """One video's row from its messages on each topic (produce timestamps, ms)."""
    def at(message) -> float:
        return message.timestamp()[1] / 1000

    from streams.wire import decode_half

    decoded = [(decode_half(m.value()), m) for m in by_topic["features"]]
    halves = {half.kind: m for half, m in decoded}
    work = {half.kind: half.seconds for half, _ in decoded}
    accepted, joined, verdict = by_topic["accepted"][0], by_topic["joined"][0], by_topic["verdict"][0]
    match = json.loads(verdict.value())["timings"]["match"]
    total = at(verdict) - published_at
    stage_work = max(work.values()) + match
    return {"publish_to_verdict": total, "stage_work": stage_work, "fixed": total - stage_work,
            "ingest": at(accepted) - at(by_topic["published"][0]),
            "frames": at(halves["frames"]) - at(accepted) - work["frames"],
            "audio": at(halves["audio"]) - at(accepted) - work["audio"],
            "join": at(joined) - max(at(m) for m in halves.values()),
            "match": at(verdict) - at(joined) - match}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dupstream bench hops", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="times each sample is published (new ids)")
    args = parser.parse_args(argv)

    from schemas.events import VideoPublished
    from streams.demo import RunningStack, private_stack
    from tooling.devset.samples import build_samples
    from streams.kafka.clients import producer, publish, read_verdicts
    from streams.kafka.topics import internal_topic

    work_dir = Path(tempfile.mkdtemp(prefix="dupstream-hops-"))
    samples = [s for s in build_samples(work_dir / "samples", CHECKOUT_CACHE) if s.expected_verdict != "failed"]
    settings, env = private_stack(work_dir / "data", [str(work_dir / "samples")])
    topics = {"published": settings.topic_published, "accepted": internal_topic(settings, "accepted"),
              "features": internal_topic(settings, "features"), "joined": internal_topic(settings, "joined"),
              "verdict": settings.topic_verdict}
    published_at: dict[str, float] = {}
    with RunningStack(settings, env):
        verdicts = read_verdicts(settings, from_beginning=True, timeout=600)
        upload_service = producer(settings)
        for round_ in range(args.rounds):
            for sample in samples:
                video_id = f"{sample.video_id}-{round_}"
                published_at[video_id] = time.time()
                publish(settings, [VideoPublished(video_id=video_id, uri=str(sample.path))], client=upload_service)
                next(v for v in verdicts if v.video_id == video_id)
        verdicts.close()
        del upload_service  # before the broker stops, so it does not retry a closed port
        messages = {name: topic_messages(settings, topic) for name, topic in topics.items()}
    rows = {video_id: hop_seconds(sent, {name: [m for m in found if m.key() == video_id.encode()]
                                         for name, found in messages.items()})
            for video_id, sent in published_at.items()}
    print(f"{'seconds':<26}" + "".join(f"{column:>19}" for column in COLUMNS))
    for video_id, row in [*rows.items(), ("median", {c: statistics.median(r[c] for r in rows.values())
                                                     for c in COLUMNS})]:
        print(f"{video_id:<26}" + "".join(f"{row[column]:>19.3f}" for column in COLUMNS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
