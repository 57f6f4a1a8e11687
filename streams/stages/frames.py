"""Stage 2a: sample the video's frames, drop near-blank ones, and describe each with SSCD (on
Triton, or ONNX Runtime in-process). Mirrored frames are described too: a flipped re-upload is
found by searching with them, at the price of a second inference pass. A video whose picture
changes only inside a rectangle (a picture-in-picture inset, streams.media.region) gets a third
view: its frames decoded again and cropped to that rectangle; other videos pay only for finding
that they have none."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from schemas.events import ErrorInfo
from schemas.internal import AcceptedVideo, FeatureHalf, FrameHalf, encode_array
from streams.app import accepted_topic, app, features_topic, settings
from streams.config import Settings
from streams.embedding import FrameEmbedder
from streams.errors import as_error
from streams.media.uri import opened_media
from streams.media.region import active_region
from streams.media.video import drop_blank_frames, frame_chunks, sample_region
from streams.runtime import get_runtime
from streams.values import SampledFrames


class DescribedChunk(NamedTuple):
    timestamps: np.ndarray  # of the kept (not blank) frames
    dropped: int  # near-blank frames left out
    embeddings: np.ndarray
    mirrored: np.ndarray | None


def describe_chunk(chunk: SampledFrames, embedder: FrameEmbedder, settings: Settings) -> DescribedChunk:
    kept, dropped = drop_blank_frames(chunk, settings.blank_frame_std)
    embeddings = embedder.embed(kept.pixels)
    mirrored = embedder.embed(np.ascontiguousarray(kept.pixels[:, :, ::-1])) if settings.match_mirrored else None
    return DescribedChunk(kept.timestamps, dropped, embeddings, mirrored)


def describe_frames(accepted: AcceptedVideo, embedder: FrameEmbedder, settings: Settings) -> FrameHalf:
    with opened_media(accepted.uri, settings) as path:
        # Decoding one stream keeps about one core busy: each chunk is described on the other
        # while the next is decoded.
        inference = ThreadPoolExecutor(1, thread_name_prefix="dupstream-describe")
        try:
            pending, luma, duration = [], [], 0.0
            for chunk in frame_chunks(path, settings):
                if any(future.done() and future.exception() for future in pending):
                    break  # the embedder failed: result() below raises its error
                pending.append(inference.submit(describe_chunk, chunk, embedder, settings))
                luma.append(chunk.luma)
                duration = chunk.duration
            described = [future.result() for future in pending]
        finally:
            # After a failure the chunks still queued would only retry an embedder that is down.
            inference.shutdown(cancel_futures=True)
        region = active_region(np.concatenate(luma)) if settings.match_region else None
        # An inset's own blank frames (its fades) are dropped alone: the background keeps the
        # whole frame from looking blank.
        inset = None
        if region is not None:
            inset, _ = drop_blank_frames(sample_region(path, settings, region), settings.blank_frame_std)
    inset_embeddings = embedder.embed(inset.pixels) if inset is not None else None
    embeddings = np.concatenate([d.embeddings for d in described])
    mirrored = np.concatenate([d.mirrored for d in described]) if settings.match_mirrored else None
    timestamps = np.concatenate([d.timestamps for d in described])
    dropped = sum(d.dropped for d in described)
    return FrameHalf(
        timestamps=[round(float(t), 3) for t in timestamps],
        embeddings=encode_array(embeddings, "float16"),
        mirrored_embeddings=encode_array(mirrored, "float16") if mirrored is not None else "",
        region=[round(share, 4) for share in region] if region else [],
        region_timestamps=[round(float(t), 3) for t in inset.timestamps] if inset is not None else [],
        region_embeddings=encode_array(inset_embeddings, "float16") if inset_embeddings is not None else "",
        dim=embeddings.shape[1] if len(embeddings) else 512,
        duration=round(duration, 3),
        sampled_frames=len(timestamps) + dropped,
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
