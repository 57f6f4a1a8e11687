"""The development set: its plan (pure) and the small subset built from real packaged media."""

from __future__ import annotations

import json
from collections import Counter

import av
import pytest

from schemas.events import VerdictClass
from tooling.devset.devset import (AUDIO_KINDS, COPY_KINDS, HARD_NEGATIVE_KINDS, NATURAL_COPIES, SMALL_SET, all_recipes,
                                   build_devset, bumper, plan, read_manifest, split_halves)
from tooling.devset.footage import BACKGROUNDS, CALIBRATION, FOOTAGE, HALVES, PHOTOS, VALIDATION
from tooling.devset.split import properties, tracks, units
from tooling.devset.packaged import PACKAGED_MEDIA
from tests.conftest import CACHE

RECIPES = plan()
BY_ID = {recipe.video_id: recipe for recipe in RECIPES}
ORIGINALS = [recipe for recipe in RECIPES if recipe.video_id in {footage.video_id for footage in FOOTAGE}]
COPIES = [recipe for recipe in RECIPES if recipe.expected_verdict == VerdictClass.DUPLICATE]
NEGATIVES = [recipe for recipe in RECIPES if recipe.kind in HARD_NEGATIVE_KINDS]


def short(recipe) -> bool:
    return 4 <= recipe.seconds <= 12


def test_the_full_plan_has_every_kind_of_copy_and_of_hard_negative():
    assert len(BY_ID) == len(RECIPES) and 250 <= len(RECIPES) <= 400
    copy_kinds = {recipe.kind for recipe in COPIES}
    assert set(COPY_KINDS) | set(AUDIO_KINDS) | {"natural_copy"} == copy_kinds
    assert {"rotate", "picture_in_picture", "split_screen", "vertical_blur_fill", "stack", "copy_of_copy",
            "compilation", "intro_outro", "audio_quiet", "audio_loud_clipped", "speech_over_music"} <= copy_kinds
    assert set(HARD_NEGATIVE_KINDS) == {recipe.kind for recipe in NEGATIVES}
    queries = [recipe for recipe in RECIPES if recipe.kind != "original"]
    assert len(NEGATIVES) >= 0.3 * len(queries)


def test_originals_are_real_footage_from_six_packages_mostly_short_clips():
    assert len(ORIGINALS) >= 30
    packages = {PACKAGED_MEDIA[footage.picture][0].split("==")[0] for footage in FOOTAGE}
    assert len(packages) >= 6, packages
    for group in (ORIGINALS, COPIES):
        assert sum(map(short, group)) >= 0.4 * len(group)
        assert all(4 <= recipe.seconds <= 120 for recipe in group)
    assert {footage.shape for footage in FOOTAGE} >= {"vertical", "720p", "1080p"}
    sounds = {footage.sound[0] for footage in FOOTAGE}
    assert {"own", "track", "voice", "silent", "none"} <= sounds


def test_each_hard_negative_type_has_short_and_long_clips():
    for kind in set(HARD_NEGATIVE_KINDS) - {"same_set_other_moment"}:  # two short clips of one set
        lengths = [recipe.seconds for recipe in NEGATIVES if recipe.kind == kind]
        assert min(lengths) <= 12 and max(lengths) > 12, (kind, lengths)
    for recipe in NEGATIVES:
        assert recipe.expected_verdict != VerdictClass.DUPLICATE
        assert recipe.related is not None or recipe.kind == "unrelated"
    assert {recipe.expected_verdict for recipe in NEGATIVES if recipe.kind == "same_person_other_words"} == {
        VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO}
    assert {recipe.expected_verdict for recipe in NEGATIVES if recipe.kind == "same_camera_other_moment"} == {VerdictClass.UNIQUE}


def test_every_copy_and_negative_is_published_after_what_it_comes_from():
    for recipes in (RECIPES, plan(small=True)):
        position = {recipe.video_id: number for number, recipe in enumerate(recipes)}
        for recipe in recipes:
            for earlier in (*recipe.sources, *([recipe.related] if recipe.related else [])):
                assert position[earlier] < position[recipe.video_id], recipe.video_id
    assert [(r.video_id, r.what) for r in plan()] == [(r.video_id, r.what) for r in RECIPES], "the plan is seeded"
    assert [recipe.video_id for recipe in RECIPES] != [recipe.video_id for recipe in all_recipes()], "shuffled"


def test_no_source_group_soundtrack_or_picture_is_in_both_halves():
    assert {recipe.split for recipe in RECIPES} == {CALIBRATION, VALIDATION}
    halves_of_group: dict[str, set[str]] = {}
    for recipe in RECIPES:
        halves_of_group.setdefault(recipe.group, set()).add(recipe.split)
        for source in recipe.sources:
            assert BY_ID[source].split == recipe.split, (recipe.video_id, source)
    assert all(len(halves) == 1 for halves in halves_of_group.values())
    media_halves: dict[str, set[str]] = {}
    for recipe in RECIPES:
        for media in recipe.media:
            media_halves.setdefault(media, set()).add(recipe.split)
    assert all(len(halves) == 1 for halves in media_halves.values()), media_halves
    assert not set(PHOTOS[CALIBRATION]) & set(PHOTOS[VALIDATION])
    halves = split_halves()
    assert not {name for name, _ in tracks(CALIBRATION, halves)} & {name for name, _ in tracks(VALIDATION, halves)}
    assert BACKGROUNDS[CALIBRATION] != BACKGROUNDS[VALIDATION]
    for half in HALVES:
        name = bumper(half, {recipe.video_id for recipe in ORIGINALS if recipe.split == half})[0]
        assert BY_ID[name].split == half
        assert all(BY_ID[name].group != BY_ID[recipe.related].group for recipe in RECIPES
                   if recipe.kind == "intro_outro" and recipe.split == half)


def test_the_split_puts_every_kind_and_hard_negative_type_in_both_halves_where_two_groups_have_it():
    kinds = {(recipe.kind, recipe.split) for recipe in RECIPES}
    groups_of_kind: dict[str, set[str]] = {}
    for recipe in RECIPES:
        groups_of_kind.setdefault(recipe.kind, set()).add(recipe.group)
    for kind, groups in groups_of_kind.items():
        if len(units(footage for footage in FOOTAGE if footage.group in groups)) >= 2 or kind not in {
                footage.kind for footage in FOOTAGE} | {"natural_copy"}:
            assert {(kind, half) for half in HALVES} <= kinds, kind
    assert {"same_camera_other_moment", "same_set_other_moment", "natural_copy"} <= set(groups_of_kind)
    # properties of an original that a half must hold when two units have them
    natural = Counter(original for _, original, _, _, _ in NATURAL_COPIES)
    halves = split_halves()
    for name in ("real_other_words", "music", "narration", "no_sound", "photograph", "under_8_s", "over_12_s"):
        assert {halves[footage.group] for footage in FOOTAGE if properties(footage, natural)[name]} == set(HALVES)
    assert split_halves() == halves, "the split is deterministic"


def test_the_small_set_is_closed_and_has_both_halves_short_clips_and_hard_negatives():
    small = plan(small=True)
    assert sorted(recipe.video_id for recipe in small) == sorted(SMALL_SET)
    assert {recipe.split for recipe in small} == {CALIBRATION, VALIDATION}
    assert sum(recipe.kind in HARD_NEGATIVE_KINDS for recipe in small) >= 5
    assert sum(map(short, small)) >= len(small) // 2
    assert not any(media.endswith((".avi", ".mpg", ".webm")) for recipe in small for media in recipe.media), \
        "CI's subset avoids the large Debian packages of footage"


@pytest.fixture(scope="module")
def small_manifest(tmp_path_factory):
    return build_devset(tmp_path_factory.mktemp("devset"), CACHE, small=True)


@pytest.mark.media
def test_the_small_manifest_lists_decodable_videos_with_their_labels(small_manifest):
    items = read_manifest(small_manifest)
    assert [item.order for item in items] == list(range(1, len(SMALL_SET) + 1))
    by_id = {item.video_id: item for item in items}
    for item in items:
        with av.open(item.file) as container:
            assert container.streams.video, item.video_id
            assert container.duration / 1e6 == pytest.approx(item.duration, abs=0.1)
        assert item.split in (CALIBRATION, VALIDATION) and item.source_group
        if item.expected_verdict == VerdictClass.DUPLICATE:
            original = by_id[item.expected_duplicate_of]
            assert original.expected_verdict == VerdictClass.UNIQUE and original.order < item.order
        else:
            assert item.expected_duplicate_of is None
        assert (item.negative_type is not None) == (item.kind in HARD_NEGATIVE_KINDS)
    assert by_id["bikes_same_visuals_different_audio"].expected_verdict == "visual_match_different_audio"
    assert by_id["bbb_burrow_same_audio_different_visuals"].expected_verdict == "audio_match_different_visuals"
    raw = json.loads(small_manifest.read_text())["items"][0]
    assert not raw["file"].startswith("/"), "files are relative to the manifest, so the set can move"
    calibration = read_manifest(small_manifest, split=CALIBRATION)
    validation = read_manifest(small_manifest, split=VALIDATION)
    assert {item.split for item in calibration} == {CALIBRATION} and validation
    assert len(calibration) + len(validation) == len(items)
    with pytest.raises(ValueError):
        read_manifest(small_manifest, split="test")


@pytest.mark.media
def test_copies_keep_or_change_the_picture_and_sound_as_labelled(small_manifest):
    by_id = {item.video_id: item for item in read_manifest(small_manifest)}

    def first_frame(video_id: str):
        with av.open(by_id[video_id].file) as container:
            frame = next(container.decode(video=0)).to_ndarray(width=64, height=36, format="gray")
        return frame.astype(float)

    original, mirrored = first_frame("bbb_rodents"), first_frame("bbb_rodents_mirror")
    assert abs(mirrored[:, ::-1] - original).mean() < abs(mirrored - original).mean()
    with av.open(by_id["bikes_rotate"].file) as rotated, av.open(by_id["bikes"].file) as source:
        turned = rotated.streams.video[0].codec_context
        width, height = source.streams.video[0].codec_context.width, source.streams.video[0].codec_context.height
        assert (turned.width, turned.height) in ((width, height), (height, width))
    with av.open(by_id["thanks_card_vertical_blur_fill"].file) as vertical:
        assert vertical.streams.video[0].codec_context.height > vertical.streams.video[0].codec_context.width
    assert by_id["carphone_audio_quiet"].duration == pytest.approx(by_id["carphone"].duration, abs=0.1)
