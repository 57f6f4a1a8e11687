"""Wall and CPU seconds of one video decoded alone in this process: sample_frames (decode and
sample) and describe_frames (the frame stage with ONNX Runtime in-process, one thread), best of
--repeats after one warm-up. Decoding alone is the latency case (a long video's verdict comes
sooner when its decode uses every core); in a burst two videos are decoded at once instead.

    python -m tooling.bench.alone_bench                       # the burst bench's 220 s 720p clip
    python -m tooling.bench.alone_bench --clip PATH --model sscd_distilled --repeats 2
    python -m tooling.bench.alone_bench --triton        # the stage's model on the installed tritonserver
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tooling.devset.packaged import CHECKOUT_CACHE

LONG_CLIP = CHECKOUT_CACHE / "bench-burst" / "seed1-n24" / "long_720p.mp4"


def timed(work: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of repeats runs after a warm-up; CPU of every thread
    of this process."""
    work()
    best = (float("inf"), 0.0)
    for _ in range(repeats):
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        work()
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        best = min(best, (wall, after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench.alone_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=LONG_CLIP, help="(default: `dupstream bench burst`'s long clip)")
    parser.add_argument("--model", default="sscd_distilled", help="frame model")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--triton", action="store_true", help="describe on the installed tritonserver (as the stack)")
    args = parser.parse_args(argv)

    from schemas.internal import AcceptedVideo
    from streams.config import Settings
    from streams.embedding.onnx import OnnxEmbedder
    from streams.embedding.triton import TritonEmbedder
    from streams.media.video import sample_frames
    from streams.stages.frames import describe_frames
    from tooling.bench.triton_bench import triton_url

    settings = Settings(media_roots=[args.clip.parent], frame_model=args.model)
    accepted = AcceptedVideo(video_id="bench", uri=str(args.clip), raw_event="", accepted_at=datetime.now(UTC))
    with contextlib.ExitStack() as stack:
        if args.triton:  # the server's CPU is not counted: only this process's
            embedder = TritonEmbedder(triton_url(stack, None, [args.model]), settings)
        else:
            embedder = OnnxEmbedder(args.model, threads=1)
        frames = sample_frames(args.clip, settings)
        print(f"{args.clip.name}: {frames.duration:.0f} s, {len(frames.timestamps)} frames; best of {args.repeats}; "
              f"{'tritonserver' if args.triton else 'ONNX Runtime, 1 thread'}")
        for name, work in (("sample_frames", lambda: sample_frames(args.clip, settings)),
                           ("describe_frames", lambda: describe_frames(accepted, embedder, settings))):
            wall, cpu = timed(work, args.repeats)
            print(f"{name:16s} wall {wall:5.2f} s  CPU {cpu:5.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
