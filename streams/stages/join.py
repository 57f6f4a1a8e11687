"""Stage 3: wait until both halves of a video are in, then pass it on. The halves wait in a
Faust table (backed by a compacted changelog topic), so a restarted worker still has them."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from schemas.internal import FeatureHalf, JoinedVideo
from streams.stages.verdict import fail, model_info

if TYPE_CHECKING:
    from streams.app import Stream


def join_halves(frames: FeatureHalf, audio: FeatureHalf) -> JoinedVideo:
    accepted = frames.accepted
    return JoinedVideo(
        accepted=accepted,
        frames=frames.frames,
        audio=audio.audio,
        timings={"frames": frames.seconds, "audio": audio.seconds},
    )


def register(stream: Stream) -> None:
    halves = stream.halves

    @stream.app.agent(stream.features, name="join")
    async def join(events):
        async for event in events.events():
            half = FeatureHalf.model_validate_json(event.value)
            video_id = half.accepted.video_id
            waiting = dict(halves[video_id])
            waiting[half.kind] = event.value.decode()
            if set(waiting) != {"frames", "audio"}:
                halves[video_id] = waiting
                continue
            del halves[video_id]
            frames = FeatureHalf.model_validate_json(waiting["frames"])
            audio = FeatureHalf.model_validate_json(waiting["audio"])
            if frames.error is not None:
                raw = base64.b64decode(frames.accepted.raw_event)
                await fail(stream, video_id, video_id.encode(), raw, frames.error, stage="frames",
                           timings={"frames": frames.seconds}, models=model_info(stream.settings.frame_model))
                continue
            joined = join_halves(frames, audio)
            await stream.joined.send(key=video_id.encode(), value=joined.model_dump_json().encode())
