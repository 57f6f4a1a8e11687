"""All of dupstream's configuration, in one validated object.

Every field is read from an environment variable named ``DUPSTREAM_<FIELD>`` (upper case);
the README's configuration table is generated from this class (``dupstream config``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUPSTREAM_", frozen=True)

    # --- Kafka -----------------------------------------------------------------------------
    kafka_bootstrap: str = Field(
        "127.0.0.1:9092",
        description="Kafka bootstrap address host:port; `dupstream up` starts its embedded broker here.",
    )
    data_dir: Path = Field(
        Path(".dupstream"),
        description="Where the embedded stack keeps its state (Qdrant Edge shards, Faust tables, samples).",
    )
    app_id: str = Field("dupstream", description="Faust application id: the consumer group and the prefix of internal topics.")
    topic_published: str = Field("video-published", description="Input topic: one event per published video.")
    topic_verdict: str = Field("duplicate-verdict", description="Output topic: one verdict per video.")
    topic_dlq: str = Field("video-published-dlq", description="Dead-letter topic: the original event, the error, the stage.")
    topic_removed: str = Field("video-removed", description="Takedown topic: one event per video to remove from the index.")
    topic_removal_result: str = Field("video-removal-result",
                                      description="What each takedown did: removed, not_found or failed.")
    partitions: int = Field(4, ge=1, description="Partitions of the input and of the per-video internal topics.")
    replication_factor: int = Field(1, ge=1, description="Replication factor of the topics `dupstream topics create` makes.")
    retention_days: float = Field(
        7.0, gt=0, description="How long the input and the internal per-video topics keep their messages."
    )
    verdict_retention_days: float = Field(30.0, gt=0, description="How long the verdict topic keeps its messages.")
    dlq_retention_days: float = Field(
        30.0, gt=0, description="How long the dead-letter topic keeps its messages (time to look into failures)."
    )
    session_timeout_s: float = Field(
        6.0, gt=0, description="Consumer-group session timeout; group joins take about half of it (keep it short in dev)."
    )
    web_port: int = Field(6066, ge=0, le=65535, description="Port of the worker's HTTP server (metrics, API); 0 turns it off.")
    web_host: str = Field(
        "127.0.0.1", description="Address the worker's HTTP server listens on; 0.0.0.0 in a container, for Prometheus."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Worker log lines: `text` (time, level, logger, video_id=…, message) or `json` (one object "
        "a line, same fields)."
    )
    api_timeout_s: float = Field(
        300.0, gt=0, description="How long POST /check-video-duplicate waits for the verdict before answering 504."
    )

    # --- Frame stage -----------------------------------------------------------------------
    frame_model: Literal["sscd", "sscd_distilled"] = Field(
        "sscd_distilled", description="Frame descriptor: SSCD's MobileNetV4 student (the default: within 0.01 of its "
        "teacher's F1 on the validation half at about a quarter of its CPU per frame) or Meta's SSCD (ResNet-50, int8)."
    )
    triton_url: str = Field(
        "embedded",
        description=(
            "Where frames are embedded: `embedded` (start the bundled tritonserver when installed, else ONNX Runtime "
            "in-process), `onnx` (in-process only) or a Triton gRPC address host:port."
        ),
    )
    triton_timeout_s: float = Field(30.0, gt=0, description="Time limit of one Triton inference call.")
    embed_attempts: int = Field(4, ge=1, description="Tries of one embedding call before the video fails.")
    frame_size: int = Field(224, ge=64, le=512, description="Frames are resized to frame_size x frame_size before embedding.")
    sample_fps: float = Field(1.0, gt=0, le=10, description="Frames sampled per second of video.")
    max_frames: int = Field(1200, ge=1, description="At most this many frames are embedded per video (sampling thins out).")
    match_mirrored: bool = Field(True, description="Also search with horizontally flipped frames (finds mirrored copies).")
    match_region: bool = Field(True, description="Also search with the frames cropped to their active region, when a "
                               "video has one (finds picture-in-picture copies).")
    blank_frame_std: float = Field(
        10.0, ge=0, description="Frames whose luma standard deviation is below this are near-blank and dropped."
    )

    # --- Audio stage -----------------------------------------------------------------------
    min_audio_seconds: float = Field(
        3.0, ge=0, description="Less sound than this (silence judged relative to the track's loud level) is 'no "
        "usable audio': the video is judged on frames."
    )

    # --- Index -----------------------------------------------------------------------------
    qdrant_location: str = Field(
        "",
        description="Qdrant: a directory for the embedded Qdrant Edge engine or an http(s) URL of a Qdrant server; "
        "empty means <data_dir>/qdrant.",
    )
    qdrant_api_key: str = Field("", description="API key of the Qdrant server, if it needs one.")
    collection_prefix: str = Field("dupstream", description="Prefix of the Qdrant collection names.")

    # --- Matching thresholds ---------------------------------------------------------------
    # Chosen as a whole by `dupstream calibrate` on the development set's calibration half
    # (docs/evaluation.md, Calibration); streams.params.MatchParams holds the others.
    frame_neighbours: int = Field(10, ge=1, description="Nearest stored frames fetched per query frame.")
    frame_score_floor: float = Field(0.4, ge=0, le=1, description="Frame pairs below this cosine similarity are ignored.")
    visual_match_score: float = Field(
        0.4, ge=0, le=1, description="An aligned segment with at least this mean similarity is a visual match."
    )
    visual_min_aligned_frames: int = Field(2, ge=1, description="A visual match needs at least this many aligned frames.")
    audio_max_false_alarm: float = Field(
        1e-3, gt=0, le=1, description="Two soundtracks are the same recording when unrelated tracks would align as "
        "well with at most this probability (given the overlap and the hypotheses tried)."
    )
    match_params: str = Field(
        "", description="A JSON file of matching parameters, nested like streams.params.MatchParams.as_dict (what "
        "`dupstream calibrate --write` makes): it overrides the defaults as a whole; variables set explicitly win.",
    )

    # --- Input limits (hostile input) ------------------------------------------------------
    media_roots: list[Path] = Field(
        default_factory=list,
        description="Local paths must lie under one of these directories (JSON list); empty allows the working "
        "directory and data_dir only.",
    )
    http_allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts that http(s) URIs may name (JSON list); empty forbids http(s)."
    )
    http_allow_private: bool = Field(
        False,
        description="Let http(s) fetches (and their redirects) connect to loopback, private and link-local addresses.",
    )
    http_timeout_s: float = Field(120.0, gt=0, description="Time limit for fetching one http(s) video, in total.")
    max_bytes: int = Field(2 * 1024**3, ge=1, description="Largest video file accepted, in bytes.")
    max_seconds: float = Field(4 * 3600.0, gt=0, description="Longest video accepted, in seconds.")
    max_pixels: int = Field(8192 * 4320, ge=1, description="Largest frame accepted, width x height.")
    decode_timeout_s: float = Field(600.0, gt=0, description="Time limit for decoding one video.")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"expected host:port, got {value!r}")
        return value

    @cached_property
    def qdrant_path(self) -> Path | None:
        """The embedded engine's directory, or None when a Qdrant server is configured."""
        if self.qdrant_location.startswith(("http://", "https://")):
            return None
        return Path(self.qdrant_location) if self.qdrant_location else self.data_dir / "qdrant"

    @cached_property
    def allowed_media_roots(self) -> tuple[Path, ...]:
        roots = self.media_roots or [Path.cwd(), self.data_dir]
        return tuple(root.resolve() for root in roots)
