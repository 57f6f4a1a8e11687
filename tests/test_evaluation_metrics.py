"""Scores of a run, on hand-made outcomes."""

from __future__ import annotations

import pytest

from tooling.evaluation.metrics import (Outcome, by_length_band, confusion, duplicates_by_type, false_positive_rate,
                                        is_correct, length_band, scores, scores_per_kind, seconds_per_video_minute,
                                        stage_totals, worst_misses)


def outcome(video_id, kind, expected, cluster, verdict, duplicate_of=None, negative_type=None) -> Outcome:
    return Outcome(video_id, kind, expected, frozenset(cluster), verdict, duplicate_of, f"reason of {video_id}",
                   negative_type=negative_type)


RUN = [
    outcome("a", "original", "unique", (), "unique"),
    outcome("a_mirror", "mirror", "duplicate", ("a", "a_crop"), "duplicate", "a"),
    outcome("a_crop", "crop", "duplicate", ("a", "a_mirror"), "duplicate", "a_mirror"),  # any member counts
    outcome("a_blur", "blur", "duplicate", ("a",), "unique"),  # missed
    outcome("b", "unrelated", "unique", (), "duplicate", "a", "unrelated"),  # false positive
    outcome("a_pip", "picture_in_picture", "duplicate", ("a",), "duplicate", "b"),  # wrong cluster
    outcome("a_sound", "same_visuals_different_audio", "visual_match_different_audio", (),
            "visual_match_different_audio", negative_type="same_visuals_different_audio"),
    outcome("c_track", "same_audio_different_visuals", "audio_match_different_visuals", (), "unique",
            negative_type="same_audio_different_visuals"),
]


def test_overall_precision_recall_f1_count_a_wrong_cluster_as_both_errors():
    result = scores(RUN)
    assert (result.true_positives, result.false_positives, result.false_negatives) == (2, 2, 2)
    assert result.precision == pytest.approx(0.5)
    assert result.recall == pytest.approx(0.5)
    assert result.f1 == pytest.approx(0.5)
    assert result.correct == 4


def test_per_kind_scores_leave_undefined_ratios_undefined():
    per_kind = scores_per_kind(RUN)
    assert per_kind["mirror"].recall == 1.0 and per_kind["mirror"].f1 == 1.0
    assert per_kind["blur"].recall == 0.0 and per_kind["blur"].precision is None and per_kind["blur"].f1 is None
    assert per_kind["unrelated"].recall is None and per_kind["unrelated"].precision == 0.0
    assert per_kind["original"].precision is None


def test_confusion_counts_expected_against_given_classes():
    table = confusion(RUN)
    assert table["duplicate"] == {"duplicate": 3, "unique": 1}
    assert table["unique"] == {"duplicate": 1, "unique": 1}
    assert table["audio_match_different_visuals"] == {"unique": 1}


def test_false_positive_rate_on_the_hard_negatives():
    assert false_positive_rate(RUN) == pytest.approx(1 / 3)
    assert false_positive_rate([o for o in RUN if not o.negative_type]) is None


def test_worst_misses_put_wrong_clusters_and_false_duplicates_first():
    misses = worst_misses(RUN)
    assert [miss.video_id for miss in misses] == ["a_pip", "b", "a_blur", "c_track"]
    assert worst_misses(RUN, limit=1)[0].video_id == "a_pip"
    assert not any(is_correct(miss) for miss in misses)
    cascade = [outcome("a_pip", "picture_in_picture", "duplicate", ("a",), "duplicate", "b")._replace(
        video_id=f"pip{n}") for n in range(3)]
    assert [miss.video_id for miss in worst_misses(cascade + RUN, limit=5)] == ["pip0", "b", "a_blur", "c_track",
                                                                                 "pip1"]


def test_speed_per_minute_of_video():
    totals = stage_totals([{"frames": 1.0, "match": 0.5}, {"frames": 2.0, "audio": 0.25}])
    assert totals == {"frames": 3.0, "match": 0.5, "audio": 0.25}
    assert seconds_per_video_minute(totals, 90.0) == {"frames": 2.0, "match": pytest.approx(1 / 3),
                                                      "audio": pytest.approx(1 / 6)}
    assert seconds_per_video_minute({"frames": 1.0}, 0.0) == {"frames": None}


def test_hard_negatives_called_duplicate_by_type():
    table = duplicates_by_type(RUN)
    assert table == {"unrelated": {"count": 1, "called_duplicate": 1, "rate": 1.0},
                     "same_visuals_different_audio": {"count": 1, "called_duplicate": 0, "rate": 0.0},
                     "same_audio_different_visuals": {"count": 1, "called_duplicate": 0, "rate": 0.0}}


def test_a_probe_set_s_own_kinds_count_under_their_negative_type():
    # probe v2's "same_bed_other_words" is a same_person_other_words negative: a fixed list of kinds missed it
    series = outcome("d_bed", "same_bed_other_words", "visual_match_different_audio", (), "duplicate", "d",
                     "same_person_other_words")
    assert duplicates_by_type([series])["same_person_other_words"]["called_duplicate"] == 1
    assert false_positive_rate(RUN + [series]) == pytest.approx(2 / 4)


def test_outcomes_fall_in_length_bands_shortest_first():
    timed = [outcome._replace(duration=seconds) for outcome, seconds in zip(RUN, (4, 7.99, 8, 19.9, 20, 60, 5, 5))]
    bands = by_length_band(timed)
    assert list(bands) == ["< 8 s", "8-20 s", "> 20 s"]
    assert [len(group) for group in bands.values()] == [4, 2, 2]
    assert length_band(0.5) == "< 8 s" and length_band(120) == "> 20 s"
    assert list(by_length_band(timed[:2])) == ["< 8 s"]
