"""The errors a video can fail with. Each has a stable code that lands on the failed verdict
and in the dead-letter topic; the message says, for a person, what was wrong."""

from __future__ import annotations


class DupstreamError(Exception):
    """Base of every error that fails one video without stopping the worker."""

    code = "internal_error"
    retriable = False

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class InvalidEvent(DupstreamError):
    code = "invalid_event"


class MediaError(DupstreamError):
    """The URI could not be opened or the media could not be decoded."""

    code = "media_unreadable"


class EmbeddingUnavailable(DupstreamError):
    """The frame model could not be reached; worth retrying."""

    code = "embedding_unavailable"
    retriable = True


class IndexUnavailable(DupstreamError):
    code = "index_unavailable"
    retriable = True


def as_error(exc: BaseException) -> DupstreamError:
    """Any exception a stage did not foresee becomes an internal error for that one video: it is
    reported, dead-lettered, and the worker goes on."""
    if isinstance(exc, DupstreamError):
        return exc
    return DupstreamError(f"{type(exc).__name__}: {exc}")
