"""The errors a video can fail with. Each has a stable code that lands on the failed verdict
and in the dead-letter topic; the message says, for a person, what was wrong.

`ErrorCode` is the one list of those codes (the README's list is checked against it), and every
adapter's exception (media, embedding, index, audio, Kafka) derives from `DupstreamError`."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_EVENT = "invalid_event"
    MEDIA_NOT_FOUND = "media_not_found"
    MEDIA_FORBIDDEN = "media_forbidden"
    MEDIA_EMPTY = "media_empty"
    MEDIA_TOO_LARGE = "media_too_large"
    MEDIA_TOO_LONG = "media_too_long"
    MEDIA_UNREADABLE = "media_unreadable"
    NO_VIDEO_STREAM = "no_video_stream"
    DECODE_TIMEOUT = "decode_timeout"
    FETCH_TIMEOUT = "fetch_timeout"
    EMBEDDING_UNAVAILABLE = "embedding_unavailable"
    EMBEDDING_REJECTED = "embedding_rejected"
    INDEX_UNAVAILABLE = "index_unavailable"
    INTERNAL_ERROR = "internal_error"


class DupstreamError(Exception):
    """Base of every error that fails one video without stopping the worker."""

    code = ErrorCode.INTERNAL_ERROR
    retriable = False

    def __init__(self, message: str, *, code: ErrorCode | None = None):
        super().__init__(message)
        if code is not None:
            self.code = ErrorCode(code)

    @property
    def message(self) -> str:
        return str(self)


class InvalidEvent(DupstreamError):
    code = ErrorCode.INVALID_EVENT


class MediaError(DupstreamError):
    """The URI could not be opened or the media could not be decoded."""

    code = ErrorCode.MEDIA_UNREADABLE


class EmbeddingUnavailable(DupstreamError):
    """The frame model could not be reached; worth retrying."""

    code = ErrorCode.EMBEDDING_UNAVAILABLE
    retriable = True


class IndexUnavailable(DupstreamError):
    code = ErrorCode.INDEX_UNAVAILABLE
    retriable = True


def as_error(exc: BaseException) -> DupstreamError:
    """Any exception a stage did not foresee becomes an internal error for that one video: it is
    reported, dead-lettered, and the worker goes on."""
    if isinstance(exc, DupstreamError):
        return exc
    return DupstreamError(f"{type(exc).__name__}: {exc}")
