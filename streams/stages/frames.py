"""Stage 2a: sample the video's frames, drop near-blank ones, and describe each with SSCD (on
Triton, or ONNX Runtime in-process). Further views are described too, each searched like the plain
one at the price of another inference pass:
- mirrored frames (a flipped re-upload);
- turned frames (a rotated re-post; the store holds plain frames only): a vertical upload is
  searched turned by 90 and 270 degrees in full (a landscape original turned on its side), the
  other turns on every third frame in turn (a third of a pass each, one pass for a landscape
  upload's three), each on more frames in a clip too short to leave it enough for a line
  (MatchParams.views);
- the frames cut to each region worth searching on its own (a picture-in-picture inset, the halves
  of a split screen, the sharp centre of a blurred fill: streams.media.region), cut from whole
  frames kept while decoding, not from a second decode. A video without such regions pays only
  for finding that it has none."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from schemas.events import ErrorInfo
from schemas.internal import AcceptedVideo, FeatureHalf, FrameHalf, FrameView, encode_array
from streams.config import Settings
from streams.embedding import FrameEmbedder
from streams.errors import as_error
from streams.media.region import active_regions
from streams.media.uri import opened_media
from streams.media.video import KeptFrames, drop_blank_frames, frame_chunks
from streams.params import MatchParams, ViewParams, frame_sampling_interval
from streams.values import SampledFrames
from streams.wire import encode_half

if TYPE_CHECKING:
    from streams.app import Stream


class DescribedChunk(NamedTuple):
    timestamps: np.ndarray  # of the kept (not blank) frames
    dropped: int  # near-blank frames left out
    embeddings: np.ndarray
    mirrored: np.ndarray | None
    turned: dict[int, tuple[np.ndarray, np.ndarray]]  # rotation -> (timestamps, embeddings)


def rotation_plan(portrait: bool | None, expected_frames: float, views: ViewParams) -> dict[int, tuple[int, int]]:
    """Rotation (degrees clockwise) -> (step, phase): the turn is searched on the sampled frames
    whose number n (in sampling steps from the start) has n % step == phase. The turns that undo
    the likely rotation for the upload's shape are views.likely_step frames apart (1: every frame),
    the other turns views.sparse_step apart in turn (three turns three apart: one pass together);
    a group spreads less where that would leave a turn fewer than views.sparse_min_frames frames.
    Disjoint frames cost no evidence elsewhere: each view's line is weighed by its own hits
    (streams.matching.alignment.view_weights)."""
    likely = list(views.portrait_rotations if portrait else views.landscape_rotations if portrait is False else ())
    others = [rotation for rotation in views.sparse_rotations if rotation not in likely]
    plan = {}
    for group, widest in ((likely, views.likely_step), (others, views.sparse_step)):
        step = max(1, min(widest, int(expected_frames // views.sparse_min_frames)))
        plan.update({rotation: (step, number % step) for number, rotation in enumerate(group)})
    return plan


def turned(pixels: np.ndarray, rotation: int) -> np.ndarray:
    """uint8 [N, S, S, 3] frames turned clockwise by rotation degrees. The frames are squeezed to a
    square before: turning the square is turning the picture, squeezed the same way."""
    return np.ascontiguousarray(np.rot90(pixels, k=-(rotation // 90), axes=(1, 2)))


def describe_chunk(chunk: SampledFrames, embedder: FrameEmbedder, settings: Settings,
                   plan: dict[int, tuple[int, int]] | None = None) -> DescribedChunk:
    """The chunk's kept frames described in every view with one call of the model: one batch as
    large as the views together keeps the server's batches full for a short clip too."""
    kept, dropped = drop_blank_frames(chunk, settings.blank_frame_std)
    interval = frame_sampling_interval(chunk.duration, settings.sample_fps, settings.max_frames)
    number = np.round(kept.timestamps / interval).astype(int)
    picked = {rotation: number % step == phase for rotation, (step, phase) in (plan or {}).items()}
    pixels = [kept.pixels] + ([kept.pixels[:, :, ::-1]] if settings.match_mirrored else [])
    pixels += [turned(kept.pixels[chosen], rotation) for rotation, chosen in picked.items()]
    described = iter(np.split(embedder.embed(np.concatenate(pixels)), np.cumsum([len(p) for p in pixels])[:-1]))
    embeddings = next(described)
    mirrored = next(described) if settings.match_mirrored else None
    views = {rotation: (kept.timestamps[chosen], next(described)) for rotation, chosen in picked.items()}
    return DescribedChunk(kept.timestamps, dropped, embeddings, mirrored, views)


def _view(timestamps: np.ndarray, embeddings: np.ndarray, rotation: int = 0, region=()) -> FrameView:
    return FrameView(rotation=rotation, region=[round(share, 4) for share in region],
                     timestamps=[round(float(t), 3) for t in timestamps],
                     embeddings=encode_array(embeddings, "float16"))


def describe_frames(accepted: AcceptedVideo, embedder: FrameEmbedder, settings: Settings,
                    params: MatchParams | None = None) -> FrameHalf:
    params = params or MatchParams.from_settings(settings)
    whole = KeptFrames(params.views.region_frames if settings.match_region else 0,
                       round(params.views.region_scale * settings.frame_size))
    with opened_media(accepted.uri, settings, readers=2) as path:  # the audio half reads it too
        # Each chunk is described on a core of its own while decoding goes on: a video decoded in
        # segments side by side hands over the chunks of every segment as they come.
        inference = ThreadPoolExecutor(1, thread_name_prefix="dupstream-describe")
        try:
            pending, duration = [], 0.0
            for chunk in frame_chunks(path, settings, params, whole):
                if any(future.done() and future.exception() for _, future, _ in pending):
                    break  # the embedder failed: result() below raises its error
                plan = rotation_plan(whole.portrait, chunk.duration * settings.sample_fps, params.views)
                pending.append((chunk.timestamps[0], inference.submit(describe_chunk, chunk, embedder, settings, plan),
                                chunk.thumbnails))
                duration = max(duration, chunk.duration)
            in_order = sorted(pending, key=lambda started: started[0])
            described = [future.result() for _, future, _ in in_order]
            thumbnails = [cells for _, _, cells in in_order]
        finally:
            # After a failure the chunks still queued would only retry an embedder that is down.
            inference.shutdown(cancel_futures=True)
    regions = active_regions(np.concatenate(thumbnails), params.region) if settings.match_region else []
    # A region's own blank frames (its fades) are dropped alone: the rest of the frame keeps the
    # whole frame from looking blank.
    cut = [drop_blank_frames(whole.cropped(region, settings.frame_size), settings.blank_frame_std)[0]
           for region in regions]
    cut_embeddings = [embedder.embed(frames.pixels) for frames in cut]
    embeddings = np.concatenate([d.embeddings for d in described])
    mirrored = np.concatenate([d.mirrored for d in described]) if settings.match_mirrored else None
    timestamps = np.concatenate([d.timestamps for d in described])
    dropped = sum(d.dropped for d in described)
    rotations = sorted({rotation for d in described for rotation in d.turned})
    views = [_view(frames.timestamps, found, region=region)
             for region, frames, found in list(zip(regions, cut, cut_embeddings))[1:]]
    views += [_view(np.concatenate([d.turned[rotation][0] for d in described if rotation in d.turned]),
                    np.concatenate([d.turned[rotation][1] for d in described if rotation in d.turned]), rotation)
              for rotation in rotations]
    return FrameHalf(
        timestamps=[round(float(t), 3) for t in timestamps],
        embeddings=encode_array(embeddings, "float16"),
        mirrored_embeddings=encode_array(mirrored, "float16") if mirrored is not None else "",
        region=[round(share, 4) for share in regions[0]] if regions else [],
        region_timestamps=[round(float(t), 3) for t in cut[0].timestamps] if regions else [],
        region_embeddings=encode_array(cut_embeddings[0], "float16") if regions else "",
        views=views,
        dim=embeddings.shape[1] if len(embeddings) else 512,
        duration=round(duration, 3),
        sampled_frames=len(timestamps) + dropped,
        dropped_blank_frames=dropped,
        model=embedder.model_name,
        model_version=embedder.model_version,
    )


def register(stream: Stream) -> None:
    runtime = stream.runtime

    # Two videos at a time: one is decoded (about one core) while the other's frames are described.
    @stream.app.agent(stream.accepted, name="frames", concurrency=2)
    async def frames(values):
        async for value in values:
            accepted = AcceptedVideo.model_validate_json(value)
            started = time.perf_counter()
            half = FeatureHalf(kind="frames", accepted=accepted)
            try:
                # The embedder opens on first use, in the pool too: an unreachable Triton is retried
                # for seconds, which must not stall the event loop and with it the heartbeats.
                half.frames = await runtime.run(lambda: describe_frames(accepted, runtime.embedder, stream.settings))
            except Exception as exc:
                error = as_error(exc)
                half.error = ErrorInfo(code=error.code, message=error.message, stage="frames",
                                       attempts=getattr(error, "attempts", 1))
            half.seconds = round(time.perf_counter() - started, 4)
            await stream.features.send(key=accepted.video_id.encode(), value=encode_half(half))
