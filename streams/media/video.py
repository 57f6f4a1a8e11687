"""Sample a video's frames at a steady rate, decoding no more than needed.

Non-reference frames (most B-frames) are never decoded: sampling ~1 frame per second does not
need them, and skipping them roughly halves H.264/HEVC decode time. Only the picked frames are
converted, straight to the embedder's working size in one libswscale call. A corrupt packet is
skipped, not fatal: some real files have one.

A long video decoded alone in this process is decoded as independent segments split at
keyframes, one decoder thread each, side by side (H.264 frame threads with the non-reference
frames skipped keep only ~1.3 cores busy; two decoders on two halves keep two). The frames picked
do not depend on the split: the sampling rule starts again at fixed points of the video
(_restarts), where segments begin."""

from __future__ import annotations

import bisect
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
# A long video's sampling starts again every RESTART_SECONDS or more, at most MAX_PARTS - 1 times
# (_restarts): videos under a minute are sampled as one stretch, long ones may be decoded in up to
# MAX_PARTS segments side by side.
RESTART_SECONDS = 30.0
MAX_PARTS = 8
# Frame times this close below a sampling time count as at it (rounded container timestamps).
TIME_SLACK = 1e-3

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
    when that many are, every other one is let go, and from then on only every other offered frame
    is kept, so that the kept ones stay evenly spread over the video. "Every other" counts the
    frames' numbers in their sampling stretch (streams.media.video._restarts), not their arrival:
    the segments of a video decoded side by side offer them in any order (each from its thread),
    and the same frames are kept. With cap 0 none is kept: only the frames' size is noted.
    scaled: a Scaler, or a stand-in with its call."""

    def __init__(self, cap: int, short_side: int, scaled: Callable[..., np.ndarray] | None = None):
        self.cap, self.short_side = cap, short_side
        self._scaled = scaled or Scaler()
        self._kept: dict[float, tuple[int, np.ndarray]] = {}  # time -> (number, picture)
        self.width = self.height = 0  # of the decoded frames
        self._stride = 1
        self._lock = threading.Lock()

    def offer(self, frame, number: int) -> None:
        """number: the frame's among the sampled frames of its stretch (from 0)."""
        self.width, self.height = frame.width, frame.height
        if not self.cap or number % self._stride:
            return
        scale = min(1.0, self.short_side / max(1, min(frame.width, frame.height)))
        width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
        picture = self._scaled(frame, width, height, "rgb24")
        with self._lock:
            if number % self._stride == 0:  # the stride may have grown meanwhile in another segment
                self._kept[frame.time] = (number, picture)
            while len(self._kept) >= 2 * self.cap:
                self._stride *= 2
                self._kept = {time: kept for time, kept in self._kept.items() if kept[0] % self._stride == 0}

    @property
    def times(self) -> list[float]:
        return sorted(self._kept)

    @property
    def pictures(self) -> list[np.ndarray]:
        return [self._kept[time][1] for time in sorted(self._kept)]

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


def _restarts(duration: float) -> list[float]:
    """The times the sampling rule starts again from (the first is 0): where a video may be split
    into segments decoded side by side. The rule, the first frame at least one interval after the
    last one picked, depends on every pick before; started again at fixed points, it picks the same
    frames whether decoding starts there or reached them. The points split the video into the
    largest power of two of parts (up to MAX_PARTS) at least RESTART_SECONDS long: none in a video
    under twice that (most uploads: their frames are those the rule always picked). Each part picks
    at most its share of settings.max_frames (_picked)."""
    parts = 1
    while parts < MAX_PARTS and duration / (2 * parts) >= RESTART_SECONDS:
        parts *= 2
    return [duration * part / parts for part in range(parts)]


class _Segment(NamedTuple):
    """One decoder over a stretch of the video: it picks in the restart windows first to end - 1
    (end None: to the video's end; window k starts at restarts[k]), and stops at the first frame
    of window end."""

    container: Any
    stream: Any
    packets: Iterator  # the stream's packets from the keyframe the segment starts at
    first: int
    end: int | None


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


def _segments(path: Path, settings: Settings, alone: bool,
              opened: ExitStack) -> tuple[list[_Segment], float, float, list[float]]:
    """(the segments the video is decoded in, its duration from the header (0 if unknown), the
    sampling interval, the restart points: _restarts). One segment unless the video is decoded
    alone and has restart points: then up to decode_workers() segments, each starting at the
    keyframe at or before the restart point nearest to its share of the video. A split point whose
    keyframe lies at or before the previous segment's start is dropped."""
    container, stream = _open_video_stream(path, settings)
    opened.enter_context(container)
    duration = _duration(container, stream)
    if duration > settings.max_seconds:
        raise MediaError(f"the video lasts {duration:.0f} s, more than the {settings.max_seconds:.0f} s allowed",
                         code=ErrorCode.MEDIA_TOO_LONG)
    interval = frame_sampling_interval(duration, settings.sample_fps, settings.max_frames)
    restarts = _restarts(duration)
    parts = min(decode_workers(), len(restarts)) if alone else 1
    starts = [(container, stream, _packets(container, stream, settings), 0)]
    for window in sorted({round(part * len(restarts) / parts) for part in range(1, parts)}):
        found = _keyframe_at_or_before(path, settings, restarts[window])
        if found is None:
            continue
        opened.enter_context(found[0])
        if found[3] > restarts[starts[-1][3]]:
            starts.append((*found[:3], window))
    segments = [_Segment(container, stream, packets, first, following[3] if following else None)
                for (container, stream, packets, first), following in itertools.zip_longest(starts, starts[1:])]
    for segment in segments:
        segment.stream.codec_context.skip_frame = "NONREF"
        if len(segments) == 1 and alone:
            segment.stream.thread_type = "AUTO"  # not split: FFmpeg's frame threads
        else:
            segment.stream.thread_count = 1
    return segments, duration, interval, restarts


def _picked(segment: _Segment, settings: Settings, duration: float, interval: float, restarts: list[float],
            picture: Callable, stopped: threading.Event) -> Iterator[tuple[float, Any, float]]:
    """(time, picture(frame, its number in its restart window), the video's duration as known so
    far) of each frame the segment picks, as they are decoded: the first frame at or after the
    window's start, then each first frame at least one interval after the last one picked, at
    most the window's share of settings.max_frames. Ends early when stopped is set."""
    import av

    window, share, last_window = segment.first, settings.max_frames // len(restarts), len(restarts) - 1
    next_time, number = restarts[window], 0
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
            reached = bisect.bisect_right(restarts, frame.time + TIME_SLACK) - 1
            if segment.end is not None and reached >= segment.end:
                return
            if reached > window:  # past a restart point: the rule starts again from it
                window, next_time, number = reached, restarts[reached], 0
            if frame.time + TIME_SLACK < next_time:
                continue
            yield frame.time, picture(frame, number), duration or last_time
            number, next_time = number + 1, frame.time + interval
            if number >= share:  # the window's share picked: on to the next one, if any
                if window + 1 == (segment.end or last_window + 1):
                    return
                next_time = math.inf


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

    def picture(frame, number: int):
        if kept is not None:
            kept.offer(frame, number)
        return _picture(frame, settings.frame_size, params, scaled)

    def chunks(segment: _Segment) -> Iterator[SampledFrames]:
        picks = _picked(segment, settings, duration, interval, restarts, picture, stopped)
        for chunk in itertools.batched(picks, chunk_frames):
            times, pictures, durations = zip(*chunk)
            yield SampledFrames(timestamps=np.asarray(times, np.float32),
                                pixels=np.stack([rgb for rgb, _ in pictures]), duration=durations[-1],
                                thumbnails=np.stack([cells for _, cells in pictures]))

    picked = 0
    with _decoding_alone() as alone, ExitStack() as opened:
        segments, duration, interval, restarts = _segments(path, settings, alone, opened)
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
