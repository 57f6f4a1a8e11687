"""Prometheus metrics of one worker, served with Faust's own at /metrics on its web port.

Faust's sensor (names prefixed `faust_`) covers messages, sends, rebalances and the offsets that
give consumer lag: `faust_topic_partition_end_offset - faust_topic_partition_offset_commited`.
dupstream adds what a person running it asks first: how long each stage takes, what verdicts
come out, what fails, how fast the frame model answers, and what takedowns did."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

STAGE_SECONDS = Histogram(
    "dupstream_stage_seconds",
    "Seconds a video spent in each stage (frames, audio, match; total = publication to verdict), "
    "observed when its verdict is sent",
    ["stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 600, 1800),
)
VERDICTS = Counter("dupstream_verdicts_total", "Verdicts sent, by class", ["verdict"])
DEAD_LETTERS = Counter("dupstream_dead_letters_total", "Events sent to the dead-letter topic, by stage and error code",
                       ["stage", "code"])
REMOVALS = Counter("dupstream_removals_total", "Takedowns applied, by result (removed, not_found, failed)", ["status"])
REPOINTED = Counter("dupstream_removal_repointed_total",
                    "Videos re-pointed to a new cluster root because their root was removed")
TRITON_SECONDS = Histogram(
    "dupstream_triton_request_seconds",
    "Seconds of one Triton inference request (one chunk of frames), retries counted separately",
    ["model"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def verdict_sent(verdict) -> None:
    """Count a `schemas.events.Verdict` and record its stage timings."""
    VERDICTS.labels(str(verdict.verdict)).inc()
    for stage, seconds in verdict.timings.items():
        STAGE_SECONDS.labels(stage).observe(seconds)


def dead_lettered(error) -> None:
    """Count a `schemas.events.ErrorInfo` sent to the dead-letter topic."""
    DEAD_LETTERS.labels(error.stage, error.code).inc()


def removal_done(result) -> None:
    """Count a `schemas.events.VideoRemoval` and the cluster members it re-pointed."""
    REMOVALS.labels(str(result.status)).inc()
    REPOINTED.inc(len(result.repointed))


def serve_metrics(app) -> None:
    """Faust's Prometheus sensor on the app, and /metrics on its web server (every metric above too)."""
    from faust.sensors.prometheus import setup_prometheus_sensors

    setup_prometheus_sensors(app, pattern="/metrics", name_prefix="faust")
