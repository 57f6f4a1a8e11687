"""Probe v2's plan (pure: no media): its shape and labels, that it is held out from set v2 and
probe v1, and that no two clusters play the same stretch of a track (which would make a label wrong)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from schemas.events import VerdictClass
from tooling.devset import edits, probe, probe2
from tooling.devset.devset import (AUDIO_KINDS, COPY_KINDS, HARD_NEGATIVE_KINDS, SAME_VISUALS_DIFFERENT_AUDIO,
                                   read_manifest)
from tooling.devset.footage import FOOTAGE as V2_FOOTAGE
from tooling.devset.footage import PHOTOS, VALIDATION
from tooling.devset.packaged import PACKAGED_MEDIA

RECIPES = probe2.Probe2().plan()
BY_ID = {recipe.video_id: recipe for recipe in RECIPES}
EXPECTED = {"same_visuals_different_audio": VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO,
            "same_person_other_words": VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO,
            "same_audio_different_visuals": VerdictClass.AUDIO_MATCH_DIFFERENT_VISUALS}


def test_the_plan_is_at_least_120_short_videos_all_in_the_validation_half():
    assert len(BY_ID) == len(RECIPES) >= 120
    assert {recipe.split for recipe in RECIPES} == {VALIDATION}
    lengths = [recipe.seconds for recipe in RECIPES]
    assert min(lengths) >= 4 and max(lengths) <= 30
    assert sum(seconds < 10 for seconds in lengths) > len(lengths) / 2


def test_every_hard_negative_type_has_several_items_labelled_by_the_policy():
    types = {**{kind: kind for kind in HARD_NEGATIVE_KINDS}, **probe2.Probe2.negative_types}
    negatives = Counter(types[recipe.kind] for recipe in RECIPES if recipe.kind in types)
    assert set(negatives) == set(HARD_NEGATIVE_KINDS) and min(negatives.values()) >= 2
    for recipe in RECIPES:
        if recipe.kind in types:
            # The song at another point of it under other pictures shares no sound: unique.
            expected = (VerdictClass.UNIQUE if recipe.kind == probe2.TRACK_OTHER_POINT
                        else EXPECTED.get(types[recipe.kind], VerdictClass.UNIQUE))
            assert recipe.expected_verdict == expected, recipe.video_id
            assert recipe.kind == "unrelated" or recipe.related in BY_ID
    assert {kind for kind in probe2.Probe2.negative_types} <= {recipe.kind for recipe in RECIPES}
    assert probe2.Probe2.negative_types[probe2.SLIDESHOW_OTHER_SOUND] == SAME_VISUALS_DIFFERENT_AUDIO


def test_copies_use_recipes_neither_set_v2_nor_probe_v1_has_and_name_an_earlier_original():
    copies = [recipe for recipe in RECIPES if recipe.expected_verdict == VerdictClass.DUPLICATE]
    kinds = Counter(recipe.kind for recipe in copies)
    assert len(copies) >= 60 and len(kinds) >= 25 and min(kinds.values()) >= 1
    v1_kinds = set(probe.PICTURE_EDITS) | {kind for kind, _ in probe.COPIES}
    assert not set(kinds) & (set(COPY_KINDS) | set(AUDIO_KINDS) | set(edits.SIMPLE_EDITS) | v1_kinds)
    order = [recipe.video_id for recipe in RECIPES]
    for recipe in copies:
        assert not BY_ID[recipe.related].sources, recipe.video_id
        assert all(order.index(source) < order.index(recipe.video_id) for source in recipe.sources)
        assert recipe.has_audio == BY_ID[recipe.related].has_audio
    assert all(set(recipe.contains) == set(recipe.sources) for recipe in copies if recipe.kind == "two_concatenated")


def test_footage_and_sound_are_what_neither_set_v2_nor_probe_v1_plays():
    v2 = {footage.picture for footage in V2_FOOTAGE} | {p for half in PHOTOS.values() for p in half}
    v1 = {footage.picture for footage in probe.FOOTAGE} | {pictures for _, pictures in probe.REPICTURED}
    ours = {media for recipe in RECIPES for media in recipe.media}
    assert not ours & (v2 | v1 | set(probe.PROBE_MEDIA) | set(probe.GENERATED))
    assert not ours & set(PACKAGED_MEDIA)  # v2's catalogue: none of its sounds either
    assert ours <= set(probe2.PROBE2_MEDIA) | set(probe2.GENERATED2)


def _stretches() -> list[tuple[str, float, float, str]]:
    """(track, start, end, cluster) of every stretch of a track the plan plays (an excerpt's two
    fillers: at most 6 s each, from its stretch's start and 6 s later)."""
    def tracks(spec: tuple, seconds: float, cluster: str):
        if spec[0] == "track":
            yield spec[1], spec[2], spec[2] + seconds, cluster
        elif spec[0] == "voice" and spec[2] != probe2.ROOM:
            yield from tracks(spec[2], seconds, cluster)
    seconds = {footage.video_id: footage.seconds for footage in probe2.FOOTAGE2}
    found = [stretch for footage in probe2.FOOTAGE2 for stretch in tracks(footage.sound, footage.seconds, footage.video_id)]
    found += [stretch for source, spec, _ in probe2.RESOUNDED2 for stretch in tracks(spec, seconds[source], f"{source}+")]
    sounds = {footage.video_id: footage.sound for footage in probe2.FOOTAGE2}
    found += [(sounds[source][1], start, start + seconds[source], f"{source}@") for source, start, _ in probe2.OTHER_POINT]
    found += [(probe2.SONG, start, start + length, name) for name, (start, length) in probe2.VISUALISED.items()]
    found += [(probe2.FILLER_TUNE, probe2.FILLER_STRETCH * number, probe2.FILLER_STRETCH * number + 12, f"excerpt {number}")
              for number in range(len(probe2.FILLERS))]
    return found


def test_no_two_clusters_play_the_same_stretch_of_a_track():
    by_track = defaultdict(list)
    for track, start, end, cluster in _stretches():
        by_track[track].append((start, end, cluster))
    for track, stretches in by_track.items():
        stretches.sort()
        for (_, end, first), (start, _, second) in zip(stretches, stretches[1:]):
            assert end <= start, (track, first, second)


def test_the_manifest_reads_as_the_evaluation_reads_it(tmp_path):
    durations = {recipe.video_id: recipe.seconds for recipe in RECIPES}
    items = probe.items(RECIPES, durations, probe2.Probe2.negative_types)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"set": probe.PROBE, "items": [item._asdict() for item in items]}))
    read = {item.video_id: item for item in read_manifest(manifest, VALIDATION)}
    assert list(read) == [recipe.video_id for recipe in RECIPES]
    for recipe in RECIPES:
        item = read[recipe.video_id]
        if item.expected_verdict == VerdictClass.DUPLICATE:
            assert item.expected_duplicate_of == item.related and item.negative_type is None
            assert tuple(item.contains) == recipe.contains
        else:
            assert item.expected_duplicate_of is None
            assert item.negative_type == {**{kind: kind for kind in HARD_NEGATIVE_KINDS},
                                          **probe2.Probe2.negative_types}.get(item.kind)
