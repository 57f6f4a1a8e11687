"""Where the CPU goes in the per-video work, part by part, on the clips of `dupstream bench burst`:
CPU seconds (all threads of this process, or of the ffmpeg child) per minute of video, and each
part against the 1-fps decode floor measured the same way.

    dupstream bench profile [--clips 24] [--model sscd|sscd_distilled] [--seed 1]
    dupstream bench profile --long --model sscd_distilled [--repeat 3] [--cprofile 30]

--long: the long clip of the burst (220 s of 720p) instead: its sound stage part by part (CPU
seconds), then, with the burst's clips indexed in a temporary index as a burst leaves them, the
match stage on it: the decision (streams.pipeline.match_features, the least of --repeat runs, and
a cProfile of its N costliest calls given --cprofile N) and the whole stage once
(streams.stages.match.match_video: the decision, the verdict, the index writes).

CPU seconds, not wall seconds: on a machine others share, wall times measure the neighbours too,
while the CPU a part burns is its own cost (what two cores can run in a burst is their sum / 2).
The parts: decoding the sampled frames (as the frame stage does, with the whole frames kept for
regions; one video at a time, and two at a time as a burst runs them), the frame stage's own work
around the model (rotations, blank frames, regions: run with a stand-in model), one SSCD pass per
embedded frame (ONNX Runtime in this process, calls paused as the stage's are, its threads sleeping
between calls as they do in Triton's backend, and spinning for comparison; Triton runs the same
graph) times the frames each view embeds (in passes: frames over the plain view's), and the sound
(decode, Chromaprint and its resampled copies). The passes do not depend on the machine's load;
the CPU seconds do somewhat (shared caches, hyperthreads).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tooling.bench.burst_bench import make_clips
from streams.config import Settings
from tooling.devset.packaged import CHECKOUT_CACHE


def cpu_seconds(work, children: bool = False) -> float:
    """CPU seconds (user + system) work() burns in this process, or in the processes it runs."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    before = resource.getrusage(who)
    work()
    after = resource.getrusage(who)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class StandIn:
    """A FrameEmbedder that counts the frames it is given and answers unit vectors at once."""

    model_name, model_version = "stand-in", "0"

    def __init__(self):
        self.frames = 0

    def embed(self, frames: np.ndarray) -> np.ndarray:
        self.frames += len(frames)
        vectors = np.random.default_rng(len(frames)).normal(size=(len(frames), 512)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def close(self) -> None:
        pass


# Between two calls of the model the frame stage waits for the next chunk's decode.
PAUSE = 0.05


def model_cpu_per_frame(embedder, batch: np.ndarray, calls: int = 4) -> float:
    """CPU seconds per frame of the model, called on batch with a pause between calls, as the
    stage calls it: threads that spin while they wait burn CPU the decoding beside them needs."""
    embedder.embed(batch)  # warm-up

    def calls_with_pauses() -> None:
        for _ in range(calls):
            embedder.embed(batch)
            time.sleep(PAUSE)

    try:
        return cpu_seconds(calls_with_pauses) / (calls * len(batch))
    finally:
        embedder.close()


def view_frames(half) -> dict[str, int]:
    """Frames embedded per kind of view, from a FrameHalf."""
    counts = {"plain": len(half.timestamps), "mirrored": len(half.timestamps) if half.mirrored_embeddings else 0,
              "turned": 0, "regions": len(half.region_timestamps)}
    for view in half.views:
        counts["regions" if view.region else "turned"] += len(view.timestamps)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dupstream bench profile", description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=24, help="short clips, as `dupstream bench burst` makes them")
    parser.add_argument("--model", default="sscd", help="frame model")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--long", action="store_true", help="the long clip's sound stage and match stage")
    parser.add_argument("--repeat", type=int, default=3, help="with --long: runs of each part (the least counts)")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="with --long: the match's N costliest calls")
    args = parser.parse_args(argv)
    if args.long:
        return long_clip(args)

    from schemas.internal import AcceptedVideo
    from streams.audio.extract import decode_mono, fingerprint_samples
    from tooling.bench.burst_bench import _duration
    from streams.embedding.onnx import OnnxEmbedder
    from streams.media.video import KeptFrames, frame_chunks
    from streams.params import MatchParams
    from streams.stages.frames import describe_frames

    clips, _ = make_clips(CHECKOUT_CACHE / "bench-burst" / f"seed{args.seed}-n{args.clips}", args.clips, args.seed)
    settings = Settings(media_roots=[clips[0].parent], frame_model=args.model)
    params = MatchParams.from_settings(settings)
    minutes = sum(_duration(path) for path in clips) / 60
    cpu: dict[str, float] = {}
    frames: dict[str, int] = {}

    def add(part: str, seconds: float) -> None:
        cpu[part] = cpu.get(part, 0.0) + seconds

    def ffmpeg_floor(path: Path) -> None:
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-skip_frame", "noref", "-i", str(path),
                        "-vf", "fps=1", "-an", "-f", "null", "-"], check=True)

    batch = np.random.default_rng(0).integers(0, 255, (32, settings.frame_size, settings.frame_size, 3), np.uint8)
    per_frame = {spinning: model_cpu_per_frame(OnnxEmbedder(args.model, spinning=spinning), batch)
                 for spinning in (True, False)}
    def sampled(path: Path) -> list:
        whole = KeptFrames(params.views.region_frames if settings.match_region else 0,
                           round(params.views.region_scale * settings.frame_size))
        return list(frame_chunks(path, settings, params, whole))

    def two_at_a_time() -> None:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(sampled, clips))

    started = time.perf_counter()
    for path in clips:
        add("1-fps decode floor (ffmpeg)", cpu_seconds(lambda: ffmpeg_floor(path), children=True))
        add("frames: decode + sample (PyAV)", cpu_seconds(lambda: sampled(path)))
        accepted = AcceptedVideo(video_id=path.stem, uri=str(path), raw_event="", accepted_at=datetime.now(UTC))
        stand_in = StandIn()
        found = {}
        stage = cpu_seconds(lambda: found.setdefault("half", describe_frames(accepted, stand_in, settings, params)))
        add("frames: the stage with a stand-in model (decode included)", stage)
        for view, count in view_frames(found["half"]).items():
            frames[view] = frames.get(view, 0) + count
        samples = {}
        add("audio: decode to 11025 Hz mono", cpu_seconds(lambda: samples.setdefault("s", decode_mono(path, settings))))
        if samples["s"] is not None:
            add("audio: Chromaprint + resampled copies",
                cpu_seconds(lambda: fingerprint_samples(samples["s"], params.audio)))
    # As the frames stages of a burst run them (streams.stages.frames: concurrency 2).
    add("frames: decode + sample, two videos at a time", cpu_seconds(two_at_a_time))
    for view, count in frames.items():
        cpu[f"{args.model}: {view} view, {count / frames['plain']:.2f} passes"] = count * per_frame[False]
    floor = cpu["1-fps decode floor (ffmpeg)"]
    print(f"{len(clips)} clips, {minutes:.2f} video-minutes; {args.model} {per_frame[False] * 1000:.1f} CPU ms per "
          f"frame (ONNX Runtime, calls of 32 frames {PAUSE * 1000:.0f} ms apart; "
          f"{per_frame[True] * 1000:.1f} with its threads spinning between calls); "
          f"{time.perf_counter() - started:.0f} s wall")
    print("| part | CPU s per video-minute | x the decode floor |")
    print("| --- | ---: | ---: |")
    for part, seconds in cpu.items():
        print(f"| {part} | {seconds / minutes:.2f} | {seconds / floor:.2f} |")
    return 0


def long_clip(args: argparse.Namespace) -> int:
    import cProfile
    import pstats
    import tempfile

    from schemas.internal import AcceptedVideo, JoinedVideo
    from streams.audio.extract import (chromaprint_items, decode_mono, fingerprint_samples, resampled_items,
                                       usable_seconds)
    from streams.audio.landmarks import peaks
    from streams.audio import CHROMAPRINT_SAMPLE_RATE
    from streams.embedding.onnx import OnnxEmbedder
    from streams.index import open_index
    from streams.params import MatchParams
    from streams.pipeline import match_features
    from streams.stages.audio import audio_half
    from streams.stages.frames import describe_frames
    from streams.stages.match import match_video
    from tooling.bench.burst_bench import _duration

    clips, long_path = make_clips(CHECKOUT_CACHE / "bench-burst" / f"seed{args.seed}-n{args.clips}", args.clips,
                                  args.seed)
    data_dir = tempfile.TemporaryDirectory()
    settings = Settings(media_roots=[long_path.parent.resolve()], frame_model=args.model, data_dir=data_dir.name)
    params = MatchParams.from_settings(settings)
    minutes = _duration(long_path) / 60
    found: dict = {}
    audio = params.audio
    chromaprint_items(np.zeros(CHROMAPRINT_SAMPLE_RATE, np.float32))  # Essentia's import, once per worker
    parts = {
        "decode to 11025 Hz mono": lambda: found.update(samples=decode_mono(long_path, settings)),
        "usable seconds (silence)": lambda: usable_seconds(found["samples"], CHROMAPRINT_SAMPLE_RATE, audio),
        "Chromaprint, plain": lambda: chromaprint_items(found["samples"]),
        f"resampled copies x{len(audio.resampled_speeds)} (replayed + Chromaprint)": lambda: resampled_items(
            found["samples"], audio.resampled_speeds),
        "landmarks (peaks)": lambda: peaks(found["samples"], audio),
        "the whole fingerprint (fingerprint_samples)": lambda: fingerprint_samples(found["samples"], audio),
    }
    print(f"{long_path.name}: {minutes * 60:.0f} s; the sound stage, CPU s (per video-minute), the least of "
          f"{args.repeat} runs")
    for part, work in parts.items():
        seconds = min(cpu_seconds(work) for _ in range(args.repeat))
        print(f"  {part:45s} {seconds:6.2f} ({seconds / minutes:.2f})")

    embedder = OnnxEmbedder(args.model, threads=1)

    def joined(path: Path, video_id: str) -> JoinedVideo:
        accepted = AcceptedVideo(video_id=video_id, uri=str(path.resolve()), raw_event="",
                                 accepted_at=datetime.now(UTC))
        return JoinedVideo(accepted=accepted, frames=describe_frames(accepted, embedder, settings, params),
                           audio=audio_half(accepted, settings), timings={})

    index = open_index(settings)
    for number, path in enumerate(clips):
        match_video(joined(path, f"clip{number:03d}"), index, params)
    query = joined(long_path, "long")
    spent = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        cpu = cpu_seconds(lambda: match_features(query, index, params))
        spent.append((time.perf_counter() - started, cpu))
    wall, cpu = min(spent, key=lambda one: one[1])
    print(f"the decision on it (match_features), {len(clips)} clips indexed: {wall:.3f} s wall, {cpu:.3f} CPU s")
    if args.cprofile:
        profile = cProfile.Profile()
        profile.runcall(match_features, query, index, params)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.cprofile)
    started = time.perf_counter()
    verdict = {}
    cpu = cpu_seconds(lambda: verdict.update(it=match_video(query, index, params)))
    print(f"the match stage (match_video): {time.perf_counter() - started:.3f} s wall, {cpu:.3f} CPU s "
          f"(verdict {verdict['it'].verdict.value})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
