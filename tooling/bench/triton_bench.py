"""Frames per second of the frame models: through Triton (gRPC, the server's dynamic batcher)
and with ONNX Runtime in-process, at several client batch sizes.

    python -m tooling.bench.triton_bench                      # starts the installed tritonserver
    python -m tooling.bench.triton_bench --url host:8001      # an already running server
    python -m tooling.bench.triton_bench --frames 64 --batches 1 8 32 --models sscd

The frames are real (decoded from world.mp4 of the packaged media, resized to frame_size); the
models see exactly what the frame stage sends. Each figure is the best of --repeats runs of
--frames frames after one warm-up call; both paths run one after the other, never at once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from streams.config import Settings
from tooling.devset.packaged import CHECKOUT_CACHE



def real_frames(count: int, size: int, cache: Path = CHECKOUT_CACHE) -> np.ndarray:
    import av

    from tooling.devset.packaged import packaged_media

    path = packaged_media(cache, ["world.mp4"])["world.mp4"]
    decoded = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            decoded.append(frame.to_ndarray(width=size, height=size, format="rgb24"))
            if len(decoded) == count:
                break
    frames = np.stack(decoded)
    return np.concatenate([frames] * -(-count // len(frames)))[:count]  # repeat a short clip


def triton_url(stack: contextlib.ExitStack, url: str | None, models: list[str]) -> str:
    """`url` if given, else the address of the installed tritonserver, started on `stack`."""
    from streams.embedding.triton_server import TritonServer, find_installed

    if url is not None:
        return url
    installation = find_installed()
    if installation is None:
        raise SystemExit("tritonserver is not installed: python -m tooling.triton_install")
    return stack.enter_context(TritonServer(installation, models=models)).grpc_url


def frames_per_second(embed, frames: np.ndarray, batch: int, repeats: int, concurrency: int = 1) -> float:
    """`concurrency` callers share the work (they share the embedder, as a worker's threads do)."""
    embed(frames[:batch])  # warm-up (first call allocates)
    chunks = [frames[start : start + batch] for start in range(0, len(frames), batch)]
    best = float("inf")
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(repeats):
            started = time.perf_counter()
            if concurrency == 1:
                for chunk in chunks:
                    embed(chunk)
            else:
                list(pool.map(embed, chunks))
            best = min(best, time.perf_counter() - started)
    return len(frames) / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench.triton_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None, help="Triton gRPC host:port (default: start the installed server)")
    parser.add_argument("--models", nargs="+", default=["sscd", "sscd_distilled"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8, 32])
    parser.add_argument("--frames", type=int, default=64, help="frames per measurement")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8,
                        help="also measure Triton at batch 1 with this many concurrent callers (dynamic batching); 0: skip")
    parser.add_argument("--no-onnx", action="store_true", help="skip the in-process ONNX Runtime figures")
    args = parser.parse_args(argv)

    from streams.embedding.onnx import OnnxEmbedder
    from streams.embedding.triton import TritonEmbedder

    settings = Settings()
    frames = real_frames(args.frames, settings.frame_size)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {args.frames} frames of "
          f"{settings.frame_size}x{settings.frame_size}, best of {args.repeats}", flush=True)

    with contextlib.ExitStack() as stack:
        url = triton_url(stack, args.url, args.models)
        rows = []
        for model in args.models:
            embedder = TritonEmbedder(url, Settings(frame_model=model))
            try:
                for batch in args.batches:
                    fps = frames_per_second(embedder.embed, frames, batch, args.repeats)
                    rows.append((model, "triton", batch, fps))
                    print(f"{model:15s} triton        batch {batch:3d}: {fps:7.1f} frames/s", flush=True)
                if args.concurrency > 1:
                    fps = frames_per_second(embedder.embed, frames, 1, args.repeats, args.concurrency)
                    rows.append((model, "triton", f"1 x{args.concurrency}", fps))
                    print(f"{model:15s} triton        batch   1 x{args.concurrency} concurrent: {fps:7.1f} frames/s",
                          flush=True)
            finally:
                embedder.close()
        if not args.no_onnx:
            for model in args.models:
                embedder = OnnxEmbedder(model)
                try:
                    for batch in args.batches:
                        fps = frames_per_second(embedder.embed, frames, batch, args.repeats)
                        rows.append((model, "onnxruntime", batch, fps))
                        print(f"{model:15s} onnxruntime   batch {batch:3d}: {fps:7.1f} frames/s", flush=True)
                finally:
                    embedder.close()

    columns = list(args.batches) + ([f"1 x{args.concurrency}"] if args.concurrency > 1 else [])
    print("\nframes/s")
    print("| model | path | " + " | ".join(f"batch {b}" for b in columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for model in args.models:
        for path in ("triton", "onnxruntime"):
            figures = {b: fps for m, p, b, fps in rows if m == model and p == path}
            if figures:
                cells = [f"{figures[b]:.1f}" if b in figures else "-" for b in columns]
                print(f"| {model} | {path} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
