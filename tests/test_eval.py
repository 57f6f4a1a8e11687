"""`dupstream eval` end to end on the small development set, through the real stream (`dupstream
up`: Tansu broker, tritonserver or ONNX Runtime, Qdrant Edge, one worker) and the PDQ baseline.
Asserts a well-formed report, not quality: the figures are the benchmark's (docs/evaluation.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tooling.devset.devset import SMALL_SET, DevItem, build_devset, read_manifest
from tooling.evaluation.runner import clusters, outcomes
from tests.conftest import CACHE, REPO


def item(order: int, video_id: str, kind: str, duplicate_of: str | None = None, contains=()) -> DevItem:
    expected = "duplicate" if duplicate_of else "unique"
    return DevItem(video_id, f"/set/{video_id}.mp4", order, expected, duplicate_of, duplicate_of, kind, "", 6.0,
                   "validation", "g", None, tuple(contains))


def test_a_pointer_is_right_only_inside_the_cluster_and_a_compilation_belongs_to_each_it_contains():
    items = [item(1, "a", "original"), item(2, "b", "original"), item(3, "a_crop", "crop", "a"),
             item(4, "ab_mix", "compilation", "a", contains=("a", "b")), item(5, "b_mirror", "mirror", "b")]
    accepted = clusters(items)
    assert accepted["a_crop"] == {"a", "a_crop", "ab_mix"}
    assert accepted["ab_mix"] == {"a", "a_crop", "ab_mix", "b", "b_mirror"}
    assert accepted["b_mirror"] == {"b", "b_mirror", "ab_mix"}
    scored = outcomes(items, {"a_crop": ("duplicate", "b", "wrong cluster"), "b_mirror": ("duplicate", "ab_mix", "")})
    assert [o.expected_cluster for o in scored[:2]] == [frozenset(), frozenset()]
    assert scored[2].duplicate_of not in scored[2].expected_cluster
    assert scored[4].duplicate_of in scored[4].expected_cluster
    assert scored[0].verdict == "failed", "a video without a verdict has failed"


@pytest.mark.integration
@pytest.mark.timeout(400)
def test_eval_scores_every_video_of_the_small_set_for_both_systems(tmp_path):
    manifest = build_devset(tmp_path / "devset", CACHE, small=True)
    report_path = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "streams.cli", "eval", str(manifest), "--json", str(report_path)],
                          capture_output=True, text=True, timeout=360, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| overall |" in done.stdout and "seconds per video-minute" in done.stdout
    assert "## The validation half" in done.stdout and "## The whole set" in done.stdout
    assert "| < 8 s |" in done.stdout and "hard negatives called duplicate" in done.stdout

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
    validation = [item for item in items if item.split == "validation"]
    half = report["halves"]["validation"]
    assert half["videos"] == len(validation) == half["dupstream"]["overall"]["count"]
    assert set(half["dupstream"]["hard_negatives_called_duplicate"]) == {
        item.kind for item in validation if item.negative_type}
    assert sum(band["count"] for band in report["dupstream"]["per_length_band"].values()) == len(items)
