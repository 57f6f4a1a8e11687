"""`dupstream index migrate --to MODEL`: re-embed every stored video's frames with another frame
model, read again from its URI, into collections of their own, `<base>_<MODEL>_*`, beside the
configured ones (`DUPSTREAM_COLLECTION_PREFIX`), which stay as they are.

Each video keeps its record as it is (id, URI, cluster root, sequence, the verdict it got) and its
soundtrack windows, rebuilt from its stored fingerprint; only its frame descriptors change. A
video already in the new collections is skipped, so a run can be stopped and started again, and
a second run picks up the videos the workers indexed meanwhile. Descriptors of two models are
never compared: the workers go on with the old model and the old collections until they are
restarted with both settings changed (the command prints them); `--drop-old` then deletes the old
collections (run it with the old prefix configured)."""

from __future__ import annotations

import sys
from typing import get_args

import numpy as np

from streams.config import Settings


def target_prefix(prefix: str, model: str) -> str:
    """<base>_<model>, where base is the prefix without a model suffix of an earlier migration."""
    models = sorted(get_args(Settings.model_fields["frame_model"].annotation), key=len, reverse=True)
    base = next((prefix.removesuffix(f"_{known}") for known in models if prefix.endswith(f"_{known}")), prefix)
    return f"{base}_{model}"


def migrate_video(video_id: str, source, target, embedder, settings: Settings) -> float:
    """Re-embed one stored video into the target index; its duration in seconds."""
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
    target.add_video(stored, np.asarray(frames.timestamps, np.float32), embeddings)
    return frames.duration


def run_migration(settings: Settings, model: str, drop_old: bool, show=print) -> int:
    from streams.index import open_index

    new_prefix = target_prefix(settings.collection_prefix, model)
    if new_prefix == settings.collection_prefix:
        print(f"dupstream: the configured collections ({new_prefix}_*) already are {model}'s", file=sys.stderr)
        return 2
    migrated = Settings(**{**settings.model_dump(), "frame_model": model, "collection_prefix": new_prefix})
    source, target = open_index(settings), open_index(migrated)
    try:
        video_ids, failed, counts = _migrate_all(source, target, migrated, show)
    except BaseException:
        source.close()
        raise
    dropping = drop_old and not failed
    if dropping:
        source.drop()
    else:
        source.close()
    show("")
    print(f"{len(video_ids)} videos; {counts['videos']} in {new_prefix}_* ({counts['frames']} frames of {model}); "
          f"{len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    if dropping:
        print(f"dropped {settings.collection_prefix}_*")
    elif drop_old:
        print("dupstream: the old collections stay: some videos are not migrated", file=sys.stderr)
    else:
        print(f"to switch: stop the workers, run this again (it adds the videos indexed meanwhile), start them with "
              f"DUPSTREAM_FRAME_MODEL={model} DUPSTREAM_COLLECTION_PREFIX={new_prefix}; then "
              f"`DUPSTREAM_COLLECTION_PREFIX={settings.collection_prefix} dupstream index migrate --to {model} "
              f"--drop-old` deletes the old collections")
    return 1 if failed else 0


def _migrate_all(source, target, settings: Settings, show) -> tuple[list[str], list[str], dict[str, int]]:
    """Every source video not in the target yet, re-embedded; (all ids, failed ids, target counts)."""
    from streams.backfill import CatalogueItem, Progress
    from streams.embedding import open_embedder
    from streams.errors import as_error

    embedder = open_embedder(settings)
    failed = []
    try:
        video_ids = source.video_ids()
        progress = Progress(len(video_ids), show)
        for video_id in video_ids:
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
            progress.step(item, "migrated", seconds)
        return video_ids, failed, target.stats()
    finally:
        embedder.close()
        target.close()
