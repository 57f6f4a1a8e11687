"""Sample a video's frames at a steady rate, decoding no more than needed.

Non-reference frames (most B-frames) are never decoded: sampling ~1 frame per second does not
need them, and skipping them roughly halves H.264/HEVC decode time. Only the picked frames are
converted, straight to the embedder's working size in one libswscale call. A corrupt packet is
skipped, not fatal: some real files have one.

The frames picked lie on a fixed grid (the first frame at or after each of its points: _Grid),
so they do not depend on where decoding started: a video decoded alone in this process
is decoded as independent segments split at keyframes, one decoder thread each, side by side
(H.264 frame threads with the non-reference frames skipped keep only ~1.3 cores busy; two
decoders on two halves keep two)."""

from __future__ import annotations

import itertools
import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from streams.config import Settings
from streams.errors import ErrorCode, MediaError
from streams.media.bars import picture_box
from streams.media.decoding import open_container, within_time_limit
from streams.media.region import Region, chroma_grid, luma_grid
from streams.params import MatchParams, frame_sampling_interval
from streams.values import SampledFrames

# Frames handed to the embedder at a time while decoding goes on (one Triton batch holds 64).
CHUNK_FRAMES = 32
# Beyond this many undecodable packets in a row the file is taken as broken, not damaged.
MAX_CONSECUTIVE_BAD_PACKETS = 50
# A segment decoded beside another is no shorter: each one opens the file again and decodes its
# first sampling step (up to its first grid point) only to find where to start, a fifth of the
# work of a 5 s segment at 1 fps.
MIN_SEGMENT_SECONDS = 5.0
# Frame times this close below a grid point count as on it (rounded container timestamps).
GRID_SLACK = 1e-3

T = TypeVar("T")

# FFmpeg demuxers that make a picture out of something that is not a video: text files (tty and
# its kin render them) and still images (image2 and every *_pipe demuxer).
TEXT_DEMUXERS = frozenset({"tty", "bin", "xbin", "adf", "idf"})
STILL_IMAGE_DEMUXERS = frozenset({"image2", "webp"})


def _open_video_stream(path: Path, settings: Settings):
    import av

    container = open_container(path, settings)
    demuxer = container.format.name
    if demuxer in TEXT_DEMUXERS:
        container.close()
        raise MediaError(f"a text file, not a video (FFmpeg reads it as {demuxer})")
    # An attached picture is a song's cover art, not a video stream.
    moving = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    if not moving or demuxer in STILL_IMAGE_DEMUXERS or demuxer.endswith("_pipe"):
        container.close()
        what = "is a still image, not a video" if moving else "has no video stream"
        raise MediaError(f"the file {what} ({demuxer})", code=ErrorCode.NO_VIDEO_STREAM)
    decodable = [s for s in moving if s.codec_context is not None]
    if not decodable:
        container.close()
        raise MediaError(f"no decoder for its video stream ({demuxer})")
    stream = decodable[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > settings.max_pixels:
        container.close()
        raise MediaError(f"frames of {width}x{height} exceed the {settings.max_pixels} pixels allowed",
                         code=ErrorCode.MEDIA_TOO_LARGE)
    return container, stream


def _packets(container, stream, settings: Settings):
    """The stream's packets until the end, or until the container itself breaks: what came
    before a damaged index or a cut-off tail is still worth judging. Past the decode time limit,
    decode_timeout (streams.media.decoding)."""
    import av

    try:
        yield from within_time_limit(container.demux(stream), settings)
    except av.error.FFmpegError:
        return


def _duration(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


class Scaler:
    """Decoded frames scaled and converted by libswscale, one scaling context per target kept for
    the whole video. frame.to_ndarray(width=..., ...) builds a new context for every frame (its
    filters, and a pool of threads by default): at 1 fps from a 720p or 1080p stream that set-up
    costs more than the scaling. One thread per context: the frames stages run two videos at a
    time on two cores, and the pixels are the same. The contexts are kept per calling thread (a
    video's segments are converted side by side, and a context is not to be shared)."""

    def __init__(self):
        self._local = threading.local()

    def __call__(self, frame, width: int, height: int, format: str) -> np.ndarray:
        from av.video.reformatter import VideoReformatter

        reformatters = self._local.__dict__.setdefault("reformatters", {})
        reformatter = reformatters.setdefault((width, height, format), VideoReformatter())
        return reformatter.reformat(frame, width=width, height=height, format=format, threads=1).to_ndarray()


def _picture(frame, size: int, params: MatchParams, scaled: Scaler) -> tuple[np.ndarray, np.ndarray]:
    """The frame as uint8 RGB size x size, cropped to the picture inside letterbox or pillarbox
    bars (streams.media.bars), and the whole frame's luma and chroma thumbnails (streams.media.region).
    Bars are looked for at twice the working size, in luma only, so that a frame without bars costs
    one extra small conversion (and one tiny one for the chroma thumbnail)."""
    probe, grid = 2 * size, params.region.grid
    luma = scaled(frame, probe, probe, "gray")
    colour = scaled(frame, 2 * grid, 2 * grid, "yuv420p")
    cells = np.concatenate([luma_grid(luma, grid)[None], chroma_grid(colour)])
    top, bottom, left, right = picture_box(luma, params.bars)
    if (top, bottom, left, right) == (0, probe, 0, probe):
        return scaled(frame, size, size, "rgb24"), cells
    import cv2

    inside = scaled(frame, probe, probe, "rgb24")[top:bottom, left:right]
    return cv2.resize(inside, (size, size), interpolation=cv2.INTER_AREA), cells


class KeptFrames:
    """Whole sampled frames kept while decoding, at a resolution fit for cutting regions out of
    them (their shorter side short_side pixels, never enlarged), so that the regions found once the
    last frame is seen are cut without decoding the video again. At most 2 * cap frames are held:
    when that many are, those of every other sampling step are let go, and from then on only every
    other step's frame is kept, so that the kept ones stay evenly spread over the video. Thinning by
    step number, not by arrival, keeps the same frames whatever order the segments of a video
    offer them in (offer is called from each segment's thread). With cap 0 none is kept: only the
    frames' size is noted. scaled: a Scaler, or a stand-in with its call."""

    def __init__(self, cap: int, short_side: int, scaled: Callable[..., np.ndarray] | None = None):
        self.cap, self.short_side = cap, short_side
        self._scaled = scaled or Scaler()
        self._kept: dict[int, tuple[float, np.ndarray]] = {}  # sampling step -> (time, picture)
        self.width = self.height = 0  # of the decoded frames
        self._stride = 1
        self._lock = threading.Lock()

    def offer(self, frame, step: int) -> None:
        """frame: the one sampled at this sampling step (its number on the grid from the start)."""
        self.width, self.height = frame.width, frame.height
        if not self.cap or step % self._stride:
            return
        scale = min(1.0, self.short_side / max(1, min(frame.width, frame.height)))
        width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
        picture = self._scaled(frame, width, height, "rgb24")
        with self._lock:
            if step % self._stride == 0:  # the stride may have grown meanwhile in another segment
                self._kept[step] = (frame.time, picture)
            while len(self._kept) >= 2 * self.cap:
                self._stride *= 2
                self._kept = {kept: value for kept, value in self._kept.items() if kept % self._stride == 0}

    @property
    def times(self) -> list[float]:
        return [self._kept[step][0] for step in sorted(self._kept)]

    @property
    def pictures(self) -> list[np.ndarray]:
        return [self._kept[step][1] for step in sorted(self._kept)]

    @property
    def portrait(self) -> bool | None:
        """Whether the frames are taller than wide (None when square or none was offered)."""
        if self.width == self.height:
            return None
        return self.height > self.width

    def cropped(self, region: Region, size: int) -> SampledFrames:
        """The kept frames cut to the region (shares of the whole frame), as uint8 RGB size x size."""
        import cv2

        pictures, times = [], self.times
        for picture in self.pictures:
            height, width = picture.shape[:2]
            top, left = int(region.top * height), int(region.left * width)
            rows = slice(top, max(int(region.bottom * height), top + 1))
            columns = slice(left, max(int(region.right * width), left + 1))
            pictures.append(cv2.resize(picture[rows, columns], (size, size), interpolation=cv2.INTER_AREA))
        duration = times[-1] if times else 0.0
        return SampledFrames(timestamps=np.asarray(times, np.float32),
                             pixels=np.stack(pictures) if pictures else np.zeros((0, size, size, 3), np.uint8),
                             duration=duration)


_decoding = 0  # videos being decoded in this process now
_decoding_lock = threading.Lock()


@contextmanager
def _decoding_alone() -> Iterator[bool]:
    """Whether no other video is being decoded in this process now. A video decoded alone is
    split into segments decoded side by side (its picture comes sooner); beside another, it is
    decoded on one thread: in a burst the frames stages keep both cores busy with two videos, and
    more threads only add their own cost (frame threads about a tenth of the decode's CPU,
    `dupstream bench profile`)."""
    global _decoding
    with _decoding_lock:
        alone = _decoding == 0
        _decoding += 1
    try:
        yield alone
    finally:
        with _decoding_lock:
            _decoding -= 1


def decode_workers() -> int:
    """Segments a video decoded alone is split into at most: the cores this process may run on
    (its affinity, which a container's or taskset's CPU set narrows and os.cpu_count ignores)."""
    return len(os.sched_getaffinity(0))


class _Grid(NamedTuple):
    """Where the sampled frames lie: the first frame at or after each point origin + n * step. It
    is learned from the start of the video: origin is the first frame at or after 0 s, step the
    time from it to the first frame at least the sampling interval later (the interval itself where
    that frame comes two intervals later or more: a gap). So the step is a whole number of the
    decoded frames' spacing, and a stream whose decoded frames are evenly spaced is sampled at even
    steps, as it was by taking the first frame one interval after the last one picked: a grid of
    whole seconds over 25 fps with every other frame decoded would alternate 1.04 s and 0.96 s
    steps, a beat that the motion check along a match's line reads as motion both videos share."""

    origin: float
    step: float

    @classmethod
    def learned(cls, first: float, second: float, interval: float) -> _Grid:
        return cls(first, second - first if second - first < 2 * interval else interval)

    def number(self, time: float) -> int:
        """The grid point at or before this time (slack: rounded container timestamps)."""
        return math.floor((time - self.origin + GRID_SLACK) / self.step)


class _Segment(NamedTuple):
    """One decoder over a stretch of the video: it picks the frames of grid points first to end - 1
    (end None: to the video's end), and stops at the first frame of point end. grid None: the
    segment starts the video and learns the grid from its first frames."""

    container: Any
    stream: Any
    packets: Iterator  # the stream's packets from the keyframe the segment starts at
    first: int
    end: int | None
    grid: _Grid | None


def _keyframe_at_or_before(path: Path, settings: Settings, seconds: float):
    """(container, stream, packets from the keyframe at or before seconds, the keyframe's time),
    or None where the stream cannot seek there or the first packet is no keyframe with a time."""
    import av

    container, stream = _open_video_stream(path, settings)
    try:
        container.seek(round(seconds / stream.time_base), backward=True, any_frame=False, stream=stream)
        packets = _packets(container, stream, settings)
        first = next(packets, None)
    except (av.error.FFmpegError, ValueError):
        first = None
    if first is None or not first.is_keyframe or first.pts is None:
        container.close()
        return None
    return container, stream, itertools.chain([first], packets), float(first.pts * stream.time_base)


def _probed_grid(path: Path, settings: Settings, interval: float) -> _Grid | None:
    """The video's sampling grid, from decoding its first picks (None: fewer than two)."""
    container, stream = _open_video_stream(path, settings)
    with container:
        stream.codec_context.skip_frame = "NONREF"
        stream.thread_count = 1
        start = _Segment(container, stream, _packets(container, stream, settings), 0, None, None)
        picks = _picked(start, settings, 0.0, interval, lambda frame, number: None, threading.Event())
        times = [time for time, _, _ in itertools.islice(picks, 2)]
        picks.close()
    return _Grid.learned(*times, interval) if len(times) == 2 else None


def _segments(path: Path, settings: Settings, alone: bool, opened: ExitStack) -> tuple[list[_Segment], float, float]:
    """(the segments the video is decoded in, its duration from the header (0 if unknown), the
    sampling interval). One segment unless the video is decoded alone and is long enough to give
    each of decode_workers() segments MIN_SEGMENT_SECONDS; then the grid is learned first, and
    segment k starts at the keyframe at or before k / n of the video and covers the grid points
    after that keyframe. A split point that lands on the previous one's keyframe or too near it is
    dropped."""
    container, stream = _open_video_stream(path, settings)
    opened.enter_context(container)
    duration = _duration(container, stream)
    if duration > settings.max_seconds:
        raise MediaError(f"the video lasts {duration:.0f} s, more than the {settings.max_seconds:.0f} s allowed",
                         code=ErrorCode.MEDIA_TOO_LONG)
    interval = frame_sampling_interval(duration, settings.sample_fps, settings.max_frames)
    parts = min(decode_workers(), int(duration // MIN_SEGMENT_SECONDS)) if alone else 1
    grid = _probed_grid(path, settings, interval) if parts > 1 else None
    starts = [(container, stream, _packets(container, stream, settings), 0, grid.origin if grid else 0.0)]
    for part in range(1, parts if grid else 1):
        found = _keyframe_at_or_before(path, settings, grid.origin + duration * part / parts)
        if found is None:
            continue
        opened.enter_context(found[0])
        if found[3] >= starts[-1][4] + MIN_SEGMENT_SECONDS:
            starts.append((*found[:3], grid.number(found[3]) + 1, found[3]))
    segments = [_Segment(container, stream, packets, first, following[3] if following else None, grid)
                for (container, stream, packets, first, _), following
                in itertools.zip_longest(starts, starts[1:])]
    for segment in segments:
        segment.stream.codec_context.skip_frame = "NONREF"
        if len(segments) == 1 and alone:
            segment.stream.thread_type = "AUTO"  # too short to split: FFmpeg's frame threads
        else:
            segment.stream.thread_count = 1
    return segments, duration, interval


def _picked(segment: _Segment, settings: Settings, duration: float, interval: float, picture: Callable,
            stopped: threading.Event) -> Iterator[tuple[float, Any, float]]:
    """(time, picture(frame, grid point number), the video's duration as known so far) of each
    frame the segment picks: the first frame at or after each of its grid points (_Grid), as they
    are decoded, at most settings.max_frames points in the whole video. Ends early when stopped
    is set."""
    import av

    end = min(settings.max_frames, segment.end if segment.end is not None else settings.max_frames)
    grid, first = segment.grid, None  # first: the first pick's time while the grid is learned
    next_number = segment.first
    bad_in_a_row = 0
    last_time = 0.0
    for packet in segment.packets:
        if stopped.is_set():
            return
        try:
            frames = packet.decode()
            bad_in_a_row = 0
        except av.error.FFmpegError:
            bad_in_a_row += 1
            if bad_in_a_row > MAX_CONSECUTIVE_BAD_PACKETS:
                return
            continue
        for frame in frames:
            if frame.time is None:
                continue
            last_time = max(last_time, frame.time)
            if last_time > settings.max_seconds:  # the header did not say how long it is
                raise MediaError(f"the video lasts more than the {settings.max_seconds:g} s allowed",
                                 code=ErrorCode.MEDIA_TOO_LONG)
            if grid is None:
                if frame.time + GRID_SLACK < (0.0 if first is None else first + interval):
                    continue
                if first is None:  # the grid's origin
                    first, next_number = frame.time, 1
                    yield frame.time, picture(frame, 0), duration or last_time
                    continue
                grid = _Grid.learned(first, frame.time, interval)
            number = grid.number(frame.time)
            if number >= end:
                return
            if number < next_number:
                continue
            yield frame.time, picture(frame, number), duration or last_time
            next_number = number + 1


def _side_by_side(sources: list[Iterator[T]], stopped: threading.Event) -> Iterator[T]:
    """The items of every source as they come, each source iterated in a thread of its own. The
    first error of any source is raised here; on the way out (an error, or the consumer closing
    this generator) stopped is set and every thread is waited for."""
    arrived: queue.SimpleQueue = queue.SimpleQueue()
    finished = object()

    def run(source: Iterator[T]) -> None:
        try:
            for item in source:
                arrived.put((item, None))
        except BaseException as error:  # handed to the consumer's thread
            arrived.put((None, error))
        finally:
            arrived.put((finished, None))

    threads = [threading.Thread(target=run, args=(source,), name="dupstream-segment", daemon=True)
               for source in sources]
    for thread in threads:
        thread.start()
    try:
        running = len(threads)
        while running:
            item, error = arrived.get()
            if error is not None:
                raise error
            if item is finished:
                running -= 1
            else:
                yield item
    finally:
        stopped.set()
        for thread in threads:
            thread.join()


def frame_chunks(path: Path, settings: Settings, params: MatchParams | None = None, kept: KeptFrames | None = None,
                 chunk_frames: int = CHUNK_FRAMES) -> Iterator[SampledFrames]:
    """sample_frames' frames in chunks, each as soon as it is decoded: the embedder can describe
    one chunk meanwhile. Frames at settings.sample_fps (fewer for long videos: at most
    settings.max_frames), the same frames on every call. A video decoded alone comes in segments
    decoded side by side (_segments): each segment's chunks come in time order, the segments'
    chunks interleaved as they are decoded (joined puts them in order). kept, when given, is
    offered every sampled frame (KeptFrames)."""
    params = params or MatchParams.from_settings(settings)
    scaled = Scaler()
    stopped = threading.Event()

    def picture(frame, step: int):
        if kept is not None:
            kept.offer(frame, step)
        return _picture(frame, settings.frame_size, params, scaled)

    def chunks(segment: _Segment) -> Iterator[SampledFrames]:
        for chunk in itertools.batched(_picked(segment, settings, duration, interval, picture, stopped), chunk_frames):
            times, pictures, durations = zip(*chunk)
            yield SampledFrames(timestamps=np.asarray(times, np.float32),
                                pixels=np.stack([rgb for rgb, _ in pictures]), duration=durations[-1],
                                thumbnails=np.stack([cells for _, cells in pictures]))

    picked = 0
    with _decoding_alone() as alone, ExitStack() as opened:
        segments, duration, interval = _segments(path, settings, alone, opened)
        sources = [chunks(segment) for segment in segments]
        for chunk in sources[0] if len(sources) == 1 else _side_by_side(sources, stopped):
            picked += len(chunk.timestamps)
            yield chunk
    if not picked:
        raise MediaError("no frame could be decoded", code=ErrorCode.MEDIA_UNREADABLE)


def joined(chunks: list[SampledFrames]) -> SampledFrames:
    """The chunks of one video (frame_chunks) as one, in time order."""
    chunks = sorted(chunks, key=lambda chunk: chunk.timestamps[0])
    return SampledFrames(timestamps=np.concatenate([c.timestamps for c in chunks]),
                         pixels=np.concatenate([c.pixels for c in chunks]), duration=chunks[-1].duration,
                         thumbnails=np.concatenate([c.thumbnails for c in chunks]))


def sample_frames(path: Path, settings: Settings, params: MatchParams | None = None,
                  kept: KeptFrames | None = None) -> SampledFrames:
    """Frames at settings.sample_fps (fewer for long videos: at most settings.max_frames), as
    uint8 RGB frame_size x frame_size, with their luma and chroma thumbnails (streams.media.region)."""
    return joined(list(frame_chunks(path, settings, params, kept)))


def drop_blank_frames(frames: SampledFrames, min_std: float) -> tuple[SampledFrames, int]:
    """Near-blank frames (black, flat colour) all look alike to a descriptor: they would match
    every other video's fades. Returns the kept frames and how many were dropped."""
    spread = frames.pixels.reshape(len(frames.pixels), -1).std(axis=1)
    keep = spread >= min_std
    kept = frames._replace(timestamps=frames.timestamps[keep], pixels=frames.pixels[keep],
                           thumbnails=frames.thumbnails[keep] if frames.thumbnails is not None else None)
    return kept, int((~keep).sum())
