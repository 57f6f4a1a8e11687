"""The motion test (streams.matching.visual.motion_false_alarm) on every line of a half of the
development set that reaches the video a query is made from or resembles: a development tool.

    python -m tooling.evaluation.motion_study MANIFEST [--split calibration|validation]

Features come from the cache `dupstream calibrate` fills (.cache/features/), the hits from a
temporary index of the half in publish order (tooling.evaluation.calibrate.record_half); each
query is aligned with the "same moment" gates open (streams.pipeline.align_hits under
alignment.without_moment_checks) and its best line to the family of its related video (the
original's cluster as the manifest states it) is measured. Per line: the aligned frames, the
null's lag-1 autocorrelation and the effective count, the false alarm counting every frame as
independent (the test before issue 12's fix) and with the effective count, the test's reach
(identical changes on every frame), whether the test has a say (alignment.motion_decides) and
whether the line passes it. The summary counts, per kind, the lines the motion gate passes now
and before: copies should pass, another moment of a fixed camera or another scene of one film
should not.

    python -m tooling.evaluation.motion_study MANIFEST --split calibration --frames-only

judges the half with every soundtrack taken away (frames_only): the sound waives the "same
moment" checks on its own line, so this is where they decide alone."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from tooling.devset.devset import HARD_NEGATIVE_KINDS, DevItem, read_manifest


def _root(item: DevItem) -> str:
    return item.expected_duplicate_of or item.video_id


def rows(manifest: Path, split: str | None, cache: Path = Path(".cache/features")) -> list[tuple]:
    from streams.config import Settings
    from tooling.evaluation.calibrate import Judge, half_of, record_half
    from streams.matching.alignment import motion_decides, without_moment_checks
    from streams.matching.visual import motion_false_alarm, query_views
    from streams.params import MatchParams
    from streams.pipeline import align_hits

    every = read_manifest(manifest)
    items, _ = half_of(every, split)
    settings = Settings(triton_url="onnx", media_roots=sorted({str(Path(item.file).parent) for item in every}))
    params = MatchParams.from_settings(settings)
    open_gates = replace(params, align=without_moment_checks(params.align))
    recorded, stored = record_half(items, params, settings, cache, progress=lambda line: None)
    judge = Judge(recorded, stored)
    by_id = {item.video_id: item for item in items}
    found = []
    for video in recorded:
        item = video.item
        if item.related is None or item.related not in by_id:
            continue
        family = {other for other, dev in by_id.items() if _root(dev) == _root(by_id[item.related])}
        views = list(video.found.views) or query_views(video.joined.frames)
        lines = [line for line in align_hits(video.found, video.joined.frames, judge.frames_of, open_gates)
                 if line.video_id in family]
        if not lines:
            found.append((item, None, None, None))
            continue
        line = lines[0]
        tests = [motion_false_alarm(line, view, *judge.frames_of(line.video_id), video.joined.frames.duration,
                                    params.align)
                 for view in views if view.key() == (line.mirrored, line.region, line.rotation)]
        test = min((one for one in tests if one is not None), key=lambda one: one.false_alarm, default=None)
        found.append((item, line, test, test is not None and motion_decides(
            line._replace(false_alarm=test.false_alarm, best_false_alarm=test.best_false_alarm), params.align)))
    return found


def format_rows(found: list[tuple], threshold: float) -> str:
    lines = ["| query | kind | line to | frames | lag-1 rho | effective | false alarm, independent | false alarm | "
             "reach | has a say | passes now | passed before |", "|" + " --- |" * 12]
    summary: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # lines, measured, passes now, passed before
    for item, line, test, decides in found:
        counts = summary[item.kind]
        counts[0] += 1
        if line is None or test is None:
            lines.append(f"| {item.video_id} | {item.kind} | {line.video_id if line else '-'} | - | - | - | - | - | - "
                         f"| - | - | - |")
            continue
        now = not decides or test.false_alarm <= threshold
        before = test.independent_false_alarm <= threshold
        counts[1] += 1
        counts[2] += now
        counts[3] += before
        lines.append(f"| {item.video_id} | {item.kind} | {line.video_id} | {test.frames} | {test.lag_correlation:.2f} | "
                     f"{test.effective_frames:.1f} | {test.independent_false_alarm:.1e} | {test.false_alarm:.1e} | "
                     f"{test.best_false_alarm:.1e} | {'yes' if decides else 'no'} | {'yes' if now else 'no'} | "
                     f"{'yes' if before else 'no'} |")
    lines += ["", f"per kind (visual_max_false_alarm {threshold:g}): lines to the related family, measured, "
                  "passing the motion gate now, passing it before (frames counted as independent)", "",
              "| kind | hard negative | lines | measured | pass now | passed before |", "|" + " --- |" * 6]
    lines += [f"| {kind} | {'yes' if kind in HARD_NEGATIVE_KINDS else ''} | {' | '.join(map(str, counts))} |"
              for kind, counts in sorted(summary.items())]
    return "\n".join(lines)


FOOTAGE_NEGATIVES = ("same_camera_other_moment", "same_film_other_scene", "same_set_other_moment", "unrelated",
                     "same_audio_different_visuals")


def frames_only(manifest: Path, split: str | None, cache: Path = Path(".cache/features")) -> str:
    """The half judged with every soundtrack taken away (queries and stored videos 'no_audio'):
    what the frames decide alone, where the motion and distinctiveness checks have no sound to
    lean on. The copies found, and the negatives whose pictures are another moment, another
    scene or other pictures called duplicate."""
    from streams.config import Settings
    from tooling.evaluation.calibrate import Judge, half_of, record_half
    from streams.params import MatchParams

    every = read_manifest(manifest)
    items, which = half_of(every, split)
    settings = Settings(triton_url="onnx", media_roots=sorted({str(Path(item.file).parent) for item in every}))
    params = MatchParams.from_settings(settings)
    recorded, stored = record_half(items, params, settings, cache, progress=lambda line: None)
    muted = [video._replace(joined=video.joined.model_copy(update={"audio": video.joined.audio.model_copy(
                 update={"state": "no_audio", "items": ""})}), found=video.found._replace(audio_hits=[]))
             for video in recorded]
    verdicts = Judge(muted, {key: video._replace(audio_state="no_audio") for key, video in stored.items()}).verdicts(params)
    copies = [item for item in items if item.expected_verdict == "duplicate"]
    missed = [item.video_id for item in copies if verdicts[item.video_id][0] != "duplicate"]
    negatives: dict[str, list[str]] = defaultdict(list)
    called: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if item.kind in FOOTAGE_NEGATIVES:
            negatives[item.kind].append(item.video_id)
            if verdicts[item.video_id][0] == "duplicate":
                called[item.kind].append(f"{item.video_id} (of {verdicts[item.video_id][1]})")
    lines = [f"{which}, frames only: copies found {len(copies) - len(missed)} of {len(copies)} "
             f"(missed: {', '.join(missed) or 'none'})"]
    lines += [f"- {kind}: {len(called[kind])} of {len(negatives[kind])} called duplicate"
              f"{': ' + ', '.join(called[kind]) if called[kind] else ''}" for kind in sorted(negatives)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from streams.params import AlignParams

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--split", choices=["calibration", "validation"], default="calibration")
    parser.add_argument("--frames-only", action="store_true",
                        help="judge the half with every soundtrack taken away and count copies found and "
                             "negatives called duplicate")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if args.frames_only:
        print(frames_only(args.manifest, args.split))
    else:
        print(format_rows(rows(args.manifest, args.split), AlignParams().visual_max_false_alarm))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
