"""`dupstream index migrate --to MODEL`: re-embed every stored video's frames with another frame
model, read again from its URI, into that model's generation of collections
(`<prefix>_<MODEL>_<digest>_*`, streams.index: generations), then point the index at it.

Each video keeps its record (id, URI, cluster root, sequence, the verdict it got) and its
soundtrack windows, rebuilt from its stored fingerprint; only its frame descriptors change. A
video already in the new generation is skipped, so a run can be stopped and started again. When
every video is in, the pointer moves (Qdrant aliases on a server, `<prefix>.current.json` on
Qdrant Edge): a process that opens the index from then on reads the new generation.

A worker keeps the generation it opened, because it embeds with its own DUPSTREAM_FRAME_MODEL and
descriptors of two models are never compared: the workers switch when they restart with the new
model (a worker started with a model other than the current generation's refuses to run, saying
so). Videos that workers still on the old model index meanwhile go to the old generation; running
the command again copies them (a run whose target is already current copies from the other
generations what the target lacks: takedowns apply to every generation, so nothing removed comes
back). The old generations stay until `--drop-old`."""

from __future__ import annotations

import sys

import numpy as np

from streams.config import Settings


def migrate_video(video_id: str, source, target, embedder, settings: Settings) -> float:
    """Re-embed one stored video into the target index; its duration in seconds. It keeps its
    sequence unless the target's workers have indexed past it (a video an old worker indexed after
    the switch): then it comes after them."""
    from schemas.events import AudioState
    from schemas.internal import decode_array
    from streams.audio.windows import stored_windows
    from streams.backfill import CatalogueItem, accepted_video
    from streams.errors import ErrorCode, MediaError
    from streams.media.uri import check_uri
    from streams.params import MatchParams
    from streams.stages.frames import describe_frames

    stored = source.get_video(video_id)
    if not stored.uri:
        raise MediaError("no URI stored with it (indexed before records kept one)", code=ErrorCode.MEDIA_NOT_FOUND)
    accepted = accepted_video(CatalogueItem(video_id, stored.uri))
    check_uri(accepted.uri, settings)
    frames = describe_frames(accepted, embedder, settings)
    if stored.audio_state == AudioState.OK and stored.audio_items:
        items = decode_array(stored.audio_items, "uint32")
        target.add_audio(video_id, *stored_windows(items, stored.audio_items_per_second,
                                                   MatchParams.from_settings(settings).audio))
    embeddings = decode_array(frames.embeddings, "float16", frames.dim).astype(np.float32)
    placed = stored._replace(sequence=max(stored.sequence, target.last_sequence() + 1))
    target.add_video(placed, np.asarray(frames.timestamps, np.float32), embeddings)
    return frames.duration


def run_migration(settings: Settings, model: str, drop_old: bool, show=print) -> int:
    from streams.index import IndexError_, generation_for, open_index

    index = open_index(settings, check_model=False)  # the current generation; inspected, not embedded into
    wanted = generation_for(settings.collection_prefix, model)
    current = index.generation
    migrated = Settings(**{**settings.model_dump(), "frame_model": model})
    target = index if current.name == wanted.name else index.open_generation(wanted)
    others = [generation for generation in index.generations() if generation.name not in (current.name, wanted.name)]
    drop_current = False
    try:
        sources = ([index] if target is not index else []) + [index.open_generation(other) for other in others]
        try:
            total, copied, failed = _migrate_all(sources, target, migrated, show)
        finally:
            for source in sources:
                if source is not index:
                    source.close()
        show("")
        counts = target.stats()
        print(f"{total} videos in {len(sources)} other generation(s), {copied} copied; {counts['videos']} in "
              f"{wanted.name}_* ({counts['frames']} frames of {model}); {len(failed)} failed"
              + (f": {', '.join(failed)}" if failed else ""))
        if failed:
            print(f"dupstream: the index stays on {current.name}_*: every video must be in the new collections "
                  "first (take a video whose file is gone out with `dupstream remove ID`)", file=sys.stderr)
            return 1
        if current.name != wanted.name:
            try:
                index.switch(wanted)
            except IndexError_ as error:  # unversioned collections on a server hold the alias names
                if not drop_old:
                    raise
                print(f"dupstream: {error}; dropping them", file=sys.stderr)
                target.open_generation(current).drop()  # a server's: its client stays open for the switch
                target.switch(wanted)
            print(f"switched {settings.collection_prefix}_* to {wanted.name}_*: restart the workers with "
                  f"DUPSTREAM_FRAME_MODEL={model}, then run this again to copy what they indexed before the restart")
        if drop_old:
            for other in others:
                index.open_generation(other).drop()
            drop_current = current.name != wanted.name
            dropped = others + ([current] if drop_current else [])
            print("dropped " + (", ".join(f"{generation.name}_*" for generation in dropped) or "nothing: no other "
                                "generation"))
    finally:
        if target is not index:
            target.close()
        if drop_current:
            index.drop()  # last: on a server it closes the client the others shared
        else:
            index.close()
    return 0


def _migrate_all(sources: list, target, settings: Settings, show) -> tuple[int, int, list[str]]:
    """Every source video not in the target yet, re-embedded, sources in order, each in its
    indexing order; (videos seen, videos copied, failed ids)."""
    from streams.backfill import CatalogueItem, Progress
    from streams.embedding import open_embedder
    from streams.errors import as_error

    embedder = open_embedder(settings)
    failed, copied = [], 0
    try:
        listed = [(source, video_id) for source in sources for video_id in source.video_ids()]
        progress = Progress(len(listed), show)
        for source, video_id in listed:
            item = CatalogueItem(video_id, "")
            if target.get_video(video_id) is not None:
                progress.step(item, "already migrated", worked=False)
                continue
            try:
                seconds = migrate_video(video_id, source, target, embedder, settings)
            except Exception as exc:
                error = as_error(exc)
                failed.append(video_id)
                progress.step(item, f"failed: {error.code}: {error.message}")
                continue
            copied += 1
            progress.step(item, "migrated", seconds)
        return len(listed), copied, failed
    finally:
        embedder.close()
