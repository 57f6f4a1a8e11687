"""The development set: its plan (pure) and the small subset built from real packaged media."""

from __future__ import annotations

import json

import av
import pytest

from streams.devset.devset import (DUPLICATE, HARD_NEGATIVE_KINDS, ORIGINAL, SMALL_SET, build_devset, plan,
                                   read_manifest)
from tests.conftest import CACHE


def test_the_full_plan_has_every_kind_of_copy_and_of_hard_negative():
    recipes = plan()
    ids = [recipe.video_id for recipe in recipes]
    assert len(ids) == len(set(ids))
    copy_kinds = {recipe.kind for recipe in recipes if recipe.expected_verdict == DUPLICATE}
    assert len(copy_kinds) >= 14
    assert {"reencode_low_bitrate", "downscale", "crop", "mirror", "letterbox", "overlay", "colour", "grayscale",
            "blur", "noise", "speed", "framerate", "trimmed", "intro_outro", "picture_in_picture", "combination",
            "audio_volume", "audio_reencode", "audio_noise"} <= copy_kinds
    assert set(HARD_NEGATIVE_KINDS) <= {recipe.kind for recipe in recipes}


def test_every_copy_and_negative_is_published_after_the_video_it_relates_to():
    for recipes in (plan(), plan(small=True)):
        position = {recipe.video_id: number for number, recipe in enumerate(recipes)}
        for recipe in recipes:
            if recipe.related is not None:
                assert position[recipe.related] < position[recipe.video_id], recipe.video_id


def test_the_small_set_is_the_listed_dozen():
    assert sorted(recipe.video_id for recipe in plan(small=True)) == sorted(SMALL_SET)


@pytest.fixture(scope="module")
def small_manifest(tmp_path_factory):
    return build_devset(tmp_path_factory.mktemp("devset"), CACHE, small=True)


def test_the_small_manifest_lists_decodable_videos_with_their_labels(small_manifest):
    items = read_manifest(small_manifest)
    assert [item.order for item in items] == list(range(1, len(SMALL_SET) + 1))
    by_id = {item.video_id: item for item in items}
    for item in items:
        with av.open(item.file) as container:
            assert container.streams.video, item.video_id
            assert container.duration / 1e6 == pytest.approx(item.duration, abs=0.1)
        if item.expected_verdict == DUPLICATE:
            original = by_id[item.expected_duplicate_of]
            assert original.kind in (ORIGINAL, "unrelated", "same_film_other_scene")
            assert original.order < item.order
        else:
            assert item.expected_duplicate_of is None
    assert by_id["bikes_funkyrobot"].expected_verdict == "visual_match_different_audio"
    assert by_id["revenge_1918"].expected_verdict == "audio_match_different_visuals"
    raw = json.loads(small_manifest.read_text())["items"][0]
    assert not raw["file"].startswith("/"), "files are relative to the manifest, so the set can move"


def test_copies_keep_or_change_the_picture_as_labelled(small_manifest):
    by_id = {item.video_id: item for item in read_manifest(small_manifest)}

    def first_frame(video_id: str):
        with av.open(by_id[video_id].file) as container:
            frame = next(container.decode(video=0)).to_ndarray(width=64, height=36, format="gray")
        return frame.astype(float)

    original = first_frame("world")
    mirrored = first_frame("world_mirror")
    assert abs(mirrored[:, ::-1] - original).mean() < abs(mirrored - original).mean()
    with av.open(by_id["bikes_1918_audio_noise"].file) as copy, av.open(by_id["bikes_1918"].file) as source:
        assert copy.streams.audio and source.streams.audio
        assert copy.streams.video[0].codec_context.width == source.streams.video[0].codec_context.width
