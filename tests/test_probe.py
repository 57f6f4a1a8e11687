"""The probe set's plan (pure: no media): its shape and labels, and that it is held out from set v2."""

from __future__ import annotations

import json
from collections import Counter

from schemas.events import VerdictClass
from tooling.devset import edits, probe
from tooling.devset.devset import AUDIO_KINDS, COPY_KINDS, HARD_NEGATIVE_KINDS, DevItem, _is_photo, read_manifest
from tooling.devset.footage import FOOTAGE as V2_FOOTAGE
from tooling.devset.footage import PHOTOS, VALIDATION

RECIPES = probe.Probe().plan()
BY_ID = {recipe.video_id: recipe for recipe in RECIPES}


def test_the_plan_is_a_set_of_60_to_100_videos_all_in_the_validation_half():
    assert len(BY_ID) == len(RECIPES) and 60 <= len(RECIPES) <= 100
    assert {recipe.split for recipe in RECIPES} == {VALIDATION}
    lengths = [recipe.seconds for recipe in RECIPES]
    assert min(lengths) >= 4 and max(lengths) <= 30
    assert sum(4 <= seconds <= 12 for seconds in lengths) > len(lengths) / 2


def test_every_hard_negative_type_has_several_items_with_its_own_label():
    negatives = Counter(recipe.kind for recipe in RECIPES if recipe.kind in HARD_NEGATIVE_KINDS)
    assert set(negatives) == set(HARD_NEGATIVE_KINDS) and min(negatives.values()) >= 2
    expected = {"same_visuals_different_audio": VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO,
                "same_person_other_words": VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO,
                "same_audio_different_visuals": VerdictClass.AUDIO_MATCH_DIFFERENT_VISUALS}
    for recipe in RECIPES:
        if recipe.kind in HARD_NEGATIVE_KINDS:
            assert recipe.expected_verdict == expected.get(recipe.kind, VerdictClass.UNIQUE), recipe.video_id
            assert recipe.kind == "unrelated" or recipe.related in BY_ID


def test_copies_use_recipes_set_v2_does_not_and_name_an_earlier_original():
    copies = [recipe for recipe in RECIPES if recipe.expected_verdict == VerdictClass.DUPLICATE]
    assert len(copies) >= 30
    kinds = {recipe.kind for recipe in copies}
    assert not kinds & (set(COPY_KINDS) | set(AUDIO_KINDS) | set(edits.SIMPLE_EDITS))
    assert {"speed_slow", "speed_fast", "crop_tight", "meme_caption", "stickers", "pitch_shift", "mp3_16k",
            "music_under", "sound_removed", "vertical_crop", "trimmed_short"} <= kinds
    order = [recipe.video_id for recipe in RECIPES]
    for recipe in copies:
        assert not BY_ID[recipe.related].sources and order.index(recipe.related) < order.index(recipe.video_id)
        assert recipe.has_audio == (recipe.kind != "sound_removed" and BY_ID[recipe.related].has_audio)
    short = [recipe for recipe in copies if recipe.kind == "trimmed_short"]
    assert all(4 <= recipe.seconds <= 6 and BY_ID[recipe.related].seconds >= 20 for recipe in short)


def test_footage_is_not_what_set_v2_is_cut_from_but_where_it_says_so():
    v2_pictures = {footage.picture for footage in V2_FOOTAGE} | {p for half in PHOTOS.values() for p in half}
    reused = {footage.picture for footage in probe.FOOTAGE} & v2_pictures
    assert reused <= set(probe.V2_REUSED)
    assert len({footage.picture for footage in probe.FOOTAGE} - v2_pictures) >= 15
    for ours in probe.FOOTAGE:
        for theirs in V2_FOOTAGE:
            if ours.picture == theirs.picture and not _is_photo(ours.picture):  # a moment no v2 original shows
                assert (ours.start + ours.seconds <= theirs.start or theirs.start + theirs.seconds <= ours.start
                        ), (ours.video_id, theirs.video_id)


def test_the_manifest_reads_as_the_evaluation_reads_it(tmp_path):
    durations = {recipe.video_id: recipe.seconds for recipe in RECIPES}
    items = probe.items(RECIPES, durations)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"set": probe.PROBE, "items": [item._asdict() for item in items]}))
    read = read_manifest(manifest, VALIDATION)
    assert [item.video_id for item in read] == [recipe.video_id for recipe in RECIPES]
    for item in read:
        assert isinstance(item, DevItem)
        if item.expected_verdict == VerdictClass.DUPLICATE:
            assert item.expected_duplicate_of == item.related and item.negative_type is None
        else:
            assert item.expected_duplicate_of is None
            assert item.negative_type == (item.kind if item.kind in HARD_NEGATIVE_KINDS else None)
