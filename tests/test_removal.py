"""Takedowns on the real stack (Tansu broker, a Faust worker, SSCD descriptors, Qdrant Edge):
through the `video-removed` topic (`dupstream remove`) and through DELETE /videos/{id}, applied by
the match stage in its one order. The index-level behaviour on both engines is in test_index.py."""

import subprocess
import sys

import pytest

from tests.conftest import CACHE, REPO, free_port, running_stack
from tests.test_http_api import call


@pytest.mark.integration
def test_a_removed_root_hands_its_cluster_on_and_later_verdicts_name_the_new_root(tmp_path, samples,
                                                                                  frame_model_url):
    port = free_port()
    by_name = {sample.video_id: sample for sample in samples}
    with running_stack(tmp_path, [by_name["bunny"].path.parent, CACHE], frame_model_url,
                       web_port=str(port)) as stack:
        for video_id, sample in (("a", "bunny"), ("b", "bunny_trimmed"), ("c", "bunny_reencoded")):
            stack.publish(video_id, str(by_name[sample].path))
            stack.log.verdict(video_id, timeout=180)
        assert [stack.log.verdict(v).duplicate_of for v in "abc"] == [None, "a", "a"]

        removed = subprocess.run([sys.executable, "-m", "streams.cli", "remove", "a", "--reason", "legal takedown",
                                  "--wait", "120"], capture_output=True, text=True, env=stack.env, cwd=REPO,
                                 timeout=180)
        assert removed.returncode == 0, removed.stderr
        lines = removed.stdout.splitlines()
        assert lines[0] == "removal requested: a"
        assert lines[1].split()[:2] == ["a", "removed"]
        assert "(legal takedown)  cluster root a -> b for b, c  points deleted: frames " in lines[1]
        assert lines[1].endswith("videos 1")

        stack.publish("d", str(by_name["bunny"].path))  # the removed original, published again
        again = stack.log.verdict("d", timeout=180)
        assert (again.verdict.value, again.duplicate_of) == ("duplicate", "b")

        status, result = call(port, "/videos/a?reason=again", method="DELETE")
        assert status == 200 and result["status"] == "not_found" and result["removed_points"] == {
            "frames": 0, "audio": 0, "videos": 0}
        status, result = call(port, "/videos/c", method="DELETE")
        assert status == 200 and result["status"] == "removed" and result["cluster_id"] == "b"
        assert result["new_root"] is None and result["removed_points"]["videos"] == 1
        status, result = call(port, "/videos/not%20an%20id", method="DELETE")
        assert status == 400 and result["error"]
        status, metrics = call(port, "/metrics")
        assert 'dupstream_removals_total{status="removed"} 2.0' in metrics
        assert 'dupstream_removals_total{status="not_found"} 1.0' in metrics
        assert "dupstream_removal_repointed_total 2.0" in metrics  # b and c, when a went

    log = (tmp_path / "worker.log").read_text()
    assert "removed a from the index (legal takedown); b is the root of its cluster now" in log
    assert "video_id=a removal of a: not in the index, nothing to do" in log


def test_a_removal_event_must_name_its_video_as_its_key():
    from schemas.events import VideoRemoval
    from streams.errors import InvalidEvent
    from streams.stages.removal import intake, parse_removal

    assert parse_removal(b"a", b'{"video_id": "a", "reason": "dmca"}').reason == "dmca"
    assert parse_removal(None, b'{"video_id": "a"}').video_id == "a"
    for key, value in ((b"a", b'{"video_id": "b"}'), (b"a", b"not json"), (b"a", b'{"video_id": "a b"}')):
        with pytest.raises(InvalidEvent):
            parse_removal(key, value)
    unusable = intake(b"a", b'{"video_id": "b"}')
    assert isinstance(unusable, VideoRemoval) and unusable.video_id == "a" and unusable.status == "failed"
    assert unusable.error.code == "invalid_event" and "differs from video_id" in unusable.error.message


def test_an_unreadable_removal_on_the_joined_topic_is_logged_not_fatal(caplog):
    """The match agent applies removals inline: a foreign value must not stop it."""
    import asyncio

    from streams.app import create_app
    from streams.config import Settings
    from streams.stages.removal import apply_removal

    asyncio.run(apply_removal(create_app(Settings()), b"garbage"))
    assert "unreadable removal on the joined topic" in caplog.text
