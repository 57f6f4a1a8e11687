"""Nothing lost: faults on the real broker and real workers (issue: delivery guarantees)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import CACHE, free_port, running_stack

pytestmark = pytest.mark.integration


def test_a_worker_killed_mid_batch_loses_no_video(tmp_path, samples, frame_model_url):
    usable = [s for s in samples if s.expected_verdict != "failed"]
    burst = [(f"burst-{n}", usable[n % len(usable)].path) for n in range(8)]
    with running_stack(tmp_path, [samples[0].path.parent, CACHE], frame_model_url) as stack:
        for video_id, path in burst:
            stack.publish(video_id, str(path))
        stack.log.verdict(burst[0][0], timeout=180)
        stack.workers[0].send_signal(signal.SIGKILL)
        stack.workers[0].wait()
        stack.start_worker()
        for video_id, _ in burst:
            stack.log.verdict(video_id, timeout=240)
        for video_id, _ in burst:
            verdicts = stack.log.verdicts[video_id]
            # Re-processed videos may be reported twice, never differently.
            assert len({(v.status, v.verdict, v.duplicate_of) for v in verdicts}) == 1, verdicts
            assert verdicts[0].status == "ok", verdicts[0].error
        assert not stack.log.dead_letters


# Restarting the broker is not among these tests: the embedded Tansu keeps its log in memory, so a
# restarted broker has no topics, no messages and no committed offsets: whatever was in flight is
# gone, and `dupstream up` creates empty topics again (the index in the data directory stays, so
# a re-published video gets the verdict it got before). Production Kafka keeps the log and the
# group's committed offsets on disk, replicated: a broker restart is a pause, after which the
# workers resume from their last committed offsets and re-process at most what was uncommitted.


def _rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    from tooling.devset.samples import ffmpeg

    clip = tmp_path_factory.mktemp("tiny") / "tiny.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=128x96:rate=5", "-t", "3", "-c:v", "libx264", str(clip))
    return clip


def _each_video_fails_and_the_worker_goes_on(stack, clip: Path, code: str, stage: str, attempts: int) -> None:
    """Two videos fail with `code` in `stage`, each with one verdict and one dead letter; a later
    event is still processed and the worker is alive."""
    failing = [f"{code}-1", f"{code}-2"]
    for video_id in failing:
        stack.publish(video_id, str(clip))
    stack.publish("missing-after", str(clip.parent / "gone.mp4"))
    for video_id in failing:
        verdict = stack.log.verdict(video_id, timeout=180)
        assert verdict.status == "failed" and verdict.error.code == code, verdict.error
        assert verdict.error.attempts == attempts and verdict.error.stage == stage
        assert dict(stack.log.dead_letter(video_id.encode()).headers())["dupstream.error.code"] == code.encode()
    assert stack.log.verdict("missing-after").error.code == "media_not_found"
    assert all(len(stack.log.verdicts[video_id]) == 1 for video_id in failing)
    assert stack.workers[0].poll() is None


def test_an_unreachable_frame_model_fails_videos_clearly_and_the_worker_goes_on(tmp_path, tiny_clip):
    dead_triton = f"127.0.0.1:{free_port()}"  # nothing listens: Triton is down for the whole test
    with running_stack(tmp_path, [tiny_clip.parent], dead_triton, embed_attempts="2") as stack:
        _each_video_fails_and_the_worker_goes_on(stack, tiny_clip, "embedding_unavailable", "frames", attempts=2)


def test_a_burst_of_200_events_is_worked_through_with_bounded_memory(tmp_path, tiny_clip, frame_model_url):
    """Every published event gets exactly its verdict; a tenth are real clips (decoded, embedded,
    matched), the rest name missing files (fail at ingest). The worker's resident memory before
    and after the burst is printed (pytest -s): a figure to watch, not a timed assertion."""
    from streams.kafka.clients import publish_raw

    burst = [(f"burst-{n}", str(tiny_clip) if n % 10 == 0 else str(tiny_clip.parent / f"missing-{n}.mp4"))
             for n in range(200)]
    with running_stack(tmp_path, [tiny_clip.parent], frame_model_url) as stack:
        stack.publish("warm-up", str(tiny_clip))  # loads the frame model and opens the index
        assert stack.log.verdict("warm-up", timeout=180).status == "ok"
        before = _rss_mib(stack.workers[0].pid)
        publish_raw(stack.settings, [(video_id.encode(), json.dumps({"video_id": video_id, "uri": uri}).encode())
                                     for video_id, uri in burst])
        for video_id, _ in burst:
            stack.log.verdict(video_id, timeout=300)
        after = _rss_mib(stack.workers[0].pid)
        print(f"\nworker RSS around a burst of {len(burst)} events: {before:.0f} MiB before, {after:.0f} MiB after")
        verdicts = {video_id: stack.log.verdicts[video_id] for video_id, _ in burst}
        assert all(len(given) == 1 for given in verdicts.values())
        real = [video_id for video_id, uri in burst if uri == str(tiny_clip)]
        assert all(verdicts[video_id][0].status == "ok" for video_id in real)
        failed = [video_id for video_id in verdicts if video_id not in real]
        assert all(verdicts[video_id][0].error.code == "media_not_found" for video_id in failed)
        assert sum(len(stack.log.dead_letters.get(video_id.encode(), [])) for video_id in failed) == len(failed)
        assert stack.workers[0].poll() is None


@pytest.mark.parametrize("unusable", ["a file where the Edge directory goes", "a Qdrant server that is down"])
def test_an_unavailable_index_fails_videos_clearly_and_the_worker_goes_on(tmp_path, tiny_clip, frame_model_url,
                                                                          unusable):
    if unusable.startswith("a file"):
        location = tmp_path / "qdrant"
        location.write_text("not a directory")
    else:
        location = f"http://127.0.0.1:{free_port()}"  # nothing listens
    with running_stack(tmp_path, [tiny_clip.parent], frame_model_url, qdrant_location=str(location)) as stack:
        # The match stage does not retry: the video fails at once and its event waits in the
        # dead-letter topic, to be re-published when the index is back.
        _each_video_fails_and_the_worker_goes_on(stack, tiny_clip, "index_unavailable", "match", attempts=1)


@pytest.fixture(scope="module")
def long_clip(media, tmp_path_factory) -> Path:
    """The 720p trailer eight times over (7 min 20 s), stream-copied: slow to process, quick to build.
    Four times over no longer outlasted the session timeout once a video decoded alone was decoded
    in segments side by side (its frame stage took 5.8 s of the 6 s)."""
    from tooling.devset.samples import ffmpeg

    clip = tmp_path_factory.mktemp("long") / "long_trailer.mp4"
    ffmpeg("-stream_loop", "7", "-i", str(media["trailer_bbb.mp4"]), "-c", "copy", str(clip))
    return clip


def test_a_video_slower_than_the_session_timeout_keeps_the_group_and_gets_one_verdict(tmp_path, long_clip, tiny_clip,
                                                                                        frame_model_url):
    """Decoding and inference run in the stage pool, so the event loop that sends heartbeats
    stays free while a video takes longer than the session timeout: one verdict, no dead letter,
    no second group join. Figures with pytest -s."""
    import urllib.request

    port = free_port()
    with running_stack(tmp_path, [long_clip.parent, tiny_clip.parent], frame_model_url, web_port=str(port)) as stack:
        stack.publish("slow", str(long_clip))
        # The worker's web server shares the event loop with the heartbeats: while the video is
        # processed, its slowest answer shows the longest the loop was held up.
        slowest, deadline = 0.0, time.monotonic() + 150
        while "slow" not in stack.log.verdicts and time.monotonic() < deadline:
            asked = time.monotonic()
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read()
            slowest = max(slowest, time.monotonic() - asked)
            time.sleep(0.2)
        verdict = stack.log.verdict("slow", timeout=1)
        print(f"\na video of 440 s at 720p: seconds per stage {verdict.timings}, session timeout "
              f"{stack.settings.session_timeout_s:g} s, slowest answer of the worker's loop {slowest:.2f} s")
        assert slowest < stack.settings.session_timeout_s / 2
        # The case under test: the video's work outlasts the session timeout.
        assert verdict.timings["frames"] > stack.settings.session_timeout_s
        assert verdict.status == "ok" and verdict.audio_state.value == "ok"
        # A later event through every stage, by when a redelivered "slow" would have shown.
        stack.publish("after-slow", str(tiny_clip))
        assert stack.log.verdict("after-slow", timeout=150).status == "ok"
        assert [v.verdict for v in stack.log.verdicts["slow"]] == [verdict.verdict]
        assert not stack.log.dead_letters
        assert stack.workers[0].poll() is None
    # One join at start, no other (aiokafka logs each join). Kafka evicts a member that misses its
    # heartbeats for the session timeout and it joins again; the embedded Tansu did not evict a
    # consumer whose event loop was blocked for 12 s in a trial, so here this only rules out a
    # rebalance from another cause, and the verdict count is what shows no second processing.
    assert stack.log_path.read_text().count("(Re-)joining group") == 1
