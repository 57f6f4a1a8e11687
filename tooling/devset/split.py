"""Which half of the split each source group goes to, chosen to balance what the halves can tell.

A group never straddles the halves (an original, its copies and its negatives stay together), and
groups that share packaged media (a soundtrack, a picture) are one unit. Among every assignment of
the units to the halves, the one kept is the most balanced in the properties that decide which
kinds of copies and hard negatives a half can hold: the footage negatives (another scene of the
film, the fixed camera at another moment, the set at another moment), the natural copies, the
real recordings of one speaker's other words, the sound of the originals (music, a narration, none),
short and long clips, photographs and vertical frames. A property that two or more units have must
be in both halves; the rest is a least-squares balance. Ties are broken by a seeded draw, so the
split is deterministic."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable
from functools import cache

from tooling.devset.footage import (CALIBRATION, FOOTAGE, HALVES, MUSIC, MUSICAL_GROUPS, ORIGINAL, REAL_OTHER_WORDS,
                                    SILENT_OWN_GROUPS, TRACK_HOME, TRACK_LENGTHS, Footage)

# A property held by two or more units but missing from a half costs this much more than any imbalance.
MISSING = 1000.0


def media_of(footage: Footage) -> set[str]:
    """The packaged media an original is made of: its picture and the soundtrack(s) under it."""
    media, spec = {footage.picture}, footage.sound
    while spec[0] in ("track", "voice"):
        if spec[0] == "track":
            media.add(spec[1])
            break
        spec = spec[2] if isinstance(spec[2], tuple) else ("room",)
    return media


def units(footage: Iterable[Footage]) -> list[tuple[str, ...]]:
    """Groups joined when they share packaged media, sorted."""
    parent: dict[str, str] = {}

    def root(group: str) -> str:
        while parent.setdefault(group, group) != group:
            group = parent[group]
        return group

    owner: dict[str, str] = {}
    for item in footage:
        root(item.group)
        for media in media_of(item):
            if media in owner:
                parent[root(item.group)] = root(owner[media])
            owner[media] = item.group
    joined: dict[str, list[str]] = {}
    for group in parent:
        joined.setdefault(root(group), []).append(group)
    return sorted(tuple(sorted(groups)) for groups in joined.values())


def properties(footage: Footage, natural_copies: Counter[str]) -> Counter[str]:
    """What one original brings to its half."""
    spec = footage.sound
    found = Counter({"original": 1, f"negative:{footage.kind}": footage.kind != ORIGINAL,
                     "natural_copy": natural_copies[footage.video_id],
                     "real_other_words": footage.video_id in REAL_OTHER_WORDS,
                     "music": (spec[0] == "own" and footage.group in MUSICAL_GROUPS)
                     or (spec[0] == "track" and spec[1] in MUSIC),
                     "narration": spec[0] == "voice",
                     "no_sound": spec[0] in ("silent", "none") or footage.group in SILENT_OWN_GROUPS,
                     "under_8_s": footage.seconds < 8, "over_12_s": footage.seconds > 12,
                     "photograph": footage.picture.endswith((".jpg", ".jpeg", ".png")),
                     "vertical": footage.shape == "vertical"})
    return +found


def imbalance(counts: dict[str, Counter[str]], total: Counter[str], shared: set[str]) -> float:
    """Sum over properties of (calibration - validation)^2 / total, plus MISSING per shared
    property that a half lacks."""
    calibration, validation = counts[CALIBRATION], counts[HALVES[1]]
    return sum((calibration[name] - validation[name]) ** 2 / total[name] for name in total) + \
        MISSING * sum(not calibration[name] or not validation[name] for name in shared)


@cache
def group_halves(seed: int, natural_copies: tuple[str, ...]) -> dict[str, str]:
    """Each source group's half; `natural_copies`: the original of each natural copy."""
    copies = Counter(natural_copies)
    found = units(FOOTAGE)
    brought = [sum((properties(item, copies) for item in FOOTAGE if item.group in unit), Counter())
               for unit in found]
    total = sum(brought, Counter())
    shared = {name for name in total if sum(name in unit for unit in brought) >= 2}
    scored = []
    for halves in itertools.product(HALVES, repeat=len(found)):
        counts = {half: sum((unit for unit, where in zip(brought, halves) if where == half), Counter())
                  for half in HALVES}
        scored.append((round(imbalance(counts, total, shared), 9), halves))
    best = min(score for score, _ in scored)
    halves = random.Random(f"{seed}:split").choice([halves for score, halves in scored if score == best])
    return {group: half for unit, half in zip(found, halves) for group in unit}


def tracks(half: str, groups: dict[str, str]) -> list[tuple[str, float]]:
    """The soundtracks a half's edits and negatives draw on: those of its originals, and the
    unused ones kept in that half."""
    used = {media: groups[item.group] for item in FOOTAGE for media in media_of(item) if media in TRACK_LENGTHS}
    return [(media, length) for media, length in TRACK_LENGTHS.items()
            if used.get(media, TRACK_HOME.get(media)) == half]
