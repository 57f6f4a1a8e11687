"""Taking a video out of the index: its points go, and when it was the root of a duplicate
cluster the earliest remaining member takes its place, so later verdicts name a video that
still exists. Works on any VideoIndex; the match stage calls it in its one order (see
streams.stages.removal), so no match reads the index halfway through a removal."""

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
