"""`dupstream eval` end to end on the small development set, through the real stream (`dupstream
up`: Tansu broker, tritonserver or ONNX Runtime, Qdrant Edge, one worker) and the PDQ baseline.
Asserts a well-formed report, not quality: the figures are the benchmark's (docs/evaluation.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from streams.devset.devset import SMALL_SET, build_devset, read_manifest
from tests.conftest import CACHE, REPO

pytestmark = pytest.mark.integration


@pytest.mark.timeout(400)
def test_eval_scores_every_video_of_the_small_set_for_both_systems(tmp_path):
    manifest = build_devset(tmp_path / "devset", CACHE, small=True)
    report_path = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "streams.cli", "eval", str(manifest), "--json", str(report_path)],
                          capture_output=True, text=True, timeout=360, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| overall |" in done.stdout and "seconds per video-minute" in done.stdout

    report = json.loads(report_path.read_text())
    items = read_manifest(manifest)
    assert report["videos"] == report["answered"] == len(items) == len(SMALL_SET)
    assert [v["video_id"] for v in report["verdicts"]] == [item.video_id for item in items]
    for system in ("dupstream", "baseline"):
        scored = report[system]
        assert scored["overall"]["count"] == len(items)
        assert sum(kind["count"] for kind in scored["per_kind"].values()) == len(items)
        assert sum(sum(row.values()) for row in scored["confusion"].values()) == len(items)
        assert set(scored["per_kind"]) == {item.kind for item in items}
        assert scored["seconds_per_video_minute"]["end_to_end"] > 0
    assert {"frames", "audio", "match", "end_to_end"} <= set(report["dupstream"]["seconds_per_video_minute"])
    assert all(v["dupstream"]["verdict"] != "failed" for v in report["verdicts"]), report["verdicts"]
    assert any(name.startswith("python") for name in report["peak_memory_mib"])
