"""The stream's judge (streams.pipeline.judge) with the default parameters on one half of a
development set, from the features `dupstream calibrate` caches: `python -m tooling.audio.devcheck
MANIFEST [calibration|validation]`. It prints precision, recall and F1 (`duplicate_of` checked),
the hard negatives called duplicate, each kind's correct verdicts, and every wrong verdict with its
reason: a before/after of a change to the sound in minutes where the full stream (`dupstream eval`,
the reference) takes far longer on a busy machine. Search, index and judge are the stream's own
functions, and as in `dupstream eval` the whole set goes through one index in publish order (a
video of the half may match one of the other half); what it leaves out is the stream's transport.
The cache may predate the landmarks: tooling.evaluation.calibrate.cached_features then computes
them from the videos.

`... MANIFEST calibration --landmark-pairs` prints instead the landmark test's false alarms on the
half's pairs of different recordings (landmark_pairs)."""

from __future__ import annotations

import sys
from pathlib import Path

from streams.config import Settings
from tooling.devset.devset import read_manifest
from tooling.evaluation.calibrate import Judge, outcomes_of, record_half
from tooling.evaluation.metrics import false_positive_rate, is_correct, scores, scores_per_kind
from streams.params import MatchParams


def main(manifest: Path, split: str = "validation") -> None:
    every = read_manifest(manifest)
    # As `dupstream calibrate` makes them, so that its cached features are found.
    settings = Settings(triton_url="onnx", media_roots=sorted({str(Path(item.file).parent) for item in every}))
    params = MatchParams.from_settings(settings)
    recorded, stored = record_half(every, params, settings, Path(".cache/features"), progress=lambda line: None)
    half = {item.video_id for item in every if item.split == split}
    outcomes = [outcome for outcome in outcomes_of(Judge(recorded, stored), params) if outcome.video_id in half]
    overall = scores(outcomes)
    rate = false_positive_rate(outcomes)
    print(f"{manifest} {split}: {len(outcomes)} videos; precision {overall.precision:.3f} recall "
          f"{overall.recall:.3f} F1 {overall.f1:.3f}; hard negatives called duplicate {rate:.3f}")
    for kind, kind_scores in sorted(scores_per_kind(outcomes).items()):
        print(f"  {kind:30s} {kind_scores.correct:3d}/{kind_scores.count:<3d} correct")
    for outcome in outcomes:
        if not is_correct(outcome):
            print(f"- {outcome.video_id} ({outcome.kind}, {outcome.duration:.1f} s): expected "
                  f"{outcome.expected_verdict}, got {outcome.verdict} ({outcome.duplicate_of}): {outcome.evidence}")


# Kinds whose soundtrack is a recording of its own (not its related video's); the copies' is their
# original's. The other moments of a source (same_camera_other_moment...) are left out: another
# stretch of one recording is neither a copy nor unrelated.
OWN_RECORDING_KINDS = {"original", "unrelated", "same_visuals_different_audio", "same_person_other_words"}
OTHER_MOMENT_KINDS = {"same_camera_other_moment", "same_film_other_scene", "same_set_other_moment"}
RATES = (0.01, 1e-3, 1e-4)


def landmark_pairs(manifest: Path, split: str) -> None:
    """Every pair of the half's videos whose soundtracks are different recordings (by the
    manifest: each video's recording is its own for OWN_RECORDING_KINDS, else its related
    video's; a compilation's also those of what it contains), judged by the landmark test on the
    line offset 0, speed 1 (where a visual match of a hard negative puts it): the false alarms
    measured against what the null predicts, and the pairs judged the same recording."""
    import itertools

    from streams.audio.extract import decode_mono, usable_seconds
    from streams.audio.landmarks import compare_landmarks, peaks
    from streams.audio import CHROMAPRINT_SAMPLE_RATE

    every = {item.video_id: item for item in read_manifest(manifest)}
    settings = Settings(media_roots=sorted({str(Path(item.file).parent) for item in every.values()}))
    params = MatchParams.from_settings(settings).audio

    def recording(item) -> str:
        seen = set()
        while item.kind not in OWN_RECORDING_KINDS and item.related in every and item.video_id not in seen:
            seen.add(item.video_id)
            item = every[item.related]
        return item.video_id

    half = [item for item in every.values() if item.split == split and item.kind not in OTHER_MOMENT_KINDS]
    found = {}
    for item in half:
        samples = decode_mono(Path(item.file), settings)
        if samples is not None and usable_seconds(samples, CHROMAPRINT_SAMPLE_RATE, params) >= params.min_audio_seconds:
            found[item.video_id] = peaks(samples, params)
    def recordings(item) -> set[str]:  # a compilation holds the recordings of what it contains
        return {recording(item), *(recording(every[part]) for part in (item.contains or ()) if part in every)}

    results = []
    for a, b in itertools.combinations(sorted(found), 2):
        if not recordings(every[a]) & recordings(every[b]):
            result = compare_landmarks(found[a], found[b], params, 0.0, 1.0,
                                       MatchParams().decision.co_located_offset_seconds)
            results.append((a, b, result))
    hard = [(a, b, r) for a, b, r in results if every[a].related == b or every[b].related == a
            or every[a].related == every[b].related]
    for name, rows in (("all different-recording pairs", results), ("pairs sharing a source (hard negatives)", hard)):
        print(f"{manifest} {split}, {name}: {len(rows)}; false alarm " + ", ".join(
            f"<= {rate:g}: {sum(r.false_alarm <= rate for _, _, r in rows)} ({rate * len(rows):.2f} predicted)"
            for rate in RATES) + f"; judged the same recording: {sum(r.same_recording for _, _, r in rows)}")
    print(f"every pair whose false alarm is at most landmark_max_false_alarm {params.landmark_max_false_alarm:g}:")
    for a, b, result in sorted((row for row in results if row[2].false_alarm <= params.landmark_max_false_alarm),
                               key=lambda row: row[2].false_alarm):
        print(f"  {a} vs {b}: false alarm {result.false_alarm:.2g} ({result.matches} votes, {result.expected:.2f} "
              f"expected), partial {result.partial:.2g}, same recording {result.same_recording}")


if __name__ == "__main__":
    if "--landmark-pairs" in sys.argv:
        landmark_pairs(Path(sys.argv[1]), *[arg for arg in sys.argv[2:3] if not arg.startswith("--")])
    else:
        main(Path(sys.argv[1]), *sys.argv[2:3])
