"""The parameter sweep on constructed evidence (pure: the stream's judge with stand-in alignment
and soundtrack comparison); and the command on the small development set."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from schemas.internal import AcceptedVideo, AudioHalf, FrameHalf, JoinedVideo
from streams.audio.match import AudioMatch
from tooling.devset.devset import HARD_NEGATIVE_KINDS, DevItem
from tooling.evaluation.calibrate import (GRID, Judge, Recorded, SweepRow, chosen, format_misses, format_report,
                                          grid_settings, half_of, loosest_search, outcomes_of, overrides, sweep,
                                          trimmed)
from tooling.evaluation.metrics import Scores
from streams.index import StoredVideo
from streams.matching.alignment import frames_match
from streams.params import MatchParams
from streams.pipeline import Found
from streams.values import FrameHit, Segment, VisualMatch

# The scenarios below are written against these values, not against whatever calibration chose.
DEFAULTS = MatchParams().updated("align", visual_match_score=0.6, visual_min_aligned_frames=3).updated(
    "audio", max_false_alarm=1e-4).updated("decision", co_located_offset_seconds=1.5)
SMALL_GRID = {("align", "visual_match_score"): (0.55, 0.65), ("align", "visual_min_aligned_frames"): (2, 5),
              ("audio", "max_false_alarm"): (1e-6, 1e-2)}


def visual(video_id: str, score: float, frames: int, weighted: float | None = None) -> VisualMatch:
    return VisualMatch(video_id, score, Segment(0, frames), Segment(0, frames), 0.0, 1.0, frames,
                       weighted_frames=frames if weighted is None else weighted)


def item(order: int, video_id: str, kind: str, expected: str, duplicate_of: str | None = None) -> DevItem:
    # as the set's builder lists them: a hard negative names its type
    return DevItem(video_id, f"/set/{video_id}.mp4", order, expected, duplicate_of, duplicate_of, kind, "", 10.0,
                   negative_type=kind if kind in HARD_NEGATIVE_KINDS else None)


def joined(video_id: str, order: int, state: str) -> JoinedVideo:
    accepted = AcceptedVideo(video_id=video_id, uri=f"/set/{video_id}.mp4", raw_event="", accepted_at=datetime.now(UTC))
    return JoinedVideo(accepted=accepted, frames=FrameHalf(duration=10.0),
                       audio=AudioHalf(state=state, items="AAAAAAAAAAA=" if state == "ok" else "", items_per_second=8.0,
                                       duration=float(order), usable_seconds=10.0 if state == "ok" else 0.0))


def stored(video_id: str, order: int, state: str) -> StoredVideo:
    return StoredVideo(video_id, video_id, order, None, float(order), state, "AAAAAAAAAAA=" if state == "ok" else "", 8.0,
                       "{}")


# "a" and its copies; a hard negative of each kind that fails only under loose thresholds.
# video id -> (kind, expected, duplicate_of, audio state, matches, bit error rate per candidate)
CASES = {
    "a": ("original", "unique", None, "ok", [], {}),
    "a_copy": ("reencode", "duplicate", "a", "ok", [visual("a", 0.9, 10)], {"a": 0.1}),
    "a_copy_of_copy": ("downscale", "duplicate", "a", "ok", [visual("a_copy", 0.85, 10), visual("a", 0.7, 6)],
                       {"a_copy": 0.12, "a": 0.15}),
    "a_blurred": ("blur", "duplicate", "a", "no_audio", [visual("a", 0.62, 4)], {}),  # a frame match down to 0.6
    "a_other_scene": ("same_film_other_scene", "unique", None, "no_audio", [visual("a", 0.57, 2)], {}),
    "a_other_talk": ("same_visuals_different_audio", "visual_match_different_audio", None, "ok",
                     [visual("a", 0.95, 10)], {"a": 0.33}),  # "same recording" from a false-alarm rate of 1e-3
}
# The false-alarm probability the audio matcher would give each recorded bit error rate.
FALSE_ALARM_OF_BER = {0.1: 1e-9, 0.12: 1e-8, 0.15: 1e-7, 0.33: 1e-3}
ITEMS = [item(order, video_id, kind, expected, duplicate_of)
         for order, (video_id, (kind, expected, duplicate_of, *_)) in enumerate(CASES.items(), 1)]


def stand_in_align(found: Found, frames, frames_of, params: MatchParams) -> list[VisualMatch]:
    """What alignment.align returns: the recorded matches that pass rule 5 under params (the
    constructed hits name the query)."""
    query = found.frame_hits[0].video_id if found.frame_hits else ""
    return [match for match in CASES[query][4] if frames_match(match, params.align)] if query else []


def stand_in_compare(query, stored_print, params: MatchParams, near=None) -> AudioMatch:
    """The recorded bit error rate of the pair; the fingerprints' durations are the videos' orders."""
    query_id, candidate = ITEMS[int(query.duration) - 1].video_id, ITEMS[int(stored_print.duration) - 1].video_id
    ber = CASES[query_id][5].get(candidate, 0.5)
    false_alarm = FALSE_ALARM_OF_BER[ber] if ber in FALSE_ALARM_OF_BER else 0.5
    return AudioMatch(false_alarm <= params.audio.max_false_alarm, ber, 0.0, 1.0, Segment(0, 8), Segment(0, 8),
                      false_alarm=false_alarm, decisive=True)


def recorded_judge() -> Judge:
    recorded = [Recorded(dev, joined(dev.video_id, dev.order, CASES[dev.video_id][3]),
                         Found([FrameHit(0.0, dev.video_id, 0.0, 0.9)], [])) for dev in ITEMS]
    store = {dev.video_id: stored(dev.video_id, dev.order, CASES[dev.video_id][3]) for dev in ITEMS}
    return Judge(recorded, store, align=stand_in_align, compare=stand_in_compare)


def test_the_grid_holds_every_combination_and_the_defaults():
    settings = grid_settings(DEFAULTS, SMALL_GRID)
    assert len(settings) == 3 * 3 * 3 and DEFAULTS in settings
    # each default is among its values; a similarity bar under the search's floor is the floor's
    # setting again, and left out: of the 5 floors x 6 bars, 20 pairs have the bar at or above
    every = grid_settings(DEFAULTS)
    assert len(every) == 20 * 2 * 5 * 2 * 3
    assert all(p.align.visual_match_score >= p.search.frame_score_floor for p in every)
    loose = loosest_search(every)
    assert loose.search.frame_score_floor == 0.3 and loose.search.frame_neighbours == 10


def test_trimming_the_hits_gives_what_a_stricter_search_returns():
    hits = [FrameHit(0.0, f"v{rank}", 0.0, 0.95 - 0.05 * rank) for rank in range(6)]
    hits += [FrameHit(0.0, "m", 0.0, 0.99, mirrored=True), FrameHit(1.0, "v0", 1.0, 0.55)]
    found = Found(hits, [], audio_min_votes=3.0)
    strict = DEFAULTS.updated("search", frame_neighbours=2, frame_score_floor=0.6)
    assert sorted((h.query_time, h.video_id, h.mirrored) for h in trimmed(found, strict).frame_hits) == [
        (0.0, "m", True), (0.0, "v0", False), (0.0, "v1", False)]
    assert len(trimmed(found, DEFAULTS).frame_hits) == len(hits)
    assert trimmed(found, strict).audio_min_votes == 3.0  # the sound windows are judged as the stream does


def test_the_stream_s_judge_follows_the_evidence_and_links_clusters_in_order():
    given = recorded_judge().verdicts(DEFAULTS)
    assert {video: verdict for video, (verdict, _, _) in given.items()} == {
        "a": "unique", "a_copy": "duplicate", "a_copy_of_copy": "duplicate", "a_blurred": "duplicate",
        "a_other_scene": "unique", "a_other_talk": "visual_match_different_audio"}
    assert given["a_copy_of_copy"][1] == "a"  # a copy of a copy points at the root of its cluster
    assert "visual_match_score 0.60" in given["a_copy"][2]
    loose = DEFAULTS.updated("align", visual_match_score=0.55, visual_min_aligned_frames=2).updated(
        "audio", max_false_alarm=1e-2)
    given = recorded_judge().verdicts(loose)
    assert given["a_other_talk"][0] == "duplicate" and given["a_other_scene"][0] == "duplicate"


def test_the_sweep_chooses_the_best_f1_within_the_hard_negative_rate():
    settings = grid_settings(DEFAULTS, SMALL_GRID)
    rows = {(p.align.visual_match_score, p.align.visual_min_aligned_frames, p.audio.max_false_alarm): row
            for p, row in ((row.params, row) for row in sweep(recorded_judge(), settings, progress=lambda _: None))}
    assert (rows[0.6, 3, 1e-4].scores.f1, rows[0.6, 3, 1e-4].hard_negative_false_positive_rate) == (1.0, 0.0)
    assert rows[0.65, 3, 1e-4].scores.false_negatives == 1  # misses a_blurred
    assert rows[0.55, 2, 1e-2].hard_negative_false_positive_rate == 1.0  # both hard negatives become duplicates
    best = chosen(list(rows.values()), DEFAULTS)
    assert best[0].params == DEFAULTS  # 0.6 / 3 / 1e-6 ties with it on F1 and rate: fewer changes win


def test_a_setting_over_the_hard_negative_rate_loses_to_a_lower_f1():
    def row(params: MatchParams, f1: float, rate: float) -> SweepRow:
        return SweepRow(params, Scores(10, 4, 1, 1, 8, 0.8, 0.8, f1), rate)

    loose = DEFAULTS.updated("align", visual_match_score=0.5)
    strict = DEFAULTS.updated("align", visual_match_score=0.7)
    ranked = chosen([row(loose, 0.95, 0.1), row(strict, 0.8, 0.0), row(DEFAULTS, 0.8, 0.02)], DEFAULTS)
    assert [r.params for r in ranked] == [strict, DEFAULTS, loose]
    # when none keeps the promise, the closest to it comes first
    ranked = chosen([row(loose, 0.95, 0.3), row(strict, 0.7, 0.1), row(DEFAULTS, 0.8, 0.1)], DEFAULTS)
    assert [r.params for r in ranked] == [DEFAULTS, strict, loose]


def test_the_chosen_values_are_written_nested_like_the_params():
    written = overrides(DEFAULTS.updated("audio", max_false_alarm=1e-4))
    assert written["audio"] == {"max_false_alarm": 1e-4}
    assert MatchParams().overridden(written).audio.max_false_alarm == 1e-4
    assert set(written) == {section for section, _ in GRID}


def test_only_the_calibration_half_is_read():
    def items(*splits):
        return [SimpleNamespace(split=split, order=10 - n) for n, split in enumerate(splits)]

    half, which = half_of(items("validation", "calibration", "validation", "calibration"), "calibration")
    assert [x.order for x in half] == [7, 9] and which == "the calibration half"
    assert half_of(items(None, None), "calibration")[1].startswith("the whole set")


def test_the_report_shows_the_best_rows_the_defaults_and_the_choice():
    rows = sweep(recorded_judge(), grid_settings(DEFAULTS), progress=lambda _: None)
    text = format_report(rows, DEFAULTS, shown=2)
    assert "| align.visual_match_score |" in text and "| defaults |" in text
    assert "align.visual_max_false_alarm alone (the others at their defaults):" in text
    assert "chosen (the current defaults; F1 1.00" in text and "params digest " + DEFAULTS.digest() in text
    loose = DEFAULTS.updated("align", visual_match_score=0.55, visual_min_aligned_frames=2)
    misses = format_misses(outcomes_of(recorded_judge(), loose))
    assert misses.startswith("the choice's wrong verdicts (1 of 6):")
    assert "- a_other_scene (same_film_other_scene): expected unique, got duplicate of a: " in misses


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_the_command_calibrates_on_the_small_development_set(tmp_path):
    from tooling.devset.devset import build_devset
    from tests.conftest import CACHE, REPO

    manifest = build_devset(tmp_path / "devset", CACHE, small=True)
    report, written = tmp_path / "calibration.json", tmp_path / "params.json"
    done = subprocess.run([sys.executable, "-m", "tooling.evaluation.calibrate", str(manifest), "--json", str(report),
                           "--write", str(written)], capture_output=True, text=True, timeout=290, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| defaults" in done.stdout and "chosen (" in done.stdout
    result = json.loads(report.read_text())
    assert result["defaults"]["align"] == {name: getattr(MatchParams().align, name) for name in (
        "visual_match_score", "visual_min_aligned_frames", "visual_max_false_alarm", "min_distinctiveness")}
    assert all(row["count"] == result["videos"] for row in result["rows"])
    assert MatchParams().overridden(json.loads(written.read_text())).digest() == result["chosen_digest"]
