"""The original service's HTTP contract, over the stream, on every worker's web server:

    POST /check-video-duplicate {"link": "...", "video_id": "..." (optional)}
      -> 200 {"is_duplicate": bool, "duplicate_for": "<earlier video id>" or "", "video_id", "verdict"}

The view publishes a `video-published` event and waits for that video's verdict. Any worker may
decide it, so each worker that serves the API reads every partition of the verdict topic (without
a consumer group), from the end, and hands each verdict to the requests waiting for its video."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from typing import TYPE_CHECKING

from mode import Service

from schemas.events import VerdictClass
from streams import __version__
from streams.config import Settings

if TYPE_CHECKING:
    from streams.app import Stream

log = logging.getLogger(__name__)

VIDEO_ID = {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,128}$"}
ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string"}, "code": {"type": "string"}, "video_id": {"type": "string"}}}


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _components() -> dict:
    """The response models' JSON Schemas, as generated for schemas/json/ (their $defs lifted)."""
    from schemas.events import VideoRemoval

    schema = VideoRemoval.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"schemas": {**schema.pop("$defs", {}), "VideoRemoval": schema}}


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "dupstream", "version": __version__,
             "description": "Is this video a duplicate of one seen before? Decided from its frames and its sound."},
    "paths": {
        "/check-video-duplicate": {
            "post": {
                "summary": "Publish a video and wait for its verdict",
                "parameters": [{"name": "timeout", "in": "query", "required": False,
                                "description": "Seconds to wait, at most DUPSTREAM_API_TIMEOUT_S",
                                "schema": {"type": "number", "exclusiveMinimum": 0}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["link"], "properties": {
                        "link": {"type": "string", "description": "Local path, file:// or http(s):// URL of the video"},
                        "video_id": {**VIDEO_ID, "description": "The video's id; default link-<sha256 of the link>"},
                    }}}}},
                "responses": {
                    "200": {"description": "The verdict", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["is_duplicate", "duplicate_for"], "properties": {
                            "is_duplicate": {"type": "boolean"},
                            "duplicate_for": {"type": "string",
                                              "description": "Id of the earliest video of its cluster; empty if none"},
                            "video_id": VIDEO_ID,
                            "verdict": {"type": "string", "enum": [str(verdict) for verdict in VerdictClass
                                                                   if verdict != VerdictClass.FAILED]},
                        }}}}},
                    "400": _error_response("The body is not JSON, or has no valid link or video_id"),
                    "422": _error_response("The video could not be checked (code: the error code of its failed verdict)"),
                    "504": _error_response("No verdict within the time limit; it is still being processed"),
                },
            }
        },
        "/videos/{video_id}": {
            "delete": {
                "summary": "Take a video out of the index (moderation, a legal takedown) and wait for the result",
                "description": "Publishes a video-removed event; the match stage applies it between two videos. "
                               "Its frames, soundtrack windows and record go; if it was the root of a duplicate "
                               "cluster, the earliest remaining member becomes the root. Idempotent: removing an "
                               "id that is not indexed answers 200 with status not_found.",
                "parameters": [
                    {"name": "video_id", "in": "path", "required": True, "schema": VIDEO_ID},
                    {"name": "reason", "in": "query", "required": False, "schema": {"type": "string"},
                     "description": "Why, carried into the result and the log"},
                    {"name": "timeout", "in": "query", "required": False,
                     "description": "Seconds to wait, at most DUPSTREAM_API_TIMEOUT_S",
                     "schema": {"type": "number", "exclusiveMinimum": 0}}],
                "responses": {
                    "200": {"description": "What the removal did (the video-removal-result value)",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VideoRemoval"}}}},
                    "400": _error_response("The video id or the timeout is invalid"),
                    "503": _error_response("The index could not be changed (code: index_unavailable); send it again"),
                    "504": _error_response("No result within the time limit; the removal is still queued"),
                },
            }
        },
        "/metrics": {"get": {"summary": "Prometheus metrics of this worker",
                             "responses": {"200": {"description": "Prometheus text format"}}}},
    },
    "components": _components(),
}


def video_id_for(link: str) -> str:
    """The same link gets the same id, so asking twice returns the first verdict again."""
    return "link-" + hashlib.sha256(link.encode()).hexdigest()[:40]


class ResultWaiter(Service):
    """Every result on a topic (verdicts, removal results) from the moment it started, handed to
    whoever waits for that video. `model`: the pydantic model of the topic's values."""

    def __init__(self, settings: Settings, topic: str, model, **kwargs):
        super().__init__(**kwargs)
        self.settings = settings
        self.topic = topic
        self.model = model
        self._waiting: dict[str, set[asyncio.Future]] = {}
        self._consumer = None

    async def on_start(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        topic = self.topic
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=None,
                                          enable_auto_commit=False)
        await self._consumer.start()
        await self._consumer.topics()  # loads the metadata partitions_for_topic reads
        partitions = [TopicPartition(topic, p) for p in sorted(self._consumer.partitions_for_topic(topic) or ())]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:  # pin the positions now: a verdict sent after this is seen
            await self._consumer.position(partition)
        self.add_future(self._read())

    async def on_stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def _read(self) -> None:
        async for message in self._consumer:
            try:
                result = self.model.model_validate_json(message.value)
            except ValueError as error:
                log.warning("unreadable value on %s at %s offset %d: %s", self.topic, message.partition,
                            message.offset, error)
                continue
            for future in self._waiting.pop(result.video_id, ()):
                if not future.done():
                    future.set_result(result)

    async def send_and_wait(self, topic, event, timeout: float):
        """Send the event (a model with a video_id, keyed by it) to topic and return the result for
        that video that follows, or None when none comes within timeout seconds."""
        video_id = event.video_id
        future = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(video_id, set())
        waiting.add(future)
        try:
            await topic.send(key=video_id.encode(), value=event.model_dump_json().encode())
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            waiting.discard(future)
            if not waiting and self._waiting.get(video_id) is waiting:
                del self._waiting[video_id]


def _timeout(request, settings: Settings) -> float:
    """The ?timeout= of a request, at most DUPSTREAM_API_TIMEOUT_S; ValueError when not a positive number."""
    timeout = min(float(request.query.get("timeout", settings.api_timeout_s)), settings.api_timeout_s)
    if not 0 < timeout < math.inf:
        raise ValueError("timeout must be a positive number of seconds")
    return timeout


def serve_api(stream: Stream) -> None:
    """POST /check-video-duplicate, DELETE /videos/{id} and GET /openapi.json on the app's web server."""
    from faust import web
    from pydantic import ValidationError

    from schemas.events import RemovalStatus, Verdict, VideoPublished, VideoRemoval, VideoRemoved

    app, settings = stream.app, stream.settings
    waiter = ResultWaiter(settings, settings.topic_verdict, Verdict)
    removals = ResultWaiter(settings, settings.topic_removal_result, VideoRemoval)
    app.service(waiter)
    app.service(removals)

    @app.page("/openapi.json")
    class OpenApi(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.json(OPENAPI)

    @app.page("/check-video-duplicate")
    class CheckVideoDuplicate(web.View):
        async def post(self, request: web.Request) -> web.Response:
            try:
                body = await request.json()
                timeout = _timeout(request, settings)
            except ValueError as error:
                return self.json({"error": f"the body must be JSON and timeout a positive number: {error}"},
                                 status=400)
            if not isinstance(body, dict) or not isinstance(body.get("link"), str):
                return self.json({"error": 'expected {"link": "<path or URL>"}'}, status=400)
            try:
                event = VideoPublished(video_id=body.get("video_id") or video_id_for(body["link"]), uri=body["link"])
            except ValidationError as error:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                return self.json({"error": problems}, status=400)
            verdict = await waiter.send_and_wait(stream.published, event, timeout)
            if verdict is None:
                return self.json({"error": f"no verdict for {event.video_id} within {timeout:g} s; it is still being "
                                           "processed: ask again later (the same link gets the same verdict)",
                                  "video_id": event.video_id}, status=504)
            if verdict.status != "ok":
                return self.json({"error": verdict.error.message, "code": verdict.error.code,
                                  "video_id": verdict.video_id}, status=422)
            return self.json({"is_duplicate": verdict.is_duplicate, "duplicate_for": verdict.duplicate_for,
                              "video_id": verdict.video_id, "verdict": str(verdict.verdict)})

    @app.page("/videos/{video_id}")
    class Video(web.View):
        async def delete(self, request: web.Request, video_id: str) -> web.Response:
            try:
                timeout = _timeout(request, settings)
                removal = VideoRemoved(video_id=video_id, reason=request.query.get("reason"))
            except ValueError as error:  # pydantic's ValidationError is one
                return self.json({"error": f"invalid video id or timeout: {error}"}, status=400)
            result = await removals.send_and_wait(stream.removed, removal, timeout)
            if result is None:
                return self.json({"error": f"no removal result for {video_id} within {timeout:g} s; it is queued "
                                           "behind the videos being matched: ask again later (removing twice is "
                                           "harmless)", "video_id": video_id}, status=504)
            if result.status == RemovalStatus.FAILED:
                return self.json({"error": result.error.message, "code": result.error.code, "video_id": video_id},
                                 status=503)
            return self.json(result.model_dump(mode="json"))
