"""The stream's judge (streams.pipeline.judge) with the default parameters on one half of a
development set, from the features `dupstream calibrate` caches: `python -m streams.audio.devcheck
MANIFEST [calibration|validation]`. It prints precision, recall and F1 (`duplicate_of` checked),
the hard negatives called duplicate, each kind's correct verdicts, and every wrong verdict with its
reason: a before/after of a change to the sound in minutes where the full stream (`dupstream eval`,
the reference) takes far longer on a busy machine. Search, index and judge are the stream's own
functions, and as in `dupstream eval` the whole set goes through one index in publish order (a
video of the half may match one of the other half); what it leaves out is the stream's transport."""

from __future__ import annotations

import sys
from pathlib import Path

from streams.config import Settings
from tooling.devset.devset import HARD_NEGATIVE_KINDS, read_manifest
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
    rate = false_positive_rate(outcomes, HARD_NEGATIVE_KINDS)
    print(f"{manifest} {split}: {len(outcomes)} videos; precision {overall.precision:.3f} recall "
          f"{overall.recall:.3f} F1 {overall.f1:.3f}; hard negatives called duplicate {rate:.3f}")
    for kind, kind_scores in sorted(scores_per_kind(outcomes).items()):
        print(f"  {kind:30s} {kind_scores.correct:3d}/{kind_scores.count:<3d} correct")
    for outcome in outcomes:
        if not is_correct(outcome):
            print(f"- {outcome.video_id} ({outcome.kind}, {outcome.duration:.1f} s): expected "
                  f"{outcome.expected_verdict}, got {outcome.verdict} ({outcome.duplicate_of}): {outcome.evidence}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), *sys.argv[2:3])
