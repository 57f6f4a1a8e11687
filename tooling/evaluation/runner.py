"""`dupstream eval MANIFEST`: the development set through the real stream and through the
baseline, scored side by side.

The baseline runs first, alone. Then `dupstream up` starts on a fresh data directory (its own
broker port, an empty index) and the videos are published in manifest order, each after the
previous one's verdict, so that "earlier" is the manifest's order. Speed: the stages' own seconds
(the verdicts' `timings`), and end to end from publishing to receiving the verdict, per minute of
video; memory: the peak resident size of each process of the stack."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from schemas.events import VerdictClass
from tooling.devset.devset import DevItem, read_manifest
from tooling.evaluation.metrics import (Outcome, Scores, by_length_band, cell, confusion, duplicates_by_type,
                                        false_positive_rate, scores, scores_per_kind, seconds_per_video_minute,
                                        stage_totals, worst_misses)

VERDICT_TIMEOUT_S = 600.0  # one video's verdict; the first waits for models to warm up


def clusters(items: list[DevItem]) -> dict[str, frozenset[str]]:
    """For each copy, the videos a right verdict may name: its original and the original's copies,
    and every compilation containing that original's footage; a compilation may name a member of
    the cluster of any original it contains."""
    members: dict[str, set[str]] = {}
    for item in items:
        if item.expected_verdict == VerdictClass.DUPLICATE:
            for root in {item.expected_duplicate_of, *item.contains}:
                members.setdefault(root, {root}).add(item.video_id)
    return {item.video_id: frozenset().union(*(members[root] for root in {item.expected_duplicate_of, *item.contains}))
            for item in items if item.expected_verdict == VerdictClass.DUPLICATE}


def outcomes(items: list[DevItem], given: dict[str, tuple[str, str | None, str]]) -> list[Outcome]:
    """given: video_id -> (verdict class, duplicate_of, evidence); a missing video has failed."""
    accepted = clusters(items)
    return [Outcome(item.video_id, item.kind, item.expected_verdict, accepted.get(item.video_id, frozenset()),
                    *given.get(item.video_id, ("failed", None, "no verdict")), duration=item.duration,
                    negative_type=item.negative_type)
            for item in items]


def peak_memory_mib(pid: int) -> dict[str, float]:
    """Peak resident size (VmHWM) of a process and of all its descendants, by 'name[pid]'."""
    peaks: dict[str, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmHWM" in fields:
            peaks[f"{fields['Name'].strip()}[{current}]"] = int(fields["VmHWM"].split()[0]) / 1024
        pending += [int(child) for child in children]
    return peaks


def run_stream(items: list[DevItem], data_dir: Path, progress=print) -> tuple[dict, dict[str, float]]:
    """Verdicts of the stream, by video id, with the seconds from publishing to verdict added;
    and the peak memory of the stack's processes."""
    from schemas.events import VideoPublished
    from streams.demo import RunningStack, private_stack
    from streams.kafka.clients import producer, publish, read_verdicts

    settings, env = private_stack(data_dir, sorted({str(Path(item.file).parent) for item in items}))
    results: dict[str, tuple[Any, float]] = {}
    progress("starting the embedded stack (broker, frame model, index, worker) ...")
    with RunningStack(settings, env) as stack:
        verdicts = read_verdicts(settings, from_beginning=True, timeout=VERDICT_TIMEOUT_S * len(items))
        upload_service = producer(settings)  # one, like an upload service's, not one per video
        for item in items:
            progress(f"[{item.order}/{len(items)}] {item.video_id} ({item.kind}) ...")
            sent = time.monotonic()
            publish(settings, [VideoPublished(video_id=item.video_id, uri=item.file)], client=upload_service)
            verdict = next((v for v in verdicts if v.video_id == item.video_id), None)
            if verdict is None:
                progress(f"no verdict for {item.video_id}; stopping")
                break
            results[item.video_id] = (verdict, time.monotonic() - sent)
        verdicts.close()
        memory = peak_memory_mib(stack.process.pid)
    return results, memory


def _scores_json(result: Scores) -> dict[str, Any]:
    return {name: (round(value, 4) if isinstance(value, float) else value) for name, value in result._asdict().items()}


def system_report(system: list[Outcome], seconds: dict[str, float], video_seconds: float) -> dict[str, Any]:
    return {
        **scored_report(system),
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
        "seconds_per_video_minute": {name: round(value, 3) if value is not None else None
                                     for name, value in seconds_per_video_minute(seconds, video_seconds).items()},
    }


def scored_report(system: list[Outcome]) -> dict[str, Any]:
    """The quality figures of one system on some videos: overall, per kind, per length band, the
    hard negatives called duplicate by type, the confusion matrix, the worst misses."""
    return {
        "overall": _scores_json(scores(system)),
        "per_kind": {kind: _scores_json(result) for kind, result in scores_per_kind(system).items()},
        "per_length_band": {band: {**_scores_json(scores(group)),
                                   "hard_negatives_called_duplicate": duplicates_by_type(group)}
                            for band, group in by_length_band(system).items()},
        "confusion": confusion(system),
        "hard_negative_false_positive_rate": false_positive_rate(system),
        "hard_negatives_called_duplicate": duplicates_by_type(system),
        "worst_misses": [{"video_id": o.video_id, "kind": o.kind, "expected": o.expected_verdict,
                          "given": o.verdict, "duplicate_of": o.duplicate_of, "evidence": o.evidence}
                         for o in worst_misses(system)],
    }


def _evidence(verdict) -> dict[str, Any]:
    """The verdict's own evidence, for reading a miss: what matched, how well, the audio state."""
    return {"matched_video": verdict.matched_video,
            "visual_score": verdict.visual.score if verdict.visual else None,
            "aligned_frames": verdict.visual.aligned_frames if verdict.visual else None,
            "audio_ber": verdict.audio.ber if verdict.audio else None,
            "audio_state": verdict.audio_state.value if verdict.audio_state else None}


def evaluate(manifest: Path, data_dir: Path | None = None, progress=print, split: str = "validation") -> dict[str, Any]:
    """The whole run: baseline, stream, scores of both on the whole set, and again on one half of
    the split (`split`: "validation", "calibration", or "all" for none); a JSON-ready dict. The
    whole set goes through one stream: a video of one half wrongly matched to the other half is
    an error of the half it belongs to."""
    from tooling.evaluation.baseline import run_baseline

    items = read_manifest(manifest)
    video_seconds = sum(item.duration for item in items)
    progress(f"baseline (PDQ per frame, bag of frames) on {len(items)} videos ...")
    baseline = run_baseline([(item.video_id, Path(item.file)) for item in items])
    with tempfile.TemporaryDirectory(prefix="dupstream-eval-") as scratch:
        started = time.monotonic()
        stream, memory = run_stream(items, Path(data_dir or scratch), progress)
        wall = time.monotonic() - started
    ours = outcomes(items, {video_id: (v.verdict.value, v.duplicate_of,
                                       v.reason if v.status == "ok" else f"{v.error.code}: {v.error.message}")
                            for video_id, (v, _) in stream.items()})
    theirs = outcomes(items, {v.video_id: (v.verdict, v.duplicate_of, v.reason) for v in baseline})
    stream_seconds = {**stage_totals(v.timings for v, _ in stream.values()),
                      "end_to_end": sum(seconds for _, seconds in stream.values())}
    by_id = {v.video_id: v for v in baseline}
    halves = {}
    if split != "all":
        chosen = {item.video_id for item in items if item.split == split}
        halves[split] = {"videos": len(chosen), "video_seconds": round(sum(o.duration for o in ours
                                                                           if o.video_id in chosen), 2),
                         "dupstream": scored_report([o for o in ours if o.video_id in chosen]),
                         "baseline": scored_report([o for o in theirs if o.video_id in chosen])}
    return {
        "manifest": str(manifest),
        "split": split,
        "halves": halves,
        "videos": len(items),
        "answered": len(stream),
        "video_seconds": round(video_seconds, 2),
        "wall_seconds_with_start_up": round(wall, 1),
        "dupstream": system_report(ours, stream_seconds, video_seconds),
        "baseline": system_report(theirs, {"end_to_end": sum(v.seconds for v in baseline)}, video_seconds),
        "peak_memory_mib": {name: round(value, 1) for name, value in memory.items()},
        "verdicts": [{"video_id": item.video_id, "order": item.order, "kind": item.kind,
                      "expected": item.expected_verdict, "expected_duplicate_of": item.expected_duplicate_of,
                      "dupstream": {"verdict": o.verdict, "duplicate_of": o.duplicate_of, "evidence": o.evidence,
                                    **(_evidence(stream[item.video_id][0]) if item.video_id in stream else {}),
                                    "seconds": round(stream[item.video_id][1], 3) if item.video_id in stream else None,
                                    "timings": stream[item.video_id][0].timings if item.video_id in stream else {}},
                      "baseline": {"verdict": b.verdict, "duplicate_of": b.duplicate_of, "evidence": b.evidence,
                                   "seconds": round(by_id[item.video_id].seconds, 3)}}
                     for item, o, b in zip(items, ours, theirs)],
    }


def _side_by_side(ours: dict[str, Any], theirs: dict[str, Any], table: str):
    """(row, ours, theirs) for each row of one of the scores' tables (kinds, length bands...)."""
    return ((row, mine, theirs[table][row]) for row, mine in ours[table].items())


def _quality_tables(ours: dict[str, Any], theirs: dict[str, Any], expected_of: dict[str, set[str]]) -> list[str]:
    """Scores side by side, hard negatives by type, recall per kind and per length band, confusion
    and the worst misses of one set of videos."""
    o, t = ours["overall"], theirs["overall"]
    lines = ["| | dupstream P | R | F1 | baseline P | R | F1 |", "| --- | --- | --- | --- | --- | --- | --- |",
             f"| overall | {cell(o['precision'])} | {cell(o['recall'])} | {cell(o['f1'])} | "
             f"{cell(t['precision'])} | {cell(t['recall'])} | {cell(t['f1'])} |",
             f"| false positives on hard negatives | {cell(ours['hard_negative_false_positive_rate'])} | | | "
             f"{cell(theirs['hard_negative_false_positive_rate'])} | | |"]
    lines += ["", "| hard negatives called duplicate | n | dupstream | baseline |", "| --- | --- | --- | --- |"]
    for kind, mine, other in _side_by_side(ours, theirs, "hard_negatives_called_duplicate"):
        lines.append(f"| {kind} | {mine['count']} | {mine['called_duplicate']} ({mine['rate']:.0%}) | "
                     f"{other['called_duplicate']} ({other['rate']:.0%}) |")
    lines += ["", "| kind | n | expected | dupstream right | recall | baseline right | recall |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for kind, mine, other in _side_by_side(ours, theirs, "per_kind"):
        lines.append(f"| {kind} | {mine['count']} | {', '.join(sorted(expected_of[kind]))} | {mine['correct']} | "
                     f"{cell(mine['recall'])} | {other['correct']} | {cell(other['recall'])} |")
    lines += ["", "| length | n | dupstream P | R | F1 | negatives called duplicate | baseline P | R | F1 |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for band, mine, other in _side_by_side(ours, theirs, "per_length_band"):
        negatives = mine["hard_negatives_called_duplicate"].values()
        called = f"{sum(n['called_duplicate'] for n in negatives)} of {sum(n['count'] for n in negatives)}"
        lines.append(f"| {band} | {mine['count']} | {cell(mine['precision'])} | {cell(mine['recall'])} | "
                     f"{cell(mine['f1'])} | {called} | {cell(other['precision'])} | {cell(other['recall'])} | "
                     f"{cell(other['f1'])} |")
    for name, system in (("dupstream", ours), ("baseline", theirs)):
        given = sorted({g for row in system["confusion"].values() for g in row})
        lines += ["", f"{name}: expected (rows) against given (columns)", "",
                  "| expected | " + " | ".join(given) + " |", "| --- |" + " --- |" * len(given)]
        for expected, row in system["confusion"].items():
            lines.append(f"| {expected} | " + " | ".join(str(row.get(g, 0)) for g in given) + " |")
    lines += ["", "dupstream's worst misses", ""]
    lines += [f"- {m['video_id']} ({m['kind']}): expected {m['expected']}, got {m['given']}"
              f"{' of ' + m['duplicate_of'] if m['duplicate_of'] else ''}: {m['evidence']}" for m in ours["worst_misses"]]
    return lines + ([] if ours["worst_misses"] else ["none: every video got its expected verdict"])


def format_report(report: dict[str, Any]) -> str:
    """The report as Markdown: the chosen half of the split, then the whole set; speed, memory."""
    ours, theirs = report["dupstream"], report["baseline"]
    expected_of: dict[str, set[str]] = {}
    for verdict in report["verdicts"]:
        expected_of.setdefault(verdict["kind"], set()).add(verdict["expected"])
    lines = [f"{report['videos']} videos ({report['video_seconds'] / 60:.1f} min), {report['answered']} answered "
             "by the stream"]
    for half, scored in report["halves"].items():
        lines += ["", f"## The {half} half: {scored['videos']} videos ({scored['video_seconds'] / 60:.1f} min)", "",
                  *_quality_tables(scored["dupstream"], scored["baseline"], expected_of)]
    lines += ["", f"## The whole set: {report['videos']} videos", "", *_quality_tables(ours, theirs, expected_of)]
    lines += ["", "| seconds per video-minute | " + " | ".join(ours["seconds_per_video_minute"]) + " |",
              "| --- |" + " --- |" * len(ours["seconds_per_video_minute"]),
              "| dupstream | " + " | ".join(cell(v, 3) for v in ours["seconds_per_video_minute"].values()) + " |",
              "| baseline (one process) | " + " | ".join(
                  cell(theirs["seconds_per_video_minute"]["end_to_end"], 3) if name == "end_to_end" else ""
                  for name in ours["seconds_per_video_minute"]) + " |",
              "", "peak resident memory (MiB): " + ", ".join(f"{name} {mib:.0f}"
                                                            for name, mib in report["peak_memory_mib"].items())]
    return "\n".join(lines)


def run_eval(manifest: Path, json_out: Path | None = None, split: str = "validation") -> int:
    from streams.demo import progress

    report = evaluate(manifest, progress=progress, split=split)
    progress("")
    print(format_report(report))
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nJSON report: {json_out}")
    return 0 if report["answered"] == report["videos"] else 1
