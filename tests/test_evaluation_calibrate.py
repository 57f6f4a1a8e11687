"""The threshold sweep, on constructed evidence (pure); and the command on the small development set."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from streams.audio.match import AudioMatch
from streams.config import Settings
from streams.devset.devset import DevItem
from streams.evaluation.metrics import Scores
from streams.evaluation.calibrate import (QueryEvidence, SweepRow, Thresholds, compared_candidates, decide_at,
                                          format_report, frames_match, given_verdicts, permissive, ranked, sweep,
                                          threshold_grid)
from streams.values import Segment, VisualMatch

SETTINGS = Settings()
DEFAULTS = Thresholds(0.6, 3, 0.3)
BERS = (0.2, 0.3, 0.4)


def visual(video_id: str, score: float, frames: int, weighted: float | None = None) -> VisualMatch:
    return VisualMatch(video_id, score, Segment(0, frames), Segment(0, frames), 0.0, 1.0, frames,
                       weighted_frames=frames if weighted is None else weighted)


def sound(ber: float) -> dict[float, AudioMatch]:
    """One candidate's comparison at each grid value: the same recording when ber <= the threshold."""
    return {threshold: AudioMatch(ber <= threshold, ber, 0.0, 1.0, Segment(0, 8), Segment(0, 8)) for threshold in BERS}


def evidence(video_id: str, matches=(), audio: dict[str, float] | None = None, state: str = "ok",
             by_audio=()) -> QueryEvidence:
    audio = audio or {}
    per_ber = {threshold: {video: sound(ber)[threshold] for video, ber in audio.items()} for threshold in BERS}
    return QueryEvidence(video_id, list(matches), list(by_audio), per_ber, state, {video: "ok" for video in audio})


def item(order: int, video_id: str, kind: str, expected: str, duplicate_of: str | None = None) -> DevItem:
    return DevItem(video_id, f"/set/{video_id}.mp4", order, expected, duplicate_of, duplicate_of, kind, "", 10.0)


# "a" and its copies; a hard negative of each kind that fails only under loose thresholds.
ITEMS = [
    item(1, "a", "original", "unique"),
    item(2, "a_copy", "reencode", "duplicate", "a"),
    item(3, "a_copy_of_copy", "downscale", "duplicate", "a"),
    item(4, "a_blurred", "blur", "duplicate", "a"),
    item(5, "a_other_scene", "same_film_other_scene", "unique"),
    item(6, "a_other_talk", "same_visuals_different_audio", "visual_match_different_audio"),
]
EVIDENCE = [
    evidence("a"),
    evidence("a_copy", [visual("a", 0.9, 10)], {"a": 0.1}),
    evidence("a_copy_of_copy", [visual("a_copy", 0.85, 10), visual("a", 0.7, 6)], {"a_copy": 0.12, "a": 0.15}),
    evidence("a_blurred", [visual("a", 0.62, 4)], state="no_audio"),  # a frame match only down to 0.6
    evidence("a_other_scene", [visual("a", 0.57, 2)], state="no_audio"),  # a false match below 0.6, 3 frames
    evidence("a_other_talk", [visual("a", 0.95, 10)], {"a": 0.33}),  # "same recording" from 0.35
]
GRID = threshold_grid(DEFAULTS, (0.55, 0.65), (2, 5), BERS)


def test_the_grid_holds_every_combination_and_the_defaults():
    assert len(GRID) == 3 * 3 * 3
    assert DEFAULTS in GRID
    assert permissive(GRID) == Thresholds(0.55, 2, 0.4)


def test_a_recorded_match_passes_as_the_alignment_would_judge_it():
    assert frames_match(visual("a", 0.6, 3), DEFAULTS)
    assert not frames_match(visual("a", 0.59, 3), DEFAULTS)
    assert not frames_match(visual("a", 0.9, 2), DEFAULTS)
    assert not frames_match(visual("a", 0.9, 4, weighted=2.5), DEFAULTS)  # common frames discounted


def test_the_decision_at_the_defaults_follows_the_evidence():
    verdicts = {query.video_id: decide_at(query, DEFAULTS, SETTINGS).verdict.value for query in EVIDENCE}
    assert verdicts == {"a": "unique", "a_copy": "duplicate", "a_copy_of_copy": "duplicate", "a_blurred": "duplicate",
                        "a_other_scene": "unique", "a_other_talk": "visual_match_different_audio"}
    loose = Thresholds(0.55, 2, 0.4)
    assert decide_at(EVIDENCE[5], loose, SETTINGS.model_copy(update=loose._asdict())).is_duplicate


def test_a_copy_of_a_copy_points_at_the_original_of_the_cluster():
    given = given_verdicts(EVIDENCE, DEFAULTS, SETTINGS)
    assert given["a_copy_of_copy"][:2] == ("duplicate", "a")
    assert given["a_copy"][:2] == ("duplicate", "a")
    assert "visual_match_score 0.60" in given["a_copy"][2]


def test_the_sweep_scores_each_setting_and_recommends_the_defaults_on_a_tie():
    rows = {row.thresholds: row for row in sweep(ITEMS, EVIDENCE, GRID, SETTINGS)}
    assert (rows[DEFAULTS].scores.f1, rows[DEFAULTS].hard_negative_false_positive_rate) == (1.0, 0.0)
    too_strict = rows[Thresholds(0.65, 3, 0.3)]  # misses a_blurred
    assert too_strict.scores.false_negatives == 1 and too_strict.scores.recall == pytest.approx(2 / 3)
    too_loose = rows[Thresholds(0.55, 2, 0.4)]  # both hard negatives become duplicates
    assert too_loose.scores.false_positives == 2 and too_loose.hard_negative_false_positive_rate == 1.0
    best = ranked(list(rows.values()), DEFAULTS)
    assert best[0].thresholds == DEFAULTS  # 0.6 / 2 / 0.2 ties with it


def test_ties_on_f1_go_to_the_lower_hard_negative_false_positive_rate_then_to_the_defaults():
    def row(thresholds: Thresholds, f1: float | None, fp_rate: float | None) -> SweepRow:
        return SweepRow(thresholds, Scores(10, 4, 1, 1, 8, 0.8, 0.8, f1), fp_rate)

    rows = [row(Thresholds(0.5, 1, 0.2), 0.8, 0.5), row(Thresholds(0.7, 4, 0.3), 0.8, 0.0), row(DEFAULTS, 0.8, 0.0),
            row(Thresholds(0.9, 8, 0.4), None, None), row(Thresholds(0.55, 2, 0.3), 0.75, 0.0)]
    assert [r.thresholds for r in ranked(rows, DEFAULTS)] == [
        DEFAULTS, Thresholds(0.7, 4, 0.3), Thresholds(0.5, 1, 0.2), Thresholds(0.55, 2, 0.3), Thresholds(0.9, 8, 0.4)]


def test_soundtracks_are_compared_for_every_candidate_some_setting_would_compare():
    matches = [visual(f"v{rank}", 0.9, 10) for rank in range(5)] + [visual("weak", 0.56, 3), visual("short", 0.9, 2)]
    at_defaults = compared_candidates(matches, ["heard"], [DEFAULTS])
    assert at_defaults == ["v0", "v1", "v2", "v3", "v4", "heard"]
    everywhere = compared_candidates(matches, ["heard"], GRID)
    assert set(everywhere) == {"v0", "v1", "v2", "v3", "v4", "heard"}  # the top five stay the top five
    fewer = [visual("weak", 0.56, 3), visual("short", 0.9, 2)]
    assert set(compared_candidates(fewer, ["heard"], GRID)) == {"weak", "short", "heard"}


def test_the_report_shows_the_best_rows_the_defaults_and_the_recommendation():
    rows = sweep(ITEMS, EVIDENCE, GRID, SETTINGS)
    text = format_report(rows, DEFAULTS, shown=2)
    first = text.split("\n\n")[1]
    assert first.count("\n| 0.") == 2 and "| defaults |" in first
    assert "visual_min_aligned_frames alone (the others at their defaults):" in text
    assert text.count("| 0.60 | 3 | 0.30 |") == 4  # the best rows and each threshold's slice
    assert "recommended (the current defaults): DUPSTREAM_VISUAL_MATCH_SCORE=0.6" in text
    worse = format_report([row for row in rows if row.thresholds != Thresholds(0.6, 2, 0.2)], Thresholds(0.65, 5, 0.4),
                          shown=1)
    assert "defaults (rank " in worse and "differs from the defaults" in worse


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_the_command_calibrates_on_the_small_development_set(tmp_path):
    from streams.devset.devset import build_devset, read_manifest
    from tests.conftest import CACHE, REPO

    manifest = build_devset(tmp_path / "devset", CACHE, small=True)
    report = tmp_path / "calibration.json"
    done = subprocess.run([sys.executable, "-m", "streams.evaluation.calibrate", str(manifest), "--json", str(report)],
                          capture_output=True, text=True, timeout=170, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| defaults" in done.stdout and "recommended (" in done.stdout
    written = json.loads(report.read_text())
    assert written["defaults"] == {"visual_match_score": 0.6, "visual_min_aligned_frames": 3, "audio_same_max_ber": 0.3}
    assert all(row["count"] == len(read_manifest(manifest)) for row in written["rows"])
