"""The benchmarks' own measuring (tooling/bench): what they count, not the figures."""

import os
import subprocess
import sys
import time

from tooling.bench import burst_bench
from tooling.bench.burst_bench import tree_cpu


def test_the_cpu_of_a_process_tree_counts_its_children_by_name():
    # A child that burns 0.3 CPU seconds, then waits to be measured.
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile time.process_time() < 0.3: pass\n"
                              "time.sleep(30)"])
    try:
        deadline = time.monotonic() + 30
        while tree_cpu(child.pid)["python"] < 0.25:  # /proc counts in clock ticks
            assert time.monotonic() < deadline, "the child's CPU was never counted"
            time.sleep(0.1)
        # The parent's tree holds the child, under the child's name (the parent's own name is
        # "pytest" or "python", depending on how the tests were started), and the parent's CPU too.
        counted, of_child = tree_cpu(os.getpid()), tree_cpu(child.pid)["python"]
        assert counted["python"] >= of_child >= 0.25
        assert sum(counted.values()) > of_child
    finally:
        child.kill()
        child.wait()


def test_a_clip_is_made_once_and_never_seen_half_written(tmp_path, monkeypatch):
    made = []

    def ffmpeg(*args):
        target = args[-1]
        assert not (tmp_path / "clip.mp4").exists()  # written aside, under another name
        made.append(target)
        with open(target, "wb") as out:
            out.write(b"clip")

    monkeypatch.setattr(burst_bench, "_ffmpeg", ffmpeg)
    target = tmp_path / "clip.mp4"
    assert burst_bench._made(target, "-i", "source.mp4") == target
    assert burst_bench._made(target, "-i", "source.mp4") == target
    assert len(made) == 1 and target.read_bytes() == b"clip"
    assert [path.name for path in tmp_path.iterdir()] == ["clip.mp4"]
