"""End to end against the decode floor: a burst of short clips and one long 720p clip through
`dupstream up`, and the bare 1-fps decode of the same files, in one run.

    dupstream bench burst [--clips 24] [--model sscd|sscd_distilled] [--seed 1]

The short clips (4-20 s) are cut from real packaged footage at its own resolutions (270p to
720p, some turned into 1080x1920 vertical re-posts); the long clip is the 720p trailer played
four times (220 s). Burst: every short clip is published at once, and the figure is the wall time
from the first publish to the last verdict, per minute of video. Long: published alone, on the
same stack, after the burst (the model is warm). The floor is `ffmpeg -skip_frame noref
-vf fps=1 -f null` over the same files, one after the other, with FFmpeg's own threads: what
decoding alone costs on this machine when, like the frame stage, it skips the frames nothing
refers to. The ratio of the two is what the speed target is stated in; absolute times vary with
what else the machine is doing, ratios measured in one run much less. The floor is measured
before and after the stack's runs and the ratio taken against their mean, both printed with the
load average: on a shared machine a floor that moved between the two says the ratio is loose.
Beside the wall times, the CPU seconds each side burns (every process of the stack: broker,
tritonserver, worker; FFmpeg for the floor) and their ratio: what the neighbours on a shared
machine do not inflate, and what two cores can run in a burst (their sum / 2).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from tooling.devset.packaged import CHECKOUT_CACHE

SOURCES = ["trailer_bbb.mp4", "world.mp4", "bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4"]
SHORTEST, LONGEST = 4.0, 20.0
VERTICAL_SHARE = 0.25  # of the clips re-posted as 1080x1920 (a landscape picture, blurred fill)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _made(target: Path, *args: str) -> Path:
    """target made by `ffmpeg ARGS target` unless it exists: written under another name and renamed
    when whole, so that a run (or another process) reading the directory meanwhile never sees a
    half-written clip, and the next run does not encode them again."""
    if not target.exists():
        partial = target.with_name(f".{target.stem}.{os.getpid()}{target.suffix}")
        _ffmpeg(*args, str(partial))
        partial.replace(target)
    return target


def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return container.duration / 1_000_000


def make_clips(directory: Path, count: int, seed: int) -> tuple[list[Path], Path]:
    """`count` short clips and the long clip, made once per directory."""
    from tooling.devset.packaged import packaged_media

    directory.mkdir(parents=True, exist_ok=True)
    media = packaged_media(CHECKOUT_CACHE, SOURCES)
    lengths = {name: _duration(path) for name, path in media.items()}
    rng = random.Random(seed)
    clips = []
    for number in range(count):
        name = SOURCES[number % len(SOURCES)]
        seconds = min(lengths[name], rng.uniform(SHORTEST, LONGEST))
        start = rng.uniform(0, max(0.0, lengths[name] - seconds))
        vertical = rng.random() < VERTICAL_SHARE
        target = directory / f"clip{number:03d}.mp4"
        picture = (["-vf", "split[a][b];[a]scale=1080:1920,boxblur=20[bg];[b]scale=1080:-2[fg];"
                    "[bg][fg]overlay=(W-w)/2:(H-h)/2"] if vertical else [])
        loop = ["-stream_loop", "-1"] if seconds > lengths[name] - start else []
        clips.append(_made(target, *loop, "-ss", f"{start:.2f}", "-i", str(media[name]), "-t", f"{seconds:.2f}",
                           *picture, "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"))
    long_clip = _made(directory / "long_720p.mp4", "-stream_loop", "3", "-i", str(media["trailer_bbb.mp4"]),
                      "-c", "copy")
    return clips, long_clip


class Spent(NamedTuple):
    wall: float  # seconds
    cpu: float  # CPU seconds, user + system, of every thread of the processes that did the work
    by_process: dict[str, float] = {}  # the stack's CPU seconds by process name


def decode_floor(paths: list[Path]) -> Spent:
    """Decoding the files at 1 frame per second with FFmpeg, one after the other."""
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    for path in paths:
        _ffmpeg("-skip_frame", "noref", "-i", str(path), "-vf", "fps=1", "-an", "-f", "null", "-")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Spent(time.perf_counter() - started,
                 after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def tree_cpu(pid: int) -> Counter:
    """CPU seconds so far of a process and all its descendants (their threads included) by process
    name, from /proc: the stack's own cost, which the neighbours on a shared machine do not inflate
    as they do wall time."""
    processes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split()
        processes[int(stat.parent.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, grown = {pid}, True
    while grown:
        descendants = {child for child, (_, parent, _) in processes.items() if parent in tree}
        grown = not descendants <= tree
        tree |= descendants
    spent = Counter()
    for member in tree & processes.keys():
        name, _, ticks = processes[member]
        spent[name] += ticks / os.sysconf("SC_CLK_TCK")
    return spent


def _spent(started: float, cpu_before: Counter, pid: int) -> Spent:
    by_process = tree_cpu(pid)
    by_process.subtract(cpu_before)
    return Spent(time.monotonic() - started, sum(by_process.values()), dict(by_process))


class Runs(NamedTuple):
    burst: Spent
    long: Spent
    failed: int  # verdicts
    timings: list[dict]  # of the burst's verdicts: each stage's own seconds, and accepted to verdict
    long_timings: dict


def through_stack(settings, env, burst: list[Path], long_clip: Path) -> Runs:
    """The burst (all published at once) and the long clip alone through one stack."""
    from schemas.events import VideoPublished
    from streams.demo import RunningStack
    from streams.kafka.clients import producer, publish, read_verdicts

    failed, timings = 0, []
    with RunningStack(settings, env) as stack:
        verdicts = read_verdicts(settings, from_beginning=True, timeout=3600)
        upload_service = producer(settings)
        # One warm-up video first: model load and the first group joins are not per-video costs.
        publish(settings, [VideoPublished(video_id="warm-up", uri=str(burst[0]))], client=upload_service)
        next(v for v in verdicts if v.video_id == "warm-up")
        started, cpu = time.monotonic(), tree_cpu(stack.process.pid)
        publish(settings, [VideoPublished(video_id=path.stem, uri=str(path)) for path in burst],
                client=upload_service)
        waiting = {path.stem for path in burst}
        for verdict in verdicts:
            if verdict.video_id in waiting:
                waiting.discard(verdict.video_id)
                failed += verdict.status != "ok"
                timings.append(verdict.timings)
                if not waiting:
                    break
        burst_spent = _spent(started, cpu, stack.process.pid)
        started, cpu = time.monotonic(), tree_cpu(stack.process.pid)
        publish(settings, [VideoPublished(video_id="long", uri=str(long_clip))], client=upload_service)
        long_verdict = next(v for v in verdicts if v.video_id == "long")
        failed += long_verdict.status != "ok"
        long_spent = _spent(started, cpu, stack.process.pid)
        verdicts.close()
        del upload_service
    return Runs(burst_spent, long_spent, failed, timings, long_verdict.timings)


STAGES = ("frames", "audio", "match", "total")


def _stages(seconds: dict) -> str:
    return (f"frame stage {seconds.get('frames', 0.0):.2f}, audio stage {seconds.get('audio', 0.0):.2f}, "
            f"match {seconds.get('match', 0.0):.3f}; accepted to verdict {seconds.get('total', 0.0):.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dupstream bench burst", description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=24, help="short clips in the burst")
    parser.add_argument("--model", default=None, help="frame model (default: the configured one)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        raise SystemExit("the ffmpeg command is needed (make setup)")

    from streams.demo import private_stack

    work_dir = Path(tempfile.mkdtemp(prefix="dupstream-burst-"))
    burst, long_clip = make_clips(CHECKOUT_CACHE / "bench-burst" / f"seed{args.seed}-n{args.clips}", args.clips,
                                  args.seed)
    settings, env = private_stack(work_dir / "data", [str(long_clip.parent)])
    if args.model:
        env["DUPSTREAM_FRAME_MODEL"] = args.model
    burst_minutes = sum(_duration(path) for path in burst) / 60
    long_minutes = _duration(long_clip) / 60
    load_before = os.getloadavg()[0]
    floors_before = decode_floor(burst), decode_floor([long_clip])
    runs = through_stack(settings, env, burst, long_clip)
    shutil.rmtree(work_dir, ignore_errors=True)
    floors_after = decode_floor(burst), decode_floor([long_clip])

    print(f"frame model {args.model or settings.frame_model}; {len(burst)} short clips "
          f"({burst_minutes * 60 / len(burst):.1f} s on average, {burst_minutes:.2f} video-minutes) and "
          f"{long_minutes * 60:.0f} s of 720p; {runs.failed} failed verdicts; load average {load_before:.1f} at "
          f"the start, {os.getloadavg()[0]:.1f} at the end")
    print("| seconds per video-minute | end to end | 1-fps decode (ffmpeg), before / after the stack | ratio |"
          " CPU s per video-minute: stack / decode | CPU ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, spent, before, after, minutes in (
            ("burst of short clips", runs.burst, floors_before[0], floors_after[0], burst_minutes),
            ("long 720p clip", runs.long, floors_before[1], floors_after[1], long_minutes)):
        floor = Spent((before.wall + after.wall) / 2, (before.cpu + after.cpu) / 2)
        print(f"| {name} | {spent.wall / minutes:.2f} | {before.wall / minutes:.2f} / {after.wall / minutes:.2f} | "
              f"{spent.wall / floor.wall:.2f}x | {spent.cpu / minutes:.2f} / {floor.cpu / minutes:.2f} | "
              f"{spent.cpu / floor.cpu:.2f}x |")
    stages = {stage: statistics.median(timing.get(stage, 0.0) for timing in runs.timings) for stage in STAGES}
    print(f"burst, per clip (median s): {_stages(stages)} (queueing included)")
    print(f"long clip (s): {_stages(runs.long_timings)}")
    for name, spent, minutes in (("burst", runs.burst, burst_minutes), ("long clip", runs.long, long_minutes)):
        print(f"{name}, CPU s per video-minute by process: " + ", ".join(
            f"{process} {seconds / minutes:.2f}" for process, seconds in
            sorted(spent.by_process.items(), key=lambda item: -item[1]) if seconds > 0))
    return 1 if runs.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
