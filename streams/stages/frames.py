"""Stage 2a: sample the video's frames, drop near-blank ones, and describe each with SSCD (on
Triton, or ONNX Runtime in-process). Mirrored frames are described too: a flipped re-upload is
found by searching with them, at the price of a second inference pass."""

from __future__ import annotations

import time

import numpy as np

from schemas.events import ErrorInfo
from schemas.internal import AcceptedVideo, FeatureHalf, FrameHalf, encode_array
from streams.app import accepted_topic, app, features_topic, settings
from streams.config import Settings
from streams.embedding import FrameEmbedder
from streams.errors import as_error
from streams.media.uri import opened_media
from streams.media.video import drop_blank_frames, sample_frames
from streams.runtime import get_runtime


def describe_frames(accepted: AcceptedVideo, embedder: FrameEmbedder, settings: Settings) -> FrameHalf:
    with opened_media(accepted.uri, settings) as path:
        sampled = sample_frames(path, settings)
    kept, dropped = drop_blank_frames(sampled, settings.blank_frame_std)
    embeddings = embedder.embed(kept.pixels)
    mirrored = embedder.embed(np.ascontiguousarray(kept.pixels[:, :, ::-1])) if settings.match_mirrored else None
    return FrameHalf(
        timestamps=[round(float(t), 3) for t in kept.timestamps],
        embeddings=encode_array(embeddings, "float16"),
        mirrored_embeddings=encode_array(mirrored, "float16") if mirrored is not None else "",
        dim=embeddings.shape[1] if len(embeddings) else 512,
        duration=round(sampled.duration, 3),
        sampled_frames=len(sampled.timestamps),
        dropped_blank_frames=dropped,
        model=embedder.model_name,
        model_version=embedder.model_version,
    )


@app.agent(accepted_topic, name="frames")
async def frames(stream):
    runtime = get_runtime()
    async for value in stream:
        accepted = AcceptedVideo.model_validate_json(value)
        started = time.perf_counter()
        half = FeatureHalf(kind="frames", accepted=accepted)
        try:
            # The embedder opens on first use, in the pool too: an unreachable Triton is retried
            # for seconds, which must not stall the event loop and with it the heartbeats.
            half.frames = await runtime.run(lambda: describe_frames(accepted, runtime.embedder, settings))
        except Exception as exc:
            error = as_error(exc)
            half.error = ErrorInfo(code=error.code, message=error.message, stage="frames",
                                   attempts=getattr(error, "attempts", 1))
        half.seconds = round(time.perf_counter() - started, 4)
        await features_topic.send(key=accepted.video_id.encode(), value=half.model_dump_json().encode())
