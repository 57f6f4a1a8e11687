"""Speed-changed copies over the range short-video apps offer (0.5x-2x), and the hard negatives at
those speeds: a development tool for the frames' speed grid (streams.matching.alignment) and the
sound on the frames' line (streams.audio.match).

    python -m tooling.evaluation.speed_study build DIR     # makes the videos and DIR/manifest.json
    python -m tooling.evaluation.speed_study report DIR/manifest.json [--params FILE.json]
    python -m tooling.evaluation.speed_study lines MANIFEST [--split calibration] [--params FILE.json]
    python -m tooling.evaluation.speed_study pitch DIR/manifest.json
    python -m tooling.evaluation.speed_study cost VIDEO [--repeat 3]

The class, made from the calibration half of set v2 only (its `split` field; the validation half
and the probe set are never used to choose anything):
- every calibration original with sound, played at 0.5, 0.67, 0.8, 1.25, 1.5 and 2.0 (pictures by
  setpts), the sound either re-timed with its pitch kept (atempo: "tempo") or played faster or
  slower with its pitch moved alike (asetrate + aresample: "pitch"), the two alternating over
  originals and speeds; the originals run 4-30 s, so the copies run 2-50 s, short and longer;
- the hard negatives at those speeds: each original's "same pictures, other sound" video of the set
  sped like a copy (must stay visual_match_different_audio), and the set's unrelated videos of the
  calibration half sped (must stay unique).

The report judges each query against the originals alone (a temporary index holding only them:
a 0.5x copy must be found on the original, not on the 0.67x copy of it) with the stream's own
functions (tooling.evaluation.calibrate: features cached in .cache/features/, streams.pipeline.judge),
and prints recall per speed and sound kind, and the hard negatives' verdicts per speed.

`lines` counts what a wider speed grid costs on a set (set v2's calibration half): every line
frames_match passes from each query to a video that shows other pictures (pictures_of: another
original's, another moment of the same camera included: a chance line, "false"), by its speed,
and the seconds the alignment took (the match stage's share the grid sets).

`pitch` measures how far a resampled copy of the query may miss the speed of a pitch-changed copy
and still be heard as its original: each "pitch" copy of the class re-played at its speed times
1 + d, re-timed to the exact tempo, compared with its original on the true line; the share of the
chance BER and the false alarm per d. Half the tolerated d is the step of streams.params'
AudioParams.line_speeds.

`cost` times the sound stage's fingerprint (decoded once) with and without the line speeds' copies:
CPU seconds per minute of video (process time, the best of --repeat)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

from schemas.events import VerdictClass
from tooling.devset.devset import CALIBRATION, FOOTAGE_NEGATIVES, DevItem, read_manifest
from tooling.devset.samples import ffmpeg

SOURCE = Path("/work/devset-v2/manifest.json")
SPEEDS = (0.5, 0.67, 0.8, 1.25, 1.5, 2.0)
KINDS = ("tempo", "pitch")
SILENT = {"world"}  # a silent track: nothing for the sound to say at any speed
RATE = 44100  # the sound is resampled to this first, so that asetrate's factor is exact
NEGATIVE_SPEEDS = 3  # speeds per "same pictures, other sound" negative (cycling through SPEEDS)
UNRELATED_SPEEDS = 2  # speeds per unrelated video
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-r", "25",
          "-c:a", "aac", "-b:a", "128k"]


def sound_filter(speed: float, kind: str) -> str:
    if kind == "tempo":
        return f"atempo={speed}"
    return f"aresample={RATE},asetrate={RATE}*{speed},aresample={RATE}"


def _sped(source: Path, target: Path, speed: float, kind: str) -> None:
    if not target.exists():
        ffmpeg("-i", str(source), "-vf", f"setpts=PTS/{speed}", "-af", sound_filter(speed, kind), *ENCODE, str(target))


def build(directory: Path, source: Path = SOURCE) -> Path:
    """The videos and their manifest (the development set's format); returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    calibration = read_manifest(source, CALIBRATION)
    originals = [item for item in calibration if item.kind == "original" and item.video_id not in SILENT]
    names = {item.video_id for item in originals}
    items: list[DevItem] = []

    def add(item: DevItem, video_id: str, verdict: str, root: str | None, kind: str, what: str, duration: float,
            negative_type: str | None = None) -> None:
        items.append(DevItem(video_id, f"{video_id}.mp4", len(items) + 1, verdict, root, item.related or item.video_id,
                             kind, what, round(duration, 2), CALIBRATION, item.source_group, negative_type))

    for item in originals:
        link = directory / f"{item.video_id}.mp4"
        if not link.exists():
            link.symlink_to(item.file)
        add(item, item.video_id, VerdictClass.UNIQUE, None, "original", item.what, item.duration)
    for number, item in enumerate(originals):
        for step, speed in enumerate(SPEEDS):
            kind = KINDS[(number + step) % 2]
            video_id = f"{item.video_id}_x{speed}_{kind}"
            _sped(Path(item.file), directory / f"{video_id}.mp4", speed, kind)
            add(item, video_id, VerdictClass.DUPLICATE, item.video_id, f"speed_{kind}",
                f"played {speed}x, sound by {kind}", item.duration / speed)
    negatives = [item for item in calibration if item.kind == "same_visuals_different_audio" and item.related in names]
    unrelated = [item for item in calibration if item.kind == "unrelated"]
    for number, item in enumerate(negatives + unrelated):
        count = NEGATIVE_SPEEDS if item in negatives else UNRELATED_SPEEDS
        for turn in range(count):
            speed = SPEEDS[(number + turn * len(SPEEDS) // count) % len(SPEEDS)]
            kind = KINDS[(number + turn) % 2]
            video_id = f"{item.video_id}_x{speed}_{kind}"
            _sped(Path(item.file), directory / f"{video_id}.mp4", speed, kind)
            add(item, video_id, item.expected_verdict, None, f"{item.kind}_sped", f"{item.what}, played {speed}x "
                f"(sound by {kind})", item.duration / speed, item.kind)
    manifest = directory / "manifest.json"
    manifest.write_text(json.dumps({"name": "speed-changed copies 0.5x-2x and hard negatives at those speeds",
                                    "items": [item._asdict() for item in items]}, indent=1) + "\n")
    return manifest


def speed_of(item: DevItem) -> str:
    return item.video_id.rsplit("_x", 1)[1].split("_")[0] if "_x" in item.video_id else "1"


def right(item: DevItem, verdict: str, duplicate_of: str | None) -> bool:
    return verdict == item.expected_verdict and (verdict != VerdictClass.DUPLICATE
                                                 or duplicate_of == item.expected_duplicate_of)


def report(manifest: Path, params_file: Path | None = None, cache: Path = Path(".cache/features"),
           detail: bool = False) -> str:
    """Recall per speed and sound kind (short < 10 s / longer), and the hard negatives right per
    speed, each query judged against the originals alone."""
    from tooling.evaluation.calibrate import Judge, record_half

    items = read_manifest(manifest)
    settings = _settings(manifest, items)
    params = _params(settings, params_file)
    recorded, stored = record_half(items, params, settings, cache, progress=lambda line: None,
                                   indexed=lambda item: item.kind == "original")
    verdicts = Judge(recorded, stored).verdicts(params)
    table: dict[tuple[str, str], list[bool]] = defaultdict(list)
    lines = []
    for item in items:
        if item.kind == "original":
            continue
        verdict, duplicate_of, reason = verdicts[item.video_id]
        ok = right(item, verdict, duplicate_of)
        band = "short" if item.duration < 10 else "longer"
        table[(item.kind, speed_of(item))].append(ok)
        if item.expected_verdict == VerdictClass.DUPLICATE:
            table[(f"{item.kind} {band}", speed_of(item))].append(ok)
        if detail or not ok:
            lines.append(f"{'ok ' if ok else 'NO '} {item.video_id} ({item.duration:g} s): {verdict}"
                         f"{' of ' + duplicate_of if duplicate_of else ''} -- {reason[:120]} ... {reason[-260:]}")
    speeds = [str(speed) for speed in SPEEDS]
    out = ["| kind | " + " | ".join(speeds) + " | all |", "|---" * (len(speeds) + 2) + "|"]
    for kind in sorted({kind for kind, _ in table}):
        cells = [table.get((kind, speed), []) for speed in speeds]
        every = [ok for oks in cells for ok in oks]
        out.append(f"| {kind} | " + " | ".join(f"{sum(oks)}/{len(oks)}" if oks else "-" for oks in cells)
                   + f" | {sum(every)}/{len(every)} |")
    negatives = [item for item in items if item.negative_type]
    called = [item.video_id for item in negatives if verdicts[item.video_id][0] == VerdictClass.DUPLICATE]
    return "\n".join(out + ["", "(right / videos: copies found on their original; negatives given their class)",
                            f"hard negatives called duplicate: {len(called)} of {len(negatives)} "
                            f"({', '.join(called) or 'none'})", ""] + lines)


def _params(settings, params_file: Path | None):
    from streams.params import MatchParams

    params = MatchParams.from_settings(settings)
    return params if params_file is None else params.overridden(json.loads(Path(params_file).read_text()))


def _settings(manifest: Path, items: list[DevItem]):
    from streams.config import Settings

    roots = sorted({str(Path(manifest).parent.resolve()), *(str(Path(item.file).parent) for item in items)})
    return Settings(triton_url="onnx", media_roots=roots)


# Kinds whose pictures are not their related video's: its sound under other pictures, another
# moment of its footage, or nothing of it.
OTHER_PICTURES = {"original", "same_audio_different_visuals", "unrelated", *FOOTAGE_NEGATIVES}


def pictures_of(item: DevItem, by_id: dict[str, DevItem]) -> frozenset[str]:
    """The originals whose pictures the item shows: its own when it is an original of its own
    pictures, else those of the video it was made from (a compilation's: every one it contains)."""
    if item.contains:
        return frozenset().union(*(pictures_of(by_id[root], by_id) for root in item.contains if root in by_id))
    if item.kind in OTHER_PICTURES or not item.related or item.related not in by_id:
        return frozenset({item.video_id})
    return pictures_of(by_id[item.related], by_id)


def false_lines(manifest: Path, split: str | None = CALIBRATION, params_file: Path | None = None,
                cache: Path = Path(".cache/features")) -> str:
    """The lines frames_match passes to videos the query has nothing to do with, by speed, and
    the alignment's seconds."""
    import time

    from streams.matching.alignment import frames_match
    from streams.pipeline import align_hits
    from tooling.evaluation.calibrate import Judge, record_half
    items = read_manifest(manifest, split)
    settings = _settings(manifest, items)
    params = _params(settings, params_file)
    recorded, stored = record_half(items, params, settings, cache, progress=lambda line: None)
    judge = Judge(recorded, stored)
    by_id = {item.video_id: item for item in items}
    counts: dict[str, list[str]] = defaultdict(list)
    seconds, true_lines = 0.0, 0
    for video in recorded:
        item = video.item
        started = time.process_time()
        lines = align_hits(video.found, video.joined.frames, judge.frames_of, params)
        seconds += time.process_time() - started
        for line in lines:
            if not frames_match(line, params.align):
                continue
            if pictures_of(item, by_id) & pictures_of(by_id[line.video_id], by_id):
                true_lines += 1
                continue
            band = "0.8-1.25" if 0.8 <= line.speed <= 1.25 else "1.25-1.37 or 0.73-0.8" if 0.73 <= line.speed <= 1.37 \
                else "beyond 0.73-1.37"
            counts[band].append(f"{item.video_id} ({item.kind}) -> {line.video_id} at {line.speed:.2f}x, "
                                f"{line.aligned_frames} frames, score {line.score:.2f}")
    out = [f"{len(recorded)} queries ({split or 'all'}), grid {params.align.speed_min:g}-{1 / params.align.speed_min:.3g} "
           f"in {params.align.speed_steps} speeds: {true_lines} true lines, "
           f"{sum(len(found) for found in counts.values())} false; alignment {seconds:.1f} s of CPU"]
    for band, found in sorted(counts.items()):
        out += [f"  false lines at {band}: {len(found)}"] + [f"    {line}" for line in found]
    return "\n".join(out)


MISSES = (-0.08, -0.06, -0.04, -0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08)


def pitch_tolerance(manifest: Path) -> str:
    import numpy as np

    from schemas.events import AudioState
    from streams.audio import AudioFingerprint
    from streams.audio.extract import chromaprint_items, decode_mono, extract_fingerprint, replayed
    from streams.audio.match import TimeMap, compare, retimed

    items = read_manifest(manifest)
    settings = _settings(manifest, items)
    params = _params(settings, None).audio
    by_id = {item.video_id: item for item in items}
    rows: dict[float, list[tuple[float, float]]] = defaultdict(list)
    for item in items:
        if item.kind != "speed_pitch":
            continue
        stored = extract_fingerprint(Path(by_id[item.expected_duplicate_of].file), settings, params)
        samples = decode_mono(Path(item.file), settings)
        speed = float(speed_of(item))
        if stored.state != AudioState.OK or samples is None:
            continue
        for miss in MISSES:
            copy = retimed(chromaprint_items(replayed(samples, speed * (1 + miss))), 1 / (1 + miss))
            query = AudioFingerprint(copy, stored.items_per_second, len(samples) / 11025, 0.0, AudioState.OK)
            found = compare(query, stored, params, near=TimeMap(0.0, 1.0))
            rows[miss].append((found.overlap_ber / max(found.chance_ber, 1e-9), found.false_alarm))
    out = ["| speed missed by | copies | median BER / chance | false alarm <= 1e-3 | <= 1e-2 |", "|---|---|---|---|---|"]
    for miss, found in sorted(rows.items()):
        shares, alarms = np.array([share for share, _ in found]), np.array([alarm for _, alarm in found])
        out.append(f"| {miss:+.0%} | {len(found)} | {np.median(shares):.2f} | {np.mean(alarms <= 1e-3):.0%} | "
                   f"{np.mean(alarms <= 1e-2):.0%} |")
    return "\n".join(out)


def sound_cost(video: Path, repeat: int = 3) -> str:
    import time
    from dataclasses import replace

    from streams.audio import CHROMAPRINT_SAMPLE_RATE
    from streams.audio.extract import decode_mono, fingerprint_samples
    from streams.config import Settings
    from streams.params import AudioParams

    settings = Settings(triton_url="onnx", media_roots=[str(Path(video).resolve().parent)])
    started = time.process_time()
    samples = decode_mono(Path(video).resolve(), settings)
    decoding = time.process_time() - started
    minutes = len(samples) / CHROMAPRINT_SAMPLE_RATE / 60
    out = [f"{video}: {minutes * 60:.0f} s of sound, decoded in {decoding / minutes:.2f} s CPU per video-minute"]
    for label, params in (("without the line speeds", replace(AudioParams(), line_speeds=())),
                          ("with the line speeds", AudioParams())):
        best = math.inf
        for _ in range(repeat):
            started = time.process_time()
            fingerprint_samples(samples, params)
            best = min(best, time.process_time() - started)
        out.append(f"  fingerprint {label}: {best:.2f} s CPU, {best / minutes:.2f} s per video-minute")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build").add_argument("directory", type=Path)
    reporting = commands.add_parser("report")
    reporting.add_argument("manifest", type=Path)
    reporting.add_argument("--params", type=Path, help="parameter overrides (as `dupstream calibrate` writes)")
    reporting.add_argument("--detail", action="store_true", help="every query's verdict, not only the wrong ones")
    lining = commands.add_parser("lines")
    lining.add_argument("manifest", type=Path)
    lining.add_argument("--split", default=CALIBRATION)
    lining.add_argument("--params", type=Path, help="parameter overrides (as `dupstream calibrate` writes)")
    commands.add_parser("pitch").add_argument("manifest", type=Path)
    costing = commands.add_parser("cost")
    costing.add_argument("video", type=Path)
    costing.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if args.command == "cost":
        print(sound_cost(args.video, args.repeat))
    elif args.command == "pitch":
        print(pitch_tolerance(args.manifest))
    elif args.command == "build":
        print(build(args.directory))
    elif args.command == "report":
        print(report(args.manifest, args.params, detail=args.detail))
    else:
        print(false_lines(args.manifest, args.split, args.params))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
