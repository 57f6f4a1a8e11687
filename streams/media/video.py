"""Sample a video's frames at a steady rate, decoding no more than needed.

Non-reference frames (most B-frames) are never decoded: sampling ~1 frame per second does not
need them, and skipping them roughly halves H.264/HEVC decode time. Only the picked frames are
converted, straight to the embedder's working size in one libswscale call. A corrupt packet is
skipped, not fatal: some real files have one."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
    time on two cores, and the pixels are the same."""

    def __init__(self):
        self._reformatters: dict[tuple[int, int, str], Any] = {}

    def __call__(self, frame, width: int, height: int, format: str) -> np.ndarray:
        from av.video.reformatter import VideoReformatter

        reformatter = self._reformatters.setdefault((width, height, format), VideoReformatter())
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
    is kept, so that the kept ones stay evenly spread over the video. With cap 0 none is kept:
    only the frames' size is noted. scaled: a Scaler, or a stand-in with its call."""

    def __init__(self, cap: int, short_side: int, scaled: Callable[..., np.ndarray] | None = None):
        self.cap, self.short_side = cap, short_side
        self._scaled = scaled or Scaler()
        self.times: list[float] = []
        self.pictures: list[np.ndarray] = []
        self.width = self.height = 0  # of the decoded frames
        self._stride, self._offered = 1, 0

    def offer(self, frame) -> None:
        self.width, self.height = frame.width, frame.height
        if self.cap and self._offered % self._stride == 0:
            scale = min(1.0, self.short_side / max(1, min(frame.width, frame.height)))
            width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
            self.times.append(frame.time)
            self.pictures.append(self._scaled(frame, width, height, "rgb24"))
        self._offered += 1
        if self.cap and len(self.times) >= 2 * self.cap:
            self.times, self.pictures, self._stride = self.times[::2], self.pictures[::2], 2 * self._stride

    @property
    def portrait(self) -> bool | None:
        """Whether the frames are taller than wide (None when square or none was offered)."""
        if self.width == self.height:
            return None
        return self.height > self.width

    def cropped(self, region: Region, size: int) -> SampledFrames:
        """The kept frames cut to the region (shares of the whole frame), as uint8 RGB size x size."""
        import cv2

        pictures = []
        for picture in self.pictures:
            height, width = picture.shape[:2]
            top, left = int(region.top * height), int(region.left * width)
            rows = slice(top, max(int(region.bottom * height), top + 1))
            columns = slice(left, max(int(region.right * width), left + 1))
            pictures.append(cv2.resize(picture[rows, columns], (size, size), interpolation=cv2.INTER_AREA))
        duration = self.times[-1] if self.times else 0.0
        return SampledFrames(timestamps=np.asarray(self.times, np.float32),
                             pixels=np.stack(pictures) if pictures else np.zeros((0, size, size, 3), np.uint8),
                             duration=duration)


_decoding = 0  # videos being decoded in this process now
_decoding_lock = threading.Lock()


@contextmanager
def _decoder_threads(stream):
    """FFmpeg's own threads for a video decoded alone (a long video's picture comes sooner), one
    thread when another video is being decoded beside it: in a burst the frames stages keep both
    cores busy with two videos, and frame threads only add their own cost (about a tenth of the
    decode's CPU, `dupstream bench profile`)."""
    global _decoding
    with _decoding_lock:
        alone = _decoding == 0
        _decoding += 1
    if alone:
        stream.thread_type = "AUTO"
    else:
        stream.thread_count = 1
    try:
        yield
    finally:
        with _decoding_lock:
            _decoding -= 1


def _picked(path: Path, settings: Settings, picture: Callable) -> Iterator[tuple[float, Any, float]]:
    """(time, picture(frame), the video's duration as known so far) of each picked frame: frames at
    settings.sample_fps (fewer for long videos: at most settings.max_frames), as they are decoded.
    The same frames on every call."""
    import av

    container, stream = _open_video_stream(path, settings)
    with container, _decoder_threads(stream):
        duration = _duration(container, stream)
        if duration > settings.max_seconds:
            raise MediaError(f"the video lasts {duration:.0f} s, more than the {settings.max_seconds:.0f} s allowed",
                             code=ErrorCode.MEDIA_TOO_LONG)
        interval = frame_sampling_interval(duration, settings.sample_fps, settings.max_frames)
        stream.codec_context.skip_frame = "NONREF"
        picked = 0
        next_time = 0.0
        bad_in_a_row = 0
        last_time = 0.0
        for packet in _packets(container, stream, settings):
            try:
                frames = packet.decode()
                bad_in_a_row = 0
            except av.error.FFmpegError:
                bad_in_a_row += 1
                if bad_in_a_row > MAX_CONSECUTIVE_BAD_PACKETS:
                    break
                continue
            for frame in frames:
                if frame.time is None:
                    continue
                last_time = max(last_time, frame.time)
                if last_time > settings.max_seconds:  # the header did not say how long it is
                    raise MediaError(f"the video lasts more than the {settings.max_seconds:g} s allowed",
                                     code=ErrorCode.MEDIA_TOO_LONG)
                if frame.time + 1e-3 < next_time:
                    continue
                yield frame.time, picture(frame), duration or last_time
                picked += 1
                next_time = frame.time + interval
                if picked >= settings.max_frames:
                    return
    if not picked:
        raise MediaError("no frame could be decoded", code=ErrorCode.MEDIA_UNREADABLE)


def frame_chunks(path: Path, settings: Settings, params: MatchParams | None = None, kept: KeptFrames | None = None,
                 chunk_frames: int = CHUNK_FRAMES) -> Iterator[SampledFrames]:
    """sample_frames' frames in consecutive chunks, each as soon as it is decoded: decoding a
    stream is mostly serial, so the embedder can describe one chunk on the other core meanwhile.
    kept, when given, is offered every sampled frame (KeptFrames)."""
    params = params or MatchParams.from_settings(settings)
    scaled = Scaler()

    def picture(frame):
        if kept is not None:
            kept.offer(frame)
        return _picture(frame, settings.frame_size, params, scaled)

    for chunk in itertools.batched(_picked(path, settings, picture), chunk_frames):
        times, pictures, durations = zip(*chunk)
        yield SampledFrames(timestamps=np.asarray(times, np.float32), pixels=np.stack([rgb for rgb, _ in pictures]),
                            duration=durations[-1], thumbnails=np.stack([cells for _, cells in pictures]))


def joined(chunks: list[SampledFrames]) -> SampledFrames:
    """Consecutive chunks of one video as one."""
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
