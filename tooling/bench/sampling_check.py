"""How many videos of a manifest have other sampled frame times from the frame stage's sampling
(streams.media.video: the first frame at least one interval after the last one picked, started
again at fixed points of a long video so that it may be decoded in segments) than from the rule
alone, unbroken, as it was before. A non-zero count means features cached under the old rule are
stale (FEATURES_VERSION in tooling.evaluation.calibrate).

    python -m tooling.bench.sampling_check /work/devset-v2/manifest.json /work/probe-v1/manifest.json
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

from streams.config import Settings
from streams.media.video import TIME_SLACK
from streams.params import frame_sampling_interval


def decoded_times(path: Path) -> tuple[list[float], float]:
    """The times of the frames the frame stage decodes (non-reference frames skipped), and the
    duration the header gives."""
    import av

    from streams.media.video import _duration

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONREF"
        stream.thread_count = 1
        duration = _duration(container, stream)
        times = []
        try:
            for frame in container.decode(stream):
                if frame.time is not None:
                    times.append(frame.time)
        except av.error.FFmpegError:
            pass
    return times, duration


def by_drift(times: list[float], interval: float, max_frames: int) -> list[float]:
    picked, next_time = [], 0.0
    for time in times:
        if time + TIME_SLACK >= next_time and len(picked) < max_frames:
            picked.append(time)
            next_time = time + interval
    return picked


def sampled(path: Path, settings: Settings) -> list[float]:
    """The frame stage's own picks (its sampling loop, without converting the frames)."""
    from streams.media import video

    container, stream = video._open_video_stream(path, settings)
    with container:
        stream.codec_context.skip_frame = "NONREF"
        stream.thread_count = 1
        duration = video._duration(container, stream)
        interval = frame_sampling_interval(duration, settings.sample_fps, settings.max_frames)
        whole = video._Segment(container, stream, video._packets(container, stream, settings), 0, None)
        return [time for time, _, _ in video._picked(whole, settings, duration, interval, video._restarts(duration),
                                                     lambda frame, number: None, threading.Event())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench.sampling_check", description=__doc__.split("\n")[0])
    parser.add_argument("manifests", nargs="+", type=Path)
    args = parser.parse_args(argv)
    settings = Settings()
    for manifest in args.manifests:
        items = json.loads(manifest.read_text())
        items = items["items"] if isinstance(items, dict) else items
        files = sorted({item["file"] for item in items})
        changed, frames_changed, frames_total = [], 0, 0
        for name in files:
            times, duration = decoded_times(manifest.parent / name)
            interval = frame_sampling_interval(duration, settings.sample_fps, settings.max_frames)
            old, new = by_drift(times, interval, settings.max_frames), sampled(manifest.parent / name, settings)
            frames_total += len(old)
            if old != new:
                changed.append(name)
                frames_changed += len(set(old) ^ set(new))
        print(f"{manifest}: {len(changed)} of {len(files)} videos sample other frame times than before "
              f"({frames_changed} frame times differ of {frames_total}); e.g. {changed[:3]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
