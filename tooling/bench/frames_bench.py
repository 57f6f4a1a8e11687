"""Seconds of work per minute of video in the frame stage: decoding (sampling at sample_fps),
embedding (plain and mirrored frames, as the stage sends them) through Triton and with ONNX
Runtime in-process, for each frame model, and the stage end to end (`describe_frames`).

    python -m tooling.bench.frames_bench                     # starts the installed tritonserver
    python -m tooling.bench.frames_bench --url host:8001 --models sscd --clips trailer_bbb.mp4

The clips are real (packaged media: a 720p trailer, a 270p clip, a 1080p clip). Each figure is
the best of --repeats runs after one warm-up; nothing else runs in the process meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time
from typing import Callable

from tooling.bench.triton_bench import triton_url
from tooling.devset.packaged import CHECKOUT_CACHE
from streams.config import Settings

DEFAULT_CLIPS = ["trailer_bbb.mp4", "world.mp4", "a.mp4"]


def best_seconds(work: Callable[[], object], repeats: int) -> float:
    work()  # warm-up: first calls allocate, open codecs, fill caches
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench.frames_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None, help="Triton gRPC host:port (default: start the installed server)")
    parser.add_argument("--models", nargs="+", default=["sscd", "sscd_distilled"])
    parser.add_argument("--clips", nargs="+", default=DEFAULT_CLIPS, help="names of packaged media")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-triton", action="store_true", help="only ONNX Runtime in-process")
    args = parser.parse_args(argv)

    import numpy as np

    from schemas.internal import AcceptedVideo
    from tooling.devset.packaged import packaged_media
    from streams.embedding.onnx import OnnxEmbedder
    from streams.embedding.triton import TritonEmbedder
    from streams.media.video import drop_blank_frames, sample_frames
    from streams.stages.frames import describe_frames

    paths = packaged_media(CHECKOUT_CACHE, args.clips)
    settings = Settings(media_roots=[CHECKOUT_CACHE])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; sample_fps {settings.sample_fps}, "
          f"frames {settings.frame_size}², mirrored {settings.match_mirrored}; best of {args.repeats}", flush=True)
    rows = []
    with contextlib.ExitStack() as stack:
        url = None if args.no_triton else triton_url(stack, args.url, args.models)
        embedders = []
        for model in args.models:
            model_settings = settings.model_copy(update={"frame_model": model})
            if url is not None:
                embedders.append((model, "triton", model_settings, TritonEmbedder(url, model_settings)))
            embedders.append((model, "onnxruntime", model_settings, OnnxEmbedder(model)))
        for name, path in paths.items():
            sampled = sample_frames(path, settings)
            kept, _ = drop_blank_frames(sampled, settings.blank_frame_std)
            per_minute = 60.0 / sampled.duration
            frames = kept.pixels
            mirrored = np.ascontiguousarray(frames[:, :, ::-1])
            decode = best_seconds(lambda: sample_frames(path, settings), args.repeats) * per_minute
            header = f"{name} ({sampled.duration:.0f} s, {len(frames)} frames)"
            print(f"{header}: decode {decode:.2f} s per video-minute", flush=True)
            accepted = AcceptedVideo(video_id="bench", uri=str(path), raw_event="", accepted_at="2026-01-01T00:00:00Z")
            for model, where, model_settings, embedder in embedders:
                def embed_both() -> None:
                    embedder.embed(frames)
                    if settings.match_mirrored:
                        embedder.embed(mirrored)

                embed = best_seconds(embed_both, args.repeats) * per_minute
                stage = best_seconds(lambda: describe_frames(accepted, embedder, model_settings),
                                     args.repeats) * per_minute
                rows.append((name, model, where, decode, embed, stage))
                print(f"  {model:15s} {where:12s} embed {embed:6.2f}   frame stage {stage:6.2f} s per video-minute",
                      flush=True)
        for *_, embedder in embedders:
            embedder.close()

    print("\nseconds per minute of video")
    print("| clip | model | path | decode | embed (plain + mirrored) | frame stage end to end |")
    print("|---|---|---|---:|---:|---:|")
    for name, model, where, decode, embed, stage in rows:
        print(f"| {name} | {model} | {where} | {decode:.2f} | {embed:.2f} | {stage:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
