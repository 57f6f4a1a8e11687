"""Nothing lost: faults on the real broker and real workers (issue: delivery guarantees)."""

from __future__ import annotations

import signal

import pytest

from tests.conftest import CACHE, running_stack

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
