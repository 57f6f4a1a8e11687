"""The public contract: what other teams produce to and consume from dupstream's topics.

Every topic's key is the video id (UTF-8). `python -m schemas.generate` writes the JSON Schema
of each model to schemas/json/; a test fails when the checked-in files drift from these models.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

VIDEO_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
URI_MAX_LENGTH = 4096
METADATA_MAX_BYTES = 64 * 1024


class VideoPublished(BaseModel):
    """Value of `video-published`: a video an upload service has just published."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    video_id: str = Field(pattern=VIDEO_ID_PATTERN, description="1–128 characters of [A-Za-z0-9._:-].")
    uri: str = Field(
        min_length=1,
        max_length=URI_MAX_LENGTH,
        description="Where the video is: a local path, a file:// URI or an http(s):// URL.",
    )
    published_at: datetime | None = Field(None, description="When it was published (ISO-8601).")
    metadata: dict[str, Any] | None = Field(None, description="Anything the producer wants carried along.")

    @field_validator("uri")
    @classmethod
    def _known_scheme(cls, uri: str) -> str:
        scheme, sep, _ = uri.partition("://")
        if sep and scheme.lower() not in ("file", "http", "https"):
            raise ValueError(f"unsupported URI scheme {scheme!r}: use a local path, file://, http:// or https://")
        if "\x00" in uri:
            raise ValueError("URI contains a NUL byte")
        return uri

    @field_validator("metadata")
    @classmethod
    def _bounded_metadata(cls, metadata: dict[str, Any] | None) -> dict[str, Any] | None:
        import json

        if metadata is not None and len(json.dumps(metadata, default=str)) > METADATA_MAX_BYTES:
            raise ValueError(f"metadata larger than {METADATA_MAX_BYTES} bytes")
        return metadata


class VerdictClass(StrEnum):
    DUPLICATE = "duplicate"
    UNIQUE = "unique"
    VISUAL_MATCH_DIFFERENT_AUDIO = "visual_match_different_audio"
    AUDIO_MATCH_DIFFERENT_VISUALS = "audio_match_different_visuals"
    FAILED = "failed"


class AudioState(StrEnum):
    OK = "ok"
    NO_AUDIO = "no_audio"
    TOO_LITTLE_AUDIO = "too_little_audio"
    FAILED = "failed"


class Segment(BaseModel):
    start: float = Field(description="Seconds from the start of the video.")
    end: float


class VisualEvidence(BaseModel):
    """The best visual match: open both videos at these seconds to see it."""

    video_id: str
    score: float = Field(description="Mean cosine similarity of the aligned frame pairs.")
    query_segment: Segment
    reference_segment: Segment
    offset: float = Field(description="reference_time = speed * query_time + offset.")
    speed: float
    aligned_frames: int
    mirrored: bool = False
    region: bool = Field(False, description="The query's frames matched cropped to their active region (a "
                                            "picture-in-picture inset), not whole.")
    rotation: int = Field(0, description="Degrees the query's frames were turned clockwise to match (0, 90, 180, 270).")
    distinctiveness: float | None = Field(None, description=(
        "How much better each aligned frame matches the reference on the line than the reference's frames away "
        "from it (0: a look the whole reference shares, 1: only that frame); null when the reference is too "
        "short to tell."))


class AudioEvidence(BaseModel):
    """How the soundtrack compared with the matched video's."""

    video_id: str
    same_recording: bool
    ber: float = Field(description="Bit error rate of the aligned fingerprints (0 = identical).")
    false_alarm: float | None = Field(None, description=(
        "Probability that unrelated tracks align as well, given the overlap and the hypotheses tried: the same "
        "recording when at most thresholds audio.max_false_alarm."))
    offset: float
    speed: float
    query_segment: Segment | None = None
    reference_segment: Segment | None = None
    agrees_with_frames: bool | None = Field(None, description=(
        "Whether the sound's time line (offset, speed) is the frames' within the stated tolerance "
        "(thresholds decision.co_located_*): a duplicate needs both on one time line; null when there is no "
        "frame match or the recordings differ."))


class RunnerUp(BaseModel):
    """A stored video that came close without being the match: what matched, and which thresholds it missed.
    For moderators: a verdict whose runners-up missed little is worth a look."""

    video_id: str
    short_of: list[str] = Field(description=(
        "The thresholds it missed, as 'section.field' (their values are in the verdict's thresholds): "
        "align.visual_match_score, align.visual_min_aligned_frames, align.min_distinctiveness (a look the whole "
        "reference shares, not a copy's time line), align.speed_edge_share, align.min_reference_span_share, "
        "audio.max_false_alarm (another recording), decision.co_located_offset_seconds (the same sound on another "
        "time line)."))
    visual: VisualEvidence | None = Field(None, description="Its best frame line, even below the thresholds; null "
                                                            "when none aligned.")
    audio: AudioEvidence | None = Field(None, description="Its soundtrack comparison; null when not compared.")


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_event, media_unreadable.")
    message: str
    stage: str = Field(description="The stage that failed: ingest, frames or match (an unusable soundtrack "
                                   "is not a failure: audio_state says so and the frames decide).")
    attempts: int = 1


class ModelInfo(BaseModel):
    frame_model: str
    frame_model_version: str = Field(description="The runtime that served it (ONNX Runtime, Triton and its "
                                                 "model version).")
    frame_model_digest: str = Field("", description=(
        "8 hex digits of the SHA-256 of the model's weights: the video was compared with the index generation "
        "<prefix>_<frame_model>_<frame_model_digest>_* (`dupstream index migrate`)."))
    audio_feature: str
    dupstream_version: str


class Verdict(BaseModel):
    """Value of `duplicate-verdict`: one per published video, failed ones included."""

    video_id: str
    status: Literal["ok", "failed"]
    is_duplicate: bool
    duplicate_of: str | None = Field(description="The earliest-indexed video of the matched cluster, or null.")
    duplicate_for: str = Field(description="Same as duplicate_of, '' when none (the original HTTP API's name).")
    verdict: VerdictClass
    reason: str = Field(description="One sentence: what decided, with the threshold.")
    matched_video: str | None = Field(None, description="The stored video the evidence is about.")
    visual: VisualEvidence | None = None
    audio: AudioEvidence | None = None
    runners_up: list[RunnerUp] = Field(default_factory=list, description=(
        "Other candidates that fell short of a duplicate, closest first (fewest thresholds missed), at most 3: "
        "the 'almost' a moderator reviews."))
    audio_state: AudioState | None = Field(None, description="Whether this video's soundtrack could be used.")
    thresholds: dict[str, float] = Field(default_factory=dict, description=(
        "The parameters that decided, as 'section.field' (streams.params.MatchParams)."))
    params_digest: str = Field("", description=(
        "12 hex digits naming every matching parameter that applied: verdicts with the same digest used the "
        "same rules."))
    error: ErrorInfo | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds spent per stage.")
    models: ModelInfo | None = None
    decided_at: datetime

    def needs_review(self) -> bool:
        """A verdict for a moderator's queue (`dupstream watch --review`): not a duplicate, yet a stored
        video came close: a runner-up, or a matched video under another class (same pictures, other sound;
        one track under other pictures)."""
        return self.status == "ok" and not self.is_duplicate and bool(self.runners_up or self.matched_video)


class VideoRemoved(BaseModel):
    """Value of `video-removed`: take a video out of the index (moderation, a legal takedown).
    Its frames, soundtrack windows and record go; later videos can no longer be its duplicates."""

    model_config = ConfigDict(extra="ignore")

    video_id: str = Field(pattern=VIDEO_ID_PATTERN, description="The video to remove; equal to the message key.")
    reason: str | None = Field(None, max_length=1000, description="Why, for the log and the result (optional).")
    request_id: str | None = Field(None, max_length=128, description="Echoed in the result, so a requester can "
                                                                     "find its own answer (optional).")


class RemovalStatus(StrEnum):
    REMOVED = "removed"
    NOT_FOUND = "not_found"  # nothing indexed under that id: a no-op (a removal sent twice ends here)
    FAILED = "failed"


class VideoRemoval(BaseModel):
    """Value of `video-removal-result`: what one removal did, in the order the match stage applied it."""

    video_id: str
    status: RemovalStatus
    reason: str | None = None
    request_id: str | None = None
    cluster_id: str | None = Field(None, description="The root of the video's cluster before the removal.")
    new_root: str | None = Field(None, description="When the removed video was its cluster's root: the earliest "
                                                   "remaining member, the root from now on (later verdicts name it).")
    repointed: list[str] = Field(default_factory=list, description="The members whose cluster root is now new_root.")
    removed_points: dict[str, int] = Field(default_factory=dict, description="Points deleted per collection.")
    error: ErrorInfo | None = None
    removed_at: datetime


class DeadLetterHeaders(BaseModel):
    """`video-published-dlq` carries the original event's key and value bytes untouched; these
    Kafka headers (UTF-8 values) say what went wrong."""

    error_code: str = Field(alias="dupstream.error.code")
    error_message: str = Field(alias="dupstream.error.message")
    stage: str = Field(alias="dupstream.error.stage")
    attempts: int = Field(alias="dupstream.error.attempts")
    failed_at: datetime = Field(alias="dupstream.error.at")
    source_topic: str = Field(alias="dupstream.source.topic")


PUBLIC_MODELS: dict[str, type[BaseModel]] = {
    "video-published.value": VideoPublished,
    "duplicate-verdict.value": Verdict,
    "video-published-dlq.headers": DeadLetterHeaders,
    "video-removed.value": VideoRemoved,
    "video-removal-result.value": VideoRemoval,
}
