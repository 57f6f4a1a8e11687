"""Scores of a run over the development set. Pure.

The task scored is "is this a duplicate, and of which cluster". A duplicate verdict is right when
the item is a copy and `duplicate_of` is any member of its original's cluster; a duplicate verdict
naming the wrong cluster counts twice, as a false positive and as a miss. Non-duplicate classes
(unique, visual_match_different_audio, audio_match_different_visuals, failed) are negatives for
precision and recall; whether the right negative class was given shows in the confusion matrix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from schemas.events import VerdictClass


class Outcome(NamedTuple):
    """One video: what it should get and what it got."""

    video_id: str
    kind: str
    expected_verdict: str
    expected_cluster: frozenset[str]  # accepted duplicate_of values; empty when not a duplicate
    verdict: str  # the class given, 'failed' included
    duplicate_of: str | None
    evidence: str  # the verdict's reason, or its error
    duration: float = 0.0  # seconds of video
    negative_type: str | None = None  # a hard negative's type, from the manifest (None otherwise)


class Scores(NamedTuple):
    count: int
    true_positives: int
    false_positives: int
    false_negatives: int
    correct: int  # exactly the expected class (and cluster)
    precision: float | None  # None when nothing was called a duplicate
    recall: float | None  # None when nothing should have been
    f1: float | None


def is_true_positive(outcome: Outcome) -> bool:
    return outcome.verdict == VerdictClass.DUPLICATE and outcome.duplicate_of in outcome.expected_cluster


def is_false_positive(outcome: Outcome) -> bool:
    return outcome.verdict == VerdictClass.DUPLICATE and not is_true_positive(outcome)


def is_false_negative(outcome: Outcome) -> bool:
    return outcome.expected_verdict == VerdictClass.DUPLICATE and not is_true_positive(outcome)


def is_correct(outcome: Outcome) -> bool:
    if outcome.expected_verdict == VerdictClass.DUPLICATE:
        return is_true_positive(outcome)
    return outcome.verdict == outcome.expected_verdict


def cell(value: float | None, digits: int = 2) -> str:
    """A figure for a report's table: '-' where there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def scores(outcomes: Iterable[Outcome]) -> Scores:
    outcomes = list(outcomes)
    tp = sum(map(is_true_positive, outcomes))
    fp = sum(map(is_false_positive, outcomes))
    fn = sum(map(is_false_negative, outcomes))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = (2 * precision * recall / (precision + recall) if precision and recall
          else (0.0 if precision is not None and recall is not None else None))
    return Scores(len(outcomes), tp, fp, fn, sum(map(is_correct, outcomes)), precision, recall, f1)


def scores_per_kind(outcomes: Iterable[Outcome]) -> dict[str, Scores]:
    by_kind: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_kind.setdefault(outcome.kind, []).append(outcome)
    return {kind: scores(group) for kind, group in sorted(by_kind.items())}


def confusion(outcomes: Iterable[Outcome]) -> dict[str, dict[str, int]]:
    """expected class -> given class -> count."""
    counts = Counter((outcome.expected_verdict, outcome.verdict) for outcome in outcomes)
    table: dict[str, dict[str, int]] = {}
    for (expected, given), count in sorted(counts.items()):
        table.setdefault(expected, {})[given] = count
    return table


def false_positive_rate(outcomes: Iterable[Outcome]) -> float | None:
    """Share of the hard negatives (the items with a negative_type) called a duplicate."""
    chosen = [outcome for outcome in outcomes if outcome.negative_type]
    return _ratio(sum(map(is_false_positive, chosen)), len(chosen))


def duplicates_by_type(outcomes: Iterable[Outcome]) -> dict[str, dict[str, float | int]]:
    """For each type of hard negative (the manifest's negative_type, so that a probe set's own kinds
    count under the type they are): how many there are, how many were called a duplicate, the share."""
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.negative_type:
            groups.setdefault(outcome.negative_type, []).append(outcome)
    table: dict[str, dict[str, float | int]] = {}
    for negative_type, chosen in groups.items():
        called = sum(map(is_false_positive, chosen))
        table[negative_type] = {"count": len(chosen), "called_duplicate": called, "rate": called / len(chosen)}
    return table


# Clip-length bands (seconds): most uploads are short, and short clips are the hard ones.
LENGTH_BANDS = (("< 8 s", 0.0, 8.0), ("8-20 s", 8.0, 20.0), ("> 20 s", 20.0, float("inf")))


def length_band(seconds: float) -> str:
    return next(name for name, low, high in LENGTH_BANDS if low <= seconds < high)


def by_length_band(outcomes: Iterable[Outcome]) -> dict[str, list[Outcome]]:
    """The outcomes of each length band that has any, shortest band first."""
    bands: dict[str, list[Outcome]] = {name: [] for name, _, _ in LENGTH_BANDS}
    for outcome in outcomes:
        bands[length_band(outcome.duration)].append(outcome)
    return {band: group for band, group in bands.items() if group}


def severity(outcome: Outcome) -> int:
    """How bad a wrong verdict is: a duplicate of the wrong cluster (3), a duplicate claimed of a
    video that is none (2), a missed duplicate (1), the wrong non-duplicate class (0)."""
    if is_false_positive(outcome):
        return 3 if outcome.expected_verdict == VerdictClass.DUPLICATE else 2
    return 1 if is_false_negative(outcome) else 0


def worst_misses(outcomes: Iterable[Outcome], limit: int = 10) -> list[Outcome]:
    """The wrong verdicts, worst first: the worst of each kind before a second of any kind, so
    that one cascade (copies of one mis-clustered original) does not fill the list."""
    wrong = sorted((outcome for outcome in outcomes if not is_correct(outcome)), key=lambda outcome: -severity(outcome))
    firsts: list[Outcome] = []
    rest: list[Outcome] = []
    for outcome in wrong:
        (rest if any(first.kind == outcome.kind for first in firsts) else firsts).append(outcome)
    return (firsts + rest)[:limit]


def seconds_per_video_minute(seconds: Mapping[str, float], video_seconds: float) -> dict[str, float | None]:
    """Each total of seconds spent, per minute of video processed."""
    minutes = video_seconds / 60
    return {name: (spent / minutes if minutes else None) for name, spent in seconds.items()}


def stage_totals(timings: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The seconds of each stage, summed over videos."""
    totals: Counter[str] = Counter()
    for timing in timings:
        totals.update(timing)
    return dict(totals)
