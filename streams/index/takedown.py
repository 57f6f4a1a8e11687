"""Taking a video out of the index: its points go, and when it was the root of a duplicate
cluster the earliest remaining member takes its place, so later verdicts name a video that
still exists. Works on any VideoIndex; the match stage calls it in its one order (see
streams.stages.removal), so no match reads the index halfway through a removal. The older
generations a migration left (streams.index: generations) are taken down alike: a takedown must
not survive in the collections kept for a rollback, nor come back with a migration's catch-up."""

from __future__ import annotations

from typing import NamedTuple

from streams.index import VideoIndex


class TakeDown(NamedTuple):
    found: bool  # False: nothing was indexed under that id
    cluster_id: str | None  # the video's cluster root before the removal
    new_root: str | None  # the member that became the root, when the removed video was it
    repointed: list[str]  # the members re-pointed to new_root
    removed_points: dict[str, int]  # points deleted per collection


def take_down(index: VideoIndex, video_id: str) -> TakeDown:
    """The video out of every generation; what it did to the current one (whose clusters later
    verdicts name), with the points deleted summed over the generations."""
    done = take_down_one(index, video_id)
    removed = dict(done.removed_points)
    found = done.found
    for generation in index.generations():
        if generation.name == index.generation.name:
            continue
        other = index.open_generation(generation)
        try:
            older = take_down_one(other, video_id)
        finally:
            other.close()
        found = found or older.found
        for kind, count in older.removed_points.items():
            removed[kind] = removed.get(kind, 0) + count
    return done._replace(found=found, removed_points=removed)


def take_down_one(index: VideoIndex, video_id: str) -> TakeDown:
    """Re-point the cluster first and delete last: a removal interrupted in between leaves the
    record, so running it again (at-least-once delivery) finishes it."""
    stored = index.get_video(video_id)
    new_root, repointed = None, []
    if stored is not None and stored.cluster_id == video_id:
        members = [member.video_id for member in index.cluster_members(video_id) if member.video_id != video_id]
        if members:
            new_root, repointed = members[0], members
            index.set_cluster(repointed, new_root)
    removed = index.delete_video(video_id)
    return TakeDown(stored is not None, stored.cluster_id if stored else None, new_root, repointed, removed)
