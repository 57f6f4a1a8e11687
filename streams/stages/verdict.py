"""The last stage: every video leaves through here, with a verdict on `duplicate-verdict`, and
a failed one also with its original event on the dead-letter topic."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from schemas.events import ErrorInfo, ModelInfo, Verdict, VerdictClass
from streams import __version__
from streams.errors import DupstreamError
from streams.metrics import dead_lettered, verdict_sent

if TYPE_CHECKING:
    from streams.app import Stream

log = logging.getLogger(__name__)


def model_info(frame_model: str, frame_model_version: str = "") -> ModelInfo:
    import essentia

    return ModelInfo(
        frame_model=frame_model,
        frame_model_version=frame_model_version,
        audio_feature=f"chromaprint (essentia {essentia.__version__})",
        dupstream_version=__version__,
    )


async def send_verdict(stream: Stream, verdict: Verdict) -> None:
    await stream.verdict.send(key=verdict.video_id.encode(), value=verdict.model_dump_json().encode())
    verdict_sent(verdict)
    log.info("verdict %s: %s (%s)", verdict.video_id, verdict.verdict, verdict.reason,
             extra={"video_id": verdict.video_id})


def failed_verdict(video_id: str, error: ErrorInfo, timings: dict[str, float] | None = None,
                   models: ModelInfo | None = None) -> Verdict:
    return Verdict(
        video_id=video_id,
        status="failed",
        is_duplicate=False,
        duplicate_of=None,
        duplicate_for="",
        verdict=VerdictClass.FAILED,
        reason=f"{error.stage} failed: {error.code}: {error.message}",
        error=error,
        timings=timings or {},
        models=models,
        decided_at=datetime.now(UTC),
    )


async def fail(stream: Stream, video_id: str, key: bytes | None, value: bytes, error: DupstreamError | ErrorInfo,
               stage: str, attempts: int = 1, timings: dict[str, float] | None = None,
               models: ModelInfo | None = None) -> None:
    """Dead-letter the original event (bytes untouched, error in headers) and tell moderation.
    error: a DupstreamError (stage and attempts then describe it) or the ErrorInfo a stage recorded."""
    info = error if isinstance(error, ErrorInfo) else ErrorInfo(
        code=error.code, message=error.message, stage=stage, attempts=attempts)
    headers = {
        "dupstream.error.code": info.code.encode(),
        "dupstream.error.message": info.message.encode(),
        "dupstream.error.stage": info.stage.encode(),
        "dupstream.error.attempts": str(info.attempts).encode(),
        "dupstream.error.at": datetime.now(UTC).isoformat().encode(),
        "dupstream.source.topic": stream.settings.topic_published.encode(),
    }
    await stream.dlq.send(key=key, value=value, headers=headers)
    dead_lettered(info)
    log.warning("video %s failed in %s: %s: %s", video_id, info.stage, info.code, info.message,
                extra={"video_id": video_id})
    await send_verdict(stream, failed_verdict(video_id, info, timings, models))
