"""`dupstream backfill`: index an existing catalogue directly, with the stream's own per-video
functions (the frame stage's describe_frames, the audio stage's audio_half, the match stage's
match_video), in the catalogue's order, without going through Kafka.

Resumable: a video already in the index is skipped, so a run stopped halfway (Ctrl-C, a crash)
continues where it stopped. A file that fails is listed with its error code and the run goes on.
The index must have no other writer meanwhile: run it before the workers start, or with them
stopped (the match stage's one order is what makes "the earlier video" well defined)."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable, NamedTuple

from streams.config import Settings

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv", ".ts", ".3gp", ".mpg", ".mpeg", ".wmv"}


class CatalogueItem(NamedTuple):
    video_id: str
    uri: str


def _manifest_items(path: Path) -> list[CatalogueItem]:
    """A JSON manifest: {"items": [...]} or a list, each item with a video_id and a uri, or a file
    relative to the manifest (the development set's manifest is one), in `order` when given."""
    data = json.loads(path.read_text())
    rows = data["items"] if isinstance(data, dict) else data
    rows = sorted(enumerate(rows), key=lambda pair: (pair[1].get("order", pair[0]), pair[0]))
    return [CatalogueItem(row["video_id"], row.get("uri") or str((path.parent / row["file"]).resolve()))
            for _, row in rows]


def catalogue(sources: list[str]) -> list[CatalogueItem]:
    """The videos named by the command line: manifests (.json), directories (their video files,
    recursively, by path) and single files or URIs (ids from the file name, as `dupstream publish`)."""
    from streams.kafka.clients import event_for

    items = []
    for source in sources:
        path = Path(source)
        if path.suffix == ".json" and path.is_file():
            items += _manifest_items(path)
        elif path.is_dir():
            items += [CatalogueItem(event.video_id, event.uri)
                      for event in (event_for(str(file)) for file in sorted(path.rglob("*"))
                                    if file.suffix.lower() in VIDEO_SUFFIXES and file.is_file())]
        else:
            event = event_for(source)
            items.append(CatalogueItem(event.video_id, event.uri))
    return items


def accepted_video(item: CatalogueItem):
    from schemas.events import VideoPublished
    from schemas.internal import AcceptedVideo

    event = VideoPublished(video_id=item.video_id, uri=item.uri)
    return AcceptedVideo(video_id=event.video_id, uri=event.uri, accepted_at=datetime.now(UTC),
                         raw_event=base64.b64encode(event.model_dump_json().encode()).decode())


def _duration(seconds: float) -> str:
    return f"{seconds // 3600:.0f}h{seconds % 3600 // 60:02.0f}m" if seconds >= 3600 else \
        f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"


class Progress:
    """Files done, video-minutes indexed, the rate, the time left."""

    def __init__(self, total: int, show: Callable[[str], None]):
        self.total, self.show = total, show
        self.started = time.monotonic()
        self.done = self.worked = 0  # files seen; files processed (not skipped)
        self.video_seconds = 0.0

    def step(self, item: CatalogueItem, outcome: str, video_seconds: float = 0.0, worked: bool = True) -> None:
        self.done += 1
        self.worked += worked
        self.video_seconds += video_seconds
        elapsed = time.monotonic() - self.started
        rate = self.video_seconds / elapsed if elapsed else 0.0  # video-seconds per second
        left = elapsed / self.worked * (self.total - self.done) if self.worked else 0.0
        self.show(f"[{self.done}/{self.total}] {self.video_seconds / 60:.1f} video-min, {rate:.1f} video-min/min, "
                  f"ETA {_duration(left)}  {item.video_id}: {outcome}")


def backfill(settings: Settings, items: list[CatalogueItem], show: Callable[[str], None] = print,
             send_verdict: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Index every item not indexed yet, in order; the run's report (see `summary`)."""
    from streams.embedding import open_embedder
    from streams.errors import InvalidEvent, as_error
    from streams.index import open_index
    from streams.media.uri import check_uri
    from streams.stages.audio import audio_half
    from streams.stages.frames import describe_frames
    from streams.params import MatchParams
    from streams.stages.match import match_video

    progress = Progress(len(items), show)
    params = MatchParams.from_settings(settings)  # once, as a worker builds it
    indexed, skipped, bad, seen = 0, 0, [], set()
    index, embedder = open_index(settings), open_embedder(settings)
    sound = ThreadPoolExecutor(1, thread_name_prefix="backfill-audio")  # the soundtrack beside the frames
    try:
        for item in items:
            if index.get_video(item.video_id) is not None:
                skipped += 1
                progress.step(item, "already indexed", worked=False)
                continue
            started = time.perf_counter()
            try:
                if item.video_id in seen:
                    raise InvalidEvent(f"the id {item.video_id} names another file of this catalogue too")
                seen.add(item.video_id)
                accepted = accepted_video(item)
                check_uri(accepted.uri, settings)  # the stream's ingest checks: roots, hosts
                audio = sound.submit(audio_half, accepted, settings)
                frames = describe_frames(accepted, embedder, settings)
                joined = _joined(accepted, frames, audio.result(), time.perf_counter() - started)
                verdict = match_video(joined, index, params)
            except Exception as exc:
                error = as_error(exc)
                bad.append({"video_id": item.video_id, "uri": item.uri, "code": error.code, "message": error.message})
                progress.step(item, f"failed: {error.code}: {error.message}")
                continue
            indexed += 1
            if send_verdict is not None:
                send_verdict(verdict)
            progress.step(item, verdict.verdict.value + (f" of {verdict.duplicate_of}" if verdict.duplicate_of
                                                         else ""), frames.duration)
        stored = [index.get_video(video_id) for video_id in dict.fromkeys(item.video_id for item in items)]
    finally:
        sound.shutdown(cancel_futures=True)
        index.close()
        embedder.close()
    return summary([video for video in stored if video is not None], indexed, skipped, bad, progress)


def _joined(accepted, frames, audio, seconds: float):
    from schemas.internal import JoinedVideo

    return JoinedVideo(accepted=accepted, frames=frames, audio=audio, timings={"features": round(seconds, 4)})


def summary(stored: list, indexed: int, skipped: int, bad: list[dict], progress: Progress) -> dict[str, Any]:
    """What the run did, and the duplicates within the catalogue as the index has them now (so a
    resumed run reports the whole catalogue): each cluster root, which may have been indexed before
    the catalogue, with the catalogue's videos in its cluster."""
    clusters: dict[str, list[str]] = {}
    classes: dict[str, int] = {}
    for video in stored:
        verdict = json.loads(video.verdict).get("verdict", "unknown")
        classes[verdict] = classes.get(verdict, 0) + 1
        if video.cluster_id != video.video_id:
            clusters.setdefault(video.cluster_id, []).append(video.video_id)
    return {
        "files": progress.total, "indexed": indexed, "skipped": skipped, "failed": len(bad),
        "video_minutes": round(progress.video_seconds / 60, 2),
        "seconds": round(time.monotonic() - progress.started, 1),
        "verdicts": classes,
        "duplicate_clusters": [{"root": root, "duplicates": copies}
                               for root, copies in sorted(clusters.items(), key=lambda pair: -len(pair[1]))],
        "bad_files": bad,
    }


def report_table(report: dict[str, Any]) -> str:
    lines = [f"{report['files']} files: {report['indexed']} indexed, {report['skipped']} already indexed, "
             f"{report['failed']} failed; {report['video_minutes']:.1f} video-minutes in {report['seconds']:.0f} s",
             "verdicts of the catalogue's indexed videos: " + (", ".join(f"{name} {count}" for name, count in sorted(report["verdicts"].items()))
                             or "none")]
    if report["duplicate_clusters"]:
        lines += ["", f"{'cluster root':<28} {'copies':>6}  duplicates"]
        lines += [f"{c['root']:<28} {len(c['duplicates']):>6}  {', '.join(c['duplicates'])}"
                  for c in report["duplicate_clusters"]]
    if report["bad_files"]:
        lines += ["", f"{'bad file':<28} {'error':<20} uri"]
        lines += [f"{b['video_id']:<28} {b['code']:<20} {b['uri']}  ({b['message']})" for b in report["bad_files"]]
    return "\n".join(lines)


def verdict_sender(settings: Settings, topic: str) -> Callable[[Any], None]:
    """Publishes each verdict to `topic`, keyed by its video id, through one producer."""
    from streams.kafka.clients import producer, publish_raw

    client = producer(settings)

    def send(verdict) -> None:
        publish_raw(settings, [(verdict.video_id.encode(), verdict.model_dump_json().encode())], topic=topic,
                    client=client)
    return send


def run_backfill(sources: list[str], json_out: Path | None, verdict_topic: str | None, settings: Settings) -> int:
    from streams.demo import progress

    items = catalogue(sources)
    # The operator named these files: they may be read wherever they are.
    local = {Path(item.uri).resolve().parent for item in items if "://" not in item.uri}
    settings = Settings(**{**settings.model_dump(), "media_roots": [*settings.media_roots, *sorted(local)]})
    report = backfill(settings, items, progress, verdict_sender(settings, verdict_topic) if verdict_topic else None)
    progress("")
    print(report_table(report))
    if json_out:
        json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0
