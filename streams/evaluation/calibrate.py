"""Calibrate the decision thresholds on the development set:
`python -m streams.evaluation.calibrate MANIFEST [--json OUT]` (or `dupstream calibrate`).

The videos are taken in publish order. Each one's features are computed once with the stages'
own functions (frames with SSCD in ONNX Runtime, Chromaprint), then, as the match stage does, its
frames are searched in a temporary Qdrant Edge index, aligned, its soundtrack compared with its
candidates', and it is indexed. What is recorded per video is the evidence: the aligned matches
and the soundtrack comparisons. A grid of the three decision thresholds (visual_match_score,
visual_min_aligned_frames, audio_max_false_alarm) is then swept by applying the pure
`streams.matching.decision.decide` to that evidence, and each setting is scored with
`streams.evaluation.metrics` (F1, precision, recall, false positives on hard negatives).

The approximation: the alignment runs once, with the grid's most permissive visual thresholds,
and a stricter setting keeps the recorded matches that pass it (mean similarity, aligned and
weighted frames, as alignment.align's rule 5 does). The real alignment with a stricter setting
may find slightly different segments (a rejected chain frees its hits for the next peak; a kept
one takes its whole query span). The frame search itself (frame_neighbours, frame_score_floor)
is as configured. Soundtracks, whose judgement depends on audio_max_false_alarm, are compared once per grid value, with
every candidate some grid setting would compare (streams.stages.match.soundtrack_candidates), so
each setting sees exactly the comparisons the match stage would make on those matches.
`duplicate_of` is the cluster of the matched video as decided in the same setting, as the match
stage links a duplicate to its match's cluster.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from streams.config import Settings
from streams.devset.devset import HARD_NEGATIVE_KINDS, DevItem, read_manifest
from streams.evaluation.metrics import Outcome, Scores, cell, false_positive_rate, scores
from streams.values import VisualMatch

VISUAL_MATCH_SCORES = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
VISUAL_MIN_ALIGNED_FRAMES = (1, 2, 3, 4, 5, 6, 8)
AUDIO_MAX_FALSE_ALARMS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
SHOWN_ROWS = 15


class Thresholds(NamedTuple):
    visual_match_score: float
    visual_min_aligned_frames: int
    audio_max_false_alarm: float


class QueryEvidence(NamedTuple):
    """What the match stage saw for one video, under the permissive thresholds."""

    video_id: str
    visual: list[VisualMatch]  # alignment.align's matches, best first
    by_audio: list[str]  # the audio stage's own candidates, best first (match.audio_candidates)
    audio: Mapping[float, Mapping[str, Any]]  # audio_max_false_alarm -> candidate -> its AudioMatch
    audio_state: str  # the video's own
    reference_states: Mapping[str, str]  # each compared candidate's audio state


class SweepRow(NamedTuple):
    thresholds: Thresholds
    scores: Scores
    hard_negative_false_positive_rate: float | None


def threshold_grid(defaults: Thresholds, visual_match_scores: Iterable[float] = VISUAL_MATCH_SCORES,
                   min_aligned_frames: Iterable[int] = VISUAL_MIN_ALIGNED_FRAMES,
                   audio_max_false_alarms: Iterable[float] = AUDIO_MAX_FALSE_ALARMS) -> list[Thresholds]:
    """Every combination of the values, the defaults' values included."""
    scores_ = sorted({*visual_match_scores, defaults.visual_match_score})
    frames = sorted({*min_aligned_frames, defaults.visual_min_aligned_frames})
    bers = sorted({*audio_max_false_alarms, defaults.audio_max_false_alarm})
    return [Thresholds(score, count, ber) for score in scores_ for count in frames for ber in bers]


def permissive(grid: list[Thresholds]) -> Thresholds:
    """The loosest visual thresholds of the grid (the audio one is swept by comparing again)."""
    return Thresholds(min(t.visual_match_score for t in grid), min(t.visual_min_aligned_frames for t in grid),
                      max(t.audio_max_false_alarm for t in grid))


def frames_match(match: VisualMatch, thresholds: Thresholds) -> bool:
    """As alignment.align's rule 5: mean similarity, aligned frames and weighted frames."""
    weighted = match.weighted_frames or match.aligned_frames
    return (match.score >= thresholds.visual_match_score
            and match.aligned_frames >= thresholds.visual_min_aligned_frames
            and weighted >= thresholds.visual_min_aligned_frames - 1e-9)


def compared_candidates(visual: list[VisualMatch], by_audio: list[str], grid: Iterable[Thresholds]) -> list[str]:
    """Every stored video whose soundtrack the match stage would compare under some setting."""
    from streams.stages.match import soundtrack_candidates

    compared: dict[str, None] = {}
    for visual_thresholds in {(t.visual_match_score, t.visual_min_aligned_frames) for t in grid}:
        kept = [m for m in visual if frames_match(m, Thresholds(*visual_thresholds, 0.0))]
        compared.update(dict.fromkeys(soundtrack_candidates(kept, by_audio)))
    return list(compared)


def decide_at(evidence: QueryEvidence, thresholds: Thresholds, settings: Settings):
    """The decision the match stage would reach under these thresholds (settings: the same with
    them applied)."""
    from streams.matching.decision import decide
    from streams.stages.match import soundtrack_candidates

    visual = [m for m in evidence.visual if frames_match(m, thresholds)]
    candidates = soundtrack_candidates(visual, evidence.by_audio)
    compared = evidence.audio.get(thresholds.audio_max_false_alarm, {})
    audio = {video: compared[video] for video in candidates if video in compared}
    states = {video: evidence.reference_states[video] for video in candidates if video in evidence.reference_states}
    return decide(visual, audio, evidence.audio_state, states, settings)


def with_thresholds(settings: Settings, thresholds: Thresholds) -> Settings:
    return settings.model_copy(update=thresholds._asdict())


def linked_cluster(decision, cluster: Mapping[str, str]) -> str | None:
    """duplicate_of: the cluster of the matched video, as the match stage links a duplicate."""
    return cluster.get(decision.matched_video, decision.matched_video) if decision.is_duplicate else None


def given_verdicts(evidence: list[QueryEvidence], thresholds: Thresholds,
                   settings: Settings) -> dict[str, tuple[str, str | None, str]]:
    """video id -> (verdict class, duplicate_of, reason), in publish order; a duplicate joins its
    match's cluster."""
    applied = with_thresholds(settings, thresholds)
    cluster: dict[str, str] = {}
    given = {}
    for query in evidence:
        decision = decide_at(query, thresholds, applied)
        duplicate_of = linked_cluster(decision, cluster)
        cluster[query.video_id] = duplicate_of or query.video_id
        given[query.video_id] = (decision.verdict.value, duplicate_of, decision.reason)
    return given


def sweep(items: list[DevItem], evidence: list[QueryEvidence], grid: list[Thresholds],
          settings: Settings) -> list[SweepRow]:
    from streams.evaluation.runner import outcomes

    rows = []
    for thresholds in grid:
        scored: list[Outcome] = outcomes(items, given_verdicts(evidence, thresholds, settings))
        rows.append(SweepRow(thresholds, scores(scored), false_positive_rate(scored, HARD_NEGATIVE_KINDS)))
    return rows


def _preference(row: SweepRow, defaults: Thresholds) -> tuple[float, float, bool]:
    f1 = row.scores.f1 if row.scores.f1 is not None else -1.0
    fp = row.hard_negative_false_positive_rate or 0.0
    return (-f1, fp, row.thresholds != defaults)


def ranked(rows: list[SweepRow], defaults: Thresholds) -> list[SweepRow]:
    """Best first: highest F1, then lowest false-positive rate on hard negatives, then the defaults."""
    return sorted(rows, key=lambda row: _preference(row, defaults))


def _row(row: SweepRow, label: str = "") -> str:
    t, s = row.thresholds, row.scores
    return (f"| {t.visual_match_score:.2f} | {t.visual_min_aligned_frames} | {t.audio_max_false_alarm:g} | "
            f"{cell(s.f1)} | {cell(s.precision)} | {cell(s.recall)} | "
            f"{cell(row.hard_negative_false_positive_rate)} | {s.true_positives} | {s.false_positives} | "
            f"{s.false_negatives} | {label} |")


TABLE_HEAD = ["| visual_match_score | visual_min_aligned_frames | audio_max_false_alarm | F1 | precision | recall | "
              "hard-negative FP rate | TP | FP | FN | |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]


def _label(row: SweepRow, defaults: Thresholds) -> str:
    return "defaults" if row.thresholds == defaults else ""


def format_report(rows: list[SweepRow], defaults: Thresholds, shown: int = SHOWN_ROWS) -> str:
    """The best settings, the defaults' row, each threshold varied alone and the recommendation,
    as Markdown."""
    best = ranked(rows, defaults)
    current = next(row for row in rows if row.thresholds == defaults)
    level = _preference(best[0], defaults)[:2]
    plateau = sum(_preference(row, defaults)[:2] == level for row in rows)
    lines = [f"{plateau} of {len(rows)} settings reach the best F1 with the lowest hard-negative FP rate; "
             f"the first {min(shown, len(rows))}:", "", *TABLE_HEAD]
    lines += [_row(row, _label(row, defaults)) for row in best[:shown]]
    if current not in best[:shown]:
        lines.append(_row(current, f"defaults (rank {best.index(current) + 1} of {len(best)})"))
    for name in Thresholds._fields:
        others = [field for field in Thresholds._fields if field != name]
        lines += ["", f"{name} alone (the others at their defaults):", "", *TABLE_HEAD]
        lines += [_row(row, _label(row, defaults)) for row in rows
                  if all(getattr(row.thresholds, field) == getattr(defaults, field) for field in others)]
    choice = best[0].thresholds
    same = "the current defaults" if choice == defaults else "differs from the defaults"
    lines += ["", f"recommended ({same}): DUPSTREAM_VISUAL_MATCH_SCORE={choice.visual_match_score:g} "
              f"DUPSTREAM_VISUAL_MIN_ALIGNED_FRAMES={choice.visual_min_aligned_frames} "
              f"DUPSTREAM_AUDIO_MAX_FALSE_ALARM={choice.audio_max_false_alarm:g}"]
    return "\n".join(lines)


def report_json(rows: list[SweepRow], defaults: Thresholds) -> dict[str, Any]:
    def row_json(row: SweepRow) -> dict[str, Any]:
        return {**row.thresholds._asdict(), **row.scores._asdict(),
                "hard_negative_false_positive_rate": row.hard_negative_false_positive_rate}

    best = ranked(rows, defaults)
    return {"recommended": best[0].thresholds._asdict(), "defaults": defaults._asdict(),
            "rows": [row_json(row) for row in best]}


# --- the adapter: features, the temporary index, the recorded evidence ---------------------------


def joined_video(item: DevItem, embedder, settings: Settings):
    """Both halves of one video's features, computed by the stages' functions."""
    from schemas.internal import AcceptedVideo, JoinedVideo
    from streams.stages.audio import fingerprint_audio
    from streams.stages.frames import describe_frames

    accepted = AcceptedVideo(video_id=item.video_id, uri=item.file, raw_event="", accepted_at=datetime.now(UTC))
    return JoinedVideo(accepted=accepted, frames=describe_frames(accepted, embedder, settings),
                       audio=fingerprint_audio(accepted, settings))


def record(joined, index, grid: list[Thresholds], settings: Settings) -> QueryEvidence:
    """The match stage's evidence for one video, under the grid's permissive thresholds."""
    from streams.matching.alignment import align
    from streams.stages.match import audio_candidates, compare_soundtracks, frame_hits

    loose = with_thresholds(settings, permissive(grid))
    visual = align(frame_hits(joined, index, loose), query_duration=joined.frames.duration, settings=loose)
    by_audio = audio_candidates(joined, index)
    candidates = compared_candidates(visual, by_audio, grid)
    audio, states = {}, {}
    for ber in sorted({t.audio_max_false_alarm for t in grid}):
        audio[ber], states = compare_soundtracks(joined, candidates, index,
                                                 settings.model_copy(update={"audio_max_false_alarm": ber}))
    return QueryEvidence(joined.accepted.video_id, visual, by_audio, audio, str(joined.audio.state.value),
                         {video: str(getattr(state, "value", state)) for video, state in states.items()})


def record_devset(items: list[DevItem], grid: list[Thresholds], defaults: Thresholds, settings: Settings,
                  progress=print) -> list[QueryEvidence]:
    """Every video's evidence, in publish order, each indexed after it is recorded (linked to
    its cluster as decided with the defaults) in a temporary Qdrant Edge index."""
    from streams.embedding import open_embedder
    from streams.index import open_index
    from streams.stages.match import build_verdict, index_video

    embedder = open_embedder(settings.model_copy(update={"triton_url": "onnx"}))
    evidence: list[QueryEvidence] = []
    cluster: dict[str, str] = {}
    applied = with_thresholds(settings, defaults)
    with tempfile.TemporaryDirectory(prefix="dupstream-calibrate-") as scratch:
        index = open_index(settings.model_copy(update={"qdrant_location": scratch}))
        try:
            for item in items:
                started = time.perf_counter()
                joined = joined_video(item, embedder, settings)
                query = record(joined, index, grid, settings)
                decision = decide_at(query, defaults, applied)
                duplicate_of = linked_cluster(decision, cluster)
                cluster[item.video_id] = duplicate_of or item.video_id
                index_video(joined, index, cluster[item.video_id], build_verdict(joined, decision, duplicate_of, {}))
                evidence.append(query)
                progress(f"[{item.order}/{len(items)}] {item.video_id}: {len(query.visual)} aligned matches, "
                         f"{len(query.audio[defaults.audio_max_false_alarm])} soundtracks compared "
                         f"({time.perf_counter() - started:.1f} s)")
        finally:
            index.close()
            embedder.close()
    return evidence


def defaults_of(settings: Settings) -> Thresholds:
    return Thresholds(settings.visual_match_score, settings.visual_min_aligned_frames, settings.audio_max_false_alarm)


def run_calibration(manifest: Path, json_out: Path | None = None, progress=print) -> int:
    items = read_manifest(manifest)
    base = Settings(triton_url="onnx", media_roots=sorted({str(Path(item.file).parent) for item in items}))
    defaults = defaults_of(base)
    grid = threshold_grid(defaults)
    started = time.perf_counter()
    evidence = record_devset(items, grid, defaults, base, progress)
    rows = sweep(items, evidence, grid, base)
    progress(f"{len(items)} videos recorded, {len(grid)} settings swept in {time.perf_counter() - started:.0f} s")
    progress("")
    print(format_report(rows, defaults))
    if json_out is not None:
        json_out.write_text(json.dumps({"manifest": str(manifest), **report_json(rows, defaults)}, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams.evaluation.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("manifest", type=Path, help="manifest.json of a development set")
    parser.add_argument("--json", type=Path, help="also write every setting's scores here as JSON")
    args = parser.parse_args(argv)
    from streams.demo import progress

    return run_calibration(args.manifest, args.json, progress)


if __name__ == "__main__":
    raise SystemExit(main())
