"""Time limits shared by every PyAV decode (frames and sound). FFmpeg's own I/O time limit only
stops a read that waits; a file that keeps the decoder busy without ever waiting is stopped by a
deadline checked between packets (or frames), so one decode never lasts much longer than
settings.decode_timeout_s and every stage that decodes hands its result on."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from streams.config import Settings
from streams.errors import ErrorCode, MediaError

T = TypeVar("T")


def timed_out(settings: Settings) -> MediaError:
    return MediaError(f"decoding took longer than {settings.decode_timeout_s:g} s", code=ErrorCode.DECODE_TIMEOUT)


def open_container(path: Path, settings: Settings):
    """The file opened by FFmpeg with its I/O time limit set to settings.decode_timeout_s."""
    import av

    try:
        return av.open(str(path), timeout=settings.decode_timeout_s)
    except av.error.ExitError as error:  # FFmpeg's I/O time limit
        raise timed_out(settings) from error
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise MediaError(f"not a readable media file: {error}") from error


def within_time_limit(items: Iterable[T], settings: Settings) -> Iterator[T]:
    """The items of a PyAV demux or decode iterator, until settings.decode_timeout_s has passed
    since the first was asked for: then, or when FFmpeg's I/O time limit fires, decode_timeout."""
    import av

    deadline = time.monotonic() + settings.decode_timeout_s
    items = iter(items)
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except av.error.ExitError as error:
            raise timed_out(settings) from error
        yield item
        if time.monotonic() > deadline:
            raise timed_out(settings)
