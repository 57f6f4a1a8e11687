"""Probe v2: a second held-out check, bigger than probe v1, made from footage neither set v2 nor
probe v1 uses, with copy recipes neither has, never used to choose a constant (issue 12: an
independent evaluation judges us on copies and hard negatives we never see).

Footage: scikit-image's sample photographs (among them a stereo pair of one motorcycle), the
backgrounds and character sprites of Ren'Py's "The Question" composed into visual-novel scenes,
slideshows and quote cards drawn from them, and moving pictures FFmpeg draws that probe v1 does not
(Sierpinski fractals, a constant-Q visualiser of a song). Sounds: The Question's song, pygame's
house loop, tunes sox synthesises, codec2 speakers neither set plays, espeak-ng voices and languages
neither uses.
Copies: the app's 0.5x and 2x buttons (tempo kept, or pitch moved with the speed), a small tilt
zoomed to fill, box blur, grain with a vignette, 15 fps blended and 30 fps, sepia and a curves
preset, a coloured border, a square blurred-fill frame, a scrolling caption, a moving handle
watermark, a logo in a corner, an excerpt inside a longer video, two originals concatenated;
sound +-10 dB, a phone band, pink noise at 10-20 dB SNR, reverb, 8 kHz, AAC 32k, a voice-over, a
laugh track. Hard negatives of every type, and new ones: a slideshow of the same photographs with
other sound, the same voice and music bed with other words, the trending song at another point
under other pictures.

Left out: a re-take (the same speaker re-recording the same sentences in the same room). The
policy does not say whether it is a duplicate; a label either way would make this set choose it.

`python -m tooling.devset.probe2 build DIR`; `python -m tooling.devset.probe2 report MANIFEST EVAL_JSON`."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from schemas.events import VerdictClass
from tooling.devset import edits
from tooling.devset.devset import (SAME_AUDIO_DIFFERENT_VISUALS, SAME_PERSON_OTHER_WORDS, SAME_VISUALS_DIFFERENT_AUDIO,
                                   UNRELATED, sound_graph, sound_media, speak, speech_text)
from tooling.devset.edits import AUDIO, STEREO, VIDEO, fit, fit_inside, ken_burns
from tooling.devset.footage import SAME_CAMERA_OTHER_MOMENT, SAME_FILM_OTHER_SCENE, SAME_SET_OTHER_MOMENT, Footage
from tooling.devset.packaged import _OPENCV_DATA
from tooling.devset.probe import FONT, ROOM, Probe, Render, build_probe, mean_volume, report
from tooling.devset.samples import ffmpeg

SEED = 29
_SKIMAGE = "scikit-image==0.26.0"
_PYGAME = "pygame==2.6.1"
_QUESTION = "./usr/share/games/renpy/the_question/game/"
# Packaged media neither set v2 nor probe v1 uses. Licences: scikit-image BSD-3-Clause, its sample
# photographs public domain or CC0/CC-BY as its data README lists; Ren'Py's The Question Expat (its
# Debian copyright file); pygame's example data LGPL-2.1; codec2 LGPL-2.1.
PROBE2_MEDIA: dict[str, tuple[str, str]] = {
    **{name: (_SKIMAGE, f"skimage/data/{name}") for name in (
        "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "motorcycle_left.png",
        "motorcycle_right.png", "camera.png", "retina.jpg", "ihc.png", "moon.png", "coins.png", "text.png",
        "clock_motion.png", "page.png", "gravel.png", "grass.png", "brick.png", "logo.png", "color.png", "cell.png",
        "horse.png", "phantom.png", "microaneurysms.png")},
    # OpenCV's sample pictures neither set shows (its package is fetched for set v2 already).
    **{name: ("debian:opencv-doc", _OPENCV_DATA + name) for name in (
        "blox.jpg", "ml.png", "notes.png", "opencv-logo.png", "digits.png", "imageTextN.png", "pic1.png", "pic3.png",
        "pic5.png", "pic6.png", "box.png", "text_defocus.jpg")},
    **{f"tq_{name.replace(' ', '_')}": ("debian:renpy-thequestion", f"{_QUESTION}images/{name}") for name in (
        "bg club.jpg", "bg lecturehall.jpg", "bg meadow.jpg", "bg uni.jpg", "sylvie green smile.png",
        "sylvie blue surprised.png", "sylvie green normal.png")},
    "tq_main_menu.png": ("debian:renpy-thequestion", f"{_QUESTION}gui/main_menu.png"),
    "illurock.opus": ("debian:renpy-thequestion", _QUESTION + "illurock.opus"),
    "house_lo.ogg": (_PYGAME, "pygame/examples/data/house_lo.ogg"),
    **{f"codec2_{name}.wav": ("debian:codec2-examples", f"./usr/share/codec2/wav/{name}.wav")
       for name in ("hts1a", "hts2a", "mmt1", "big_dog")},
}
SLIDES = ("text.png", "clock_motion.png", "cell.png", "horse.png")
SONG = "illurock.opus"  # 28 s: the "trending track"
VISUALISED = {"gen_viz_a.mp4": (0, 10), "gen_viz_b.mp4": (15, 8)}  # the stretches of the song drawn
FILLER_TUNE, FILLER_STRETCH = "sox_tune_e.wav", 14.0  # excerpt n's fillers play [14 n, 14 n + 12) s of it
SIZE = (854, 480)


def _scene(background: str, sprite: str, seconds: float, seed: str) -> Render:
    """A visual-novel scene: a background panned slowly, a character sliding in from the right."""
    def render(paths: dict[str, Path], target: Path) -> None:
        pan = ken_burns(random.Random(seed), seconds, *SIZE)
        ffmpeg("-i", str(paths[background]), "-loop", "1", "-i", str(paths[sprite]), "-filter_complex",
               f"[0:v]{pan}[bg];[1:v]scale=-2:{int(SIZE[1] * 0.85)},format=rgba[sp];"
               f"[bg][sp]overlay=x='W*0.45+W*0.35*max(0,1-t)':y=H-h:shortest=1,format=yuv420p[v]",
               "-map", "[v]", "-t", f"{seconds:.2f}", *VIDEO, str(target))
    return Render(render, (background, sprite))


def _slideshow(photos: tuple[str, ...], holds: tuple[float, ...], transition: str) -> Render:
    """Photographs held `holds` seconds each, joined by 0.6 s transitions."""
    def render(paths: dict[str, Path], target: Path) -> None:
        inputs = [arg for photo, hold in zip(photos, holds)
                  for arg in ("-loop", "1", "-t", f"{hold:.2f}", "-i", str(paths[photo]))]
        parts = [f"[{n}:v]{fit(*SIZE)},fps=25,format=yuv420p[p{n}]" for n in range(len(photos))]
        last, offset = "p0", 0.0
        for n in range(1, len(photos)):
            offset += holds[n - 1] - 0.6
            parts.append(f"[{last}][p{n}]xfade=transition={transition}:duration=0.6:offset={offset:.2f}[x{n}]")
            last = f"x{n}"
        ffmpeg(*inputs, "-filter_complex", ";".join(parts), "-map", f"[{last}]", *VIDEO, str(target))
    return Render(render, photos)


def _card(colour: str, lines: tuple[str, ...], seconds: float) -> Render:
    """A quote card: lines of text fading in one after another on a plain vertical frame."""
    def render(paths: dict[str, Path], target: Path) -> None:
        text = ",".join(f"drawtext=fontfile={FONT}:text='{line}':fontsize=54:fontcolor=white:x=(w-tw)/2:"
                        f"y=h*{0.35 + 0.1 * n:.2f}:alpha='min(1,max(0,t-{0.8 * n:.1f}))'" for n, line in enumerate(lines))
        ffmpeg("-f", "lavfi", "-i", f"color=c={colour}:s=720x1280:r=25:d={seconds:.2f}", "-vf", f"{text},format=yuv420p",
               *VIDEO, str(target))
    return Render(render)


def _visualiser(start: float, seconds: float) -> Render:
    """The song's constant-Q spectrum drawn as it plays, with the song."""
    def render(paths: dict[str, Path], target: Path) -> None:
        ffmpeg("-ss", str(start), "-t", f"{seconds:.2f}", "-i", str(paths[SONG]), "-filter_complex",
               f"[0:a]showcqt=s={SIZE[0]}x{SIZE[1]}:r=25:axis=0,format=yuv420p[v]", "-map", "[v]", "-map", "0:a",
               *VIDEO, *AUDIO, str(target))
    return Render(render, (SONG,))


def _tune(seed: int, seconds: float = 45.0) -> Render:
    """A plucked tune sox synthesises: a seeded walk over a pentatonic scale, a fifth above."""
    def render(paths: dict[str, Path], target: Path) -> None:
        rng, step = random.Random(seed), 0.3
        scale = [0, 2, 4, 7, 9, 12, 14, 16, 19]
        chains, degree = [], 3
        for _ in range(int(seconds / step)):
            degree = min(len(scale) - 1, max(0, degree + rng.choice([-2, -1, 1, 2])))
            root = scale[degree] - 9
            chains += [":", "synth", str(step), "pluck", f"%{root}", "pluck", f"%{root + 7}"]
        subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(target), *chains[1:]], check=True,
                       capture_output=True)
    return Render(render)


def _pink_noise(paths: dict[str, Path], target: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:seed=4", "-t", "32", "-ac", "2", str(target))


GENERATED2: dict = {
    "gen_carpet_a.mp4": "sierpinski=s=640x360:type=carpet:seed=3:jump=40:rate=25",
    "gen_carpet_b.mp4": "sierpinski=s=640x360:type=carpet:seed=17:jump=40:rate=25",
    "gen_carpet_c.mp4": "sierpinski=s=640x360:type=carpet:seed=29:jump=40:rate=25",
    "gen_triangle.mp4": "sierpinski=s=640x360:type=triangle:seed=8:jump=60:rate=25",
    "gen_vn_uni_smile.mp4": _scene("tq_bg_uni.jpg", "tq_sylvie_green_smile.png", 8, "uni_smile"),
    "gen_vn_uni_surprised.mp4": _scene("tq_bg_uni.jpg", "tq_sylvie_blue_surprised.png", 6, "uni_surprised"),
    "gen_vn_meadow.mp4": _scene("tq_bg_meadow.jpg", "tq_sylvie_green_normal.png", 10, "meadow"),
    "gen_vn_menu.mp4": _scene("tq_main_menu.png", "tq_sylvie_green_normal.png", 6, "menu"),
    "gen_slides_a.mp4": _slideshow(SLIDES, (3.2, 3.0, 3.4, 3.0),
                                   "fade"),
    # The same photographs in the same order, held for other times, with another transition.
    "gen_slides_b.mp4": _slideshow(SLIDES, (2.4, 4.0, 2.6, 3.2),
                                   "slideleft"),
    "gen_quote_a.mp4": _card("0x1e3a5f", ("BE THE ENERGY", "YOU WANT", "TO ATTRACT"), 6),
    "gen_quote_b.mp4": _card("0x1e3a5f", ("SMALL STEPS", "EVERY DAY", "STILL COUNT"), 6),
    **{name: _visualiser(start, seconds) for name, (start, seconds) in VISUALISED.items()},
    **{f"sox_tune_{name}.wav": _tune(seed) for name, seed in (("a", 5), ("b", 12), ("c", 21), ("d", 33), ("e", 40))},
    "pink_noise.wav": Render(_pink_noise),
}

FOOTAGE2: list[Footage] = [
    Footage("astro", "astro", "astronaut.png", 0, 6, "720p", ("voice", "nl", ROOM, -4),
            "scikit-image's astronaut portrait panned, narrated in Dutch"),
    Footage("cat", "cat", "chelsea.png", 0, 5, "vertical", ("track", SONG, 23, -6),
            "scikit-image's cat panned, vertical, the song's last seconds"),
    Footage("coffee", "coffee", "coffee.png", 0, 8, "480p", ("voice", "pl", ROOM, -4),
            "a cup of coffee panned, narrated in Polish"),
    Footage("rocket", "rocket", "rocket.jpg", 0, 12, "vertical", ("track", "sox_tune_a.wav", 0, -6),
            "a rocket on its pad panned, vertical, a tune sox plucks"),
    Footage("hubble", "hubble", "hubble_deep_field.jpg", 0, 24, "720p", ("voice", "sv", ("track", "sox_tune_c.wav", 0, -12), -4),
            "the Hubble deep field panned, 24 s, Swedish narration over a tune"),
    Footage("moto_l", "moto", "motorcycle_left.png", 0, 7, "480p", ("voice", "en-us+m5", ROOM, -4),
            "a motorcycle in a workshop (left camera of a stereo pair) panned, narrated"),
    Footage("moto_r", "moto", "motorcycle_right.png", 0, 7, "480p", ("track", "house_lo.ogg", 0, -4),
            "the same motorcycle from the right camera, pygame's house loop", SAME_SET_OTHER_MOMENT, "moto_l"),
    Footage("cameraman", "cameraman", "camera.png", 0, 5, "480p", ("track", "codec2_hts1a.wav", 0, 0),
            "the classic cameraman photograph panned, a codec2 speaker"),
    Footage("retina", "retina", "retina.jpg", 0, 6, "720p", ("track", "sox_tune_b.wav", 4, -6),
            "a retina photograph panned, another sox tune"),
    Footage("ihc", "ihc", "ihc.png", 0, 9, "480p", ("voice", "cs", ROOM, -4), "a stained tissue slide panned, Czech"),
    Footage("moon", "moon", "moon.png", 0, 6, "480p", ("none",), "the moon's surface panned, no audio stream"),
    Footage("coins", "coins", "coins.png", 0, 5, "720p", ("none",), "old coins panned, no audio stream"),
    Footage("vn_uni", "vn_uni", "gen_vn_uni_smile.mp4", 0, 8, "native",
            ("voice", "en-gb+f5", ("track", "sox_tune_d.wav", 0, -10), -2),
            "a visual-novel scene (The Question's university, Sylvie smiling), narrated over a tune"),
    Footage("vn_uni_b", "vn_uni", "gen_vn_uni_surprised.mp4", 0, 6, "native", ("track", "sox_tune_a.wav", 14, -6),
            "the same background, Sylvie surprised in another dress, a tune", SAME_SET_OTHER_MOMENT, "vn_uni"),
    Footage("vn_meadow", "vn_meadow", "gen_vn_meadow.mp4", 0, 10, "native", ("voice", "fi", ROOM, -4),
            "a visual-novel scene in a meadow, Finnish"),
    Footage("vn_menu", "vn_meadow", "gen_vn_menu.mp4", 0, 6, "native", ("voice", "lv", ROOM, -4),
            "the same game's title screen, the same Sylvie sprite in front, Latvian", SAME_FILM_OTHER_SCENE, "vn_meadow"),
    Footage("club", "club", "tq_bg_club.jpg", 0, 5, "480p", ("track", "codec2_mmt1.wav", 0, 0),
            "The Question's club room panned, a codec2 speaker"),
    Footage("lecture", "lecture", "tq_bg_lecturehall.jpg", 0, 22, "720p", ("voice", "en-us+m6", ROOM, -4),
            "The Question's lecture hall panned, 22 s, narrated"),
    Footage("carpet", "carpet", "gen_carpet_a.mp4", 0, 9, "480p", ("track", "sox_tune_b.wav", 12, -6),
            "a Sierpinski carpet FFmpeg draws, a tune"),
    Footage("carpet_b", "carpet", "gen_carpet_b.mp4", 0, 6, "480p", ("voice", "hu", ROOM, -4),
            "the same generator with another seed, Hungarian", SAME_CAMERA_OTHER_MOMENT, "carpet"),
    Footage("carpet_c", "carpet", "gen_carpet_c.mp4", 0, 5, "480p", ("none",),
            "the same generator with a third seed, no audio stream", SAME_CAMERA_OTHER_MOMENT, "carpet"),
    Footage("viz", "viz", "gen_viz_a.mp4", 0, 10, "native", ("own", 0),
            "a constant-Q visualiser of the song's first 10 s, with the song"),
    Footage("viz_b", "viz", "gen_viz_b.mp4", 0, 8, "native", ("own", 0),
            "the same visualiser at 15-23 s of the song", SAME_FILM_OTHER_SCENE, "viz"),
    Footage("slides", "slides", "gen_slides_a.mp4", 0, 10.8, "native", ("track", "sox_tune_a.wav", 20, -4),
            "a slideshow of four photographs (a sign, a clock, cells, a horse), a tune"),
    Footage("quote", "quote", "gen_quote_a.mp4", 0, 6, "native", ("track", "sox_tune_d.wav", 26, -6),
            "a quote card (white words on blue), a tune"),
    Footage("quote_b", "quote", "gen_quote_b.mp4", 0, 6, "native", ("track", "sox_tune_b.wav", 21.5, -6),
            "the same card template, other words, a tune", SAME_SET_OTHER_MOMENT, "quote"),
    Footage("unrelated_gravel", "unrelated_gravel", "gravel.png", 0, 5, "vertical", ("track", "codec2_big_dog.wav", 0, 0),
            "gravel panned, a codec2 speaker", UNRELATED),
    Footage("unrelated_page", "unrelated_page", "page.png", 0, 4.5, "480p", ("track", "codec2_hts2a.wav", 0, 0),
            "a printed page panned, a codec2 speaker", UNRELATED),
    Footage("unrelated_triangle", "unrelated_triangle", "gen_triangle.mp4", 0, 7, "480p", ("voice", "tr", ROOM, -4),
            "a Sierpinski triangle, Turkish", UNRELATED),
    Footage("unrelated_grass", "unrelated_grass", "grass.png", 0, 5, "720p", ("voice", "ro", ROOM, -4),
            "grass panned, Romanian", UNRELATED),
    Footage("unrelated_brick", "unrelated_brick", "brick.png", 0, 6, "480p", ("none",),
            "a brick wall panned, no audio stream", UNRELATED),
]


# --- copy recipes: kind -> function of the generator giving an edits.filtered edit --------------
def _speed(factor: float, pitch: bool) -> Callable[[random.Random], tuple]:
    """The app's speed button: pictures and sound `factor` times as fast; the sound's tempo only
    (atempo), or its pitch moved with it (asetrate: a tape played faster)."""
    def edit(rng: random.Random) -> tuple:
        sound = f"asetrate={44100 * factor:.0f},aresample=44100" if pitch else f"atempo={factor}"
        return (f"setpts=PTS/{factor}", f"aresample=44100,{sound}", [],
                f"played {factor}x, sound {'pitch moved with it' if pitch else 'tempo only'}")
    return edit


def _tilt(rng):
    degrees = rng.uniform(3, 10) * rng.choice([-1, 1])
    angle = math.radians(abs(degrees))
    zoom = math.cos(angle) + math.sin(angle) * 16 / 9  # enough to hide the corners of a 16:9 or 9:16 frame
    return (f"rotate={math.radians(degrees):.4f},scale={edits.even(f'iw*{zoom:.3f}')}:-2,"
            f"crop=iw/{zoom:.3f}:ih/{zoom:.3f}", None, [], f"tilted {degrees:+.1f} degrees, zoomed {zoom:.2f}x to fill")


def _drawn(template: str, what: str, low: int = 0, high: int = 1) -> Callable[[random.Random], tuple]:
    """A picture filter with one whole-number strength drawn from [low, high) (`{}` in both texts)."""
    def edit(rng: random.Random) -> tuple:
        strength = rng.randrange(low, high)
        return template.format(strength), None, [], what.format(strength)
    return edit


def _curves(rng):
    preset = rng.choice(["vintage", "cross_process", "strong_contrast", "lighter"])
    return f"curves=preset={preset}", None, [], f"colour filter: curves preset {preset}"


def _border(rng):
    share, colour = rng.uniform(0.06, 0.12), rng.choice(["0xff3b7f", "0x20c997", "white", "0xffd400"])
    return (f"pad={edits.even(f'iw*{1 + 2 * share:.2f}')}:{edits.even(f'ih*{1 + 2 * share:.2f}')}:"
            f"(ow-iw)/2:(oh-ih)/2:color={colour}", None, [], f"a {colour} border, {share:.0%} each side")


def _ticker(rng):
    text = rng.choice(["FOLLOW FOR PART 2", "WAIT FOR THE END", "LINK IN BIO - NEW VIDEO EVERY DAY"])
    speed = rng.randrange(90, 160)
    return (f"drawtext=fontfile={FONT}:text='{text}':fontsize=h*0.06:fontcolor=white:box=1:boxcolor=black@0.6:"
            f"boxborderw=8:y=h*0.86:x=w-mod(t*{speed}\\,w+tw)", None, [], f"a caption '{text}' scrolling at {speed} px/s")


def _watermark(rng):
    handle = rng.choice(["@daily.clips", "@viralvault", "@reposts4u"])
    return (f"drawtext=fontfile={FONT}:text='{handle}':fontsize=h*0.05:fontcolor=white@0.55:"
            f"x=(w-tw)*abs(sin(t*0.5)):y=(h-th)*abs(cos(t*0.35))", None, [], f"a moving watermark '{handle}'")


PICTURE_EDITS2 = {
    "speed_half": _speed(0.5, False), "speed_double": _speed(2.0, False), "speed_half_pitch": _speed(0.5, True),
    "speed_double_pitch": _speed(2.0, True), "tilt_zoom": _tilt,
    "box_blur": _drawn("boxblur=luma_radius={0}:chroma_radius={0}", "box blur, radius {}", 5, 10),
    "grain_vignette": _drawn("noise=c0s={}:c0f=t,vignette=PI/4", "film grain {} and a vignette", 20, 40),
    "fps_15_blend": _drawn("tmix=frames=2,fps=15", "15 frames per second, neighbours blended"),
    "fps_30": _drawn("fps=30", "re-timed to 30 frames per second (frames repeated)"),
    "sepia": _drawn("colorchannelmixer=.393:.769:.189:0:.349:.686:.168:0:.272:.534:.131", "sepia"),
    "curves_filter": _curves, "colour_border": _border,
    "scrolling_caption": _ticker, "moving_watermark": _watermark,
}


# Sound edits, pictures copied: kind -> (audio filter, description) of the generator.
def _volume(gain: int) -> Callable[[random.Random], tuple[str, str]]:
    return lambda rng: (f"volume={gain}dB" + (",alimiter=limit=0.95" if gain > 0 else ""), f"sound {gain:+d} dB")


SOUND_EDITS = {
    "volume_plus10": _volume(10), "volume_minus10": _volume(-10),
    "phone_band": lambda rng: ("highpass=f=300,lowpass=f=3400,highpass=f=300,lowpass=f=3400", "a phone's 300-3400 Hz band"),
    "reverb": lambda rng: ("aecho=0.8:0.85:40|73|121|167:0.5|0.4|0.3|0.25", "a room's reverb (four echoes)"),
    "narrowband_8k": lambda rng: ("aresample=8000,aresample=44100", "resampled to 8 kHz and back"),
}

COPIES2 = [
    ("speed_half", "cat"), ("speed_half", "cameraman"), ("speed_half", "moon"), ("speed_double", "hubble"),
    ("speed_double", "rocket"), ("speed_double", "slides"), ("speed_half_pitch", "astro"), ("speed_half_pitch", "club"),
    ("speed_double_pitch", "lecture"), ("speed_double_pitch", "vn_meadow"), ("tilt_zoom", "coffee"),
    ("tilt_zoom", "coins"), ("tilt_zoom", "vn_uni"), ("box_blur", "retina"), ("box_blur", "carpet"),
    ("box_blur", "moon"), ("grain_vignette", "moto_l"), ("grain_vignette", "quote"), ("fps_15_blend", "viz"),
    ("fps_15_blend", "carpet"), ("fps_30", "ihc"), ("fps_30", "coins"), ("sepia", "astro"), ("sepia", "slides"),
    ("curves_filter", "cat"), ("curves_filter", "vn_meadow"), ("colour_border", "rocket"), ("colour_border", "moon"),
    ("colour_border", "club"), ("square_blur_fill", "lecture"), ("square_blur_fill", "cat"),
    ("scrolling_caption", "viz"), ("scrolling_caption", "moto_l"), ("moving_watermark", "hubble"),
    ("moving_watermark", "quote"), ("corner_logo", "coffee"), ("corner_logo", "coins"), ("corner_logo", "vn_uni"),
    ("excerpt_in_longer", "hubble"), ("excerpt_in_longer", "lecture"), ("excerpt_in_longer", "vn_meadow"),
    ("two_concatenated", "cameraman"), ("two_concatenated", "quote"), ("volume_plus10", "ihc"),
    ("volume_minus10", "viz"), ("phone_band", "moto_l"), ("phone_band", "hubble"), ("noise_snr", "astro"),
    ("noise_snr", "rocket"), ("reverb", "coffee"), ("reverb", "carpet"), ("narrowband_8k", "vn_uni"),
    ("narrowband_8k", "cat"), ("aac_32k", "lecture"), ("aac_32k", "retina"), ("voice_over", "viz"),
    ("voice_over", "slides"), ("laugh_track", "cameraman"), ("laugh_track", "vn_meadow"), ("volume_plus10", "quote"),
    ("volume_minus10", "club"), ("aac_32k", "vn_uni"), ("speed_half_pitch", "quote"), ("grain_vignette", "coins"),
    ("fps_30", "vn_uni_b"), ("sepia", "carpet_b"), ("tilt_zoom", "moto_r"), ("box_blur", "vn_uni_b"),
]
# Same pictures, other sound.
RESOUNDED2 = [
    ("astro", ("track", "sox_tune_b.wav", 28, -6), "a tune instead of the narration"),
    ("cat", ("voice", "da", ROOM, -4), "Danish narration instead of the song"),
    ("rocket", ("track", "sox_tune_c.wav", 24, -6), "another tune"),
    ("viz", ("voice", "eo", ROOM, -4), "Esperanto over the visualiser instead of its song"),
    ("moto_l", ("voice", "nb", ROOM, -4), "Norwegian instead of English"),
    ("vn_meadow", ("track", "sox_tune_d.wav", 33, -4), "a tune instead of the narration"),
    ("quote", ("track", "sox_tune_d.wav", 10, -6), "another stretch of the tune"),
    ("retina", ("voice", "hr", ROOM, -4), "Croatian instead of the tune"),
    ("club", ("track", "sox_tune_d.wav", 20, -6), "a tune instead of the speaker"),
]
OTHER_WORDS2 = ["astro", "coffee", "lecture", "ihc"]
# The same voice AND the same music bed, other words (a series of one creator's clips).
SAME_BED = ["vn_uni", "hubble"]
# Same sound, other pictures.
REPICTURED2 = [("astro", "color.png"), ("cat", "phantom.png"), ("rocket", "microaneurysms.png"),
               ("coffee", "digits.png"), ("viz", "imageTextN.png"), ("quote", "notes.png"),
               ("cameraman", "opencv-logo.png")]
# The trending song at another point, under other pictures: (original with the song, its new start, pictures).
OTHER_POINT = [("cat", 10.0, "blox.jpg"), ("rocket", 31.0, "ml.png")]
# What an excerpt is put between (pictures shown nowhere else), one pair per excerpt.
FILLERS = [("pic1.png", "pic3.png"), ("pic5.png", "pic6.png"), ("box.png", "text_defocus.jpg")]
SLIDESHOW_OTHER_SOUND = "slideshow_other_sound"
SAME_BED_OTHER_WORDS = "same_bed_other_words"
TRACK_OTHER_POINT = "track_other_point"


class Probe2(Probe):
    """Probe v2's recipes: probe v1's machinery with its own catalogue, copies and hard negatives."""

    name = "dupstream probe set v2 (held out: never calibrated on)"
    default_seed = SEED
    footage = FOOTAGE2
    media = PROBE2_MEDIA
    generated = GENERATED2
    picture_edits = PICTURE_EDITS2
    copies = COPIES2
    resounded = RESOUNDED2
    other_words = OTHER_WORDS2
    repictured = REPICTURED2
    negative_types = {SLIDESHOW_OTHER_SOUND: SAME_VISUALS_DIFFERENT_AUDIO, SAME_BED_OTHER_WORDS: SAME_PERSON_OTHER_WORDS,
                      TRACK_OTHER_POINT: SAME_AUDIO_DIFFERENT_VISUALS}

    def copy(self, kind: str, source: str) -> None:
        rng = self.rng(f"{source}:{kind}")
        seconds, sound = self.seconds[source], self.has_audio(source)
        base = f"{source}_{kind}"
        if kind in SOUND_EDITS:
            audio_filter, what = SOUND_EDITS[kind](rng)
            self.add(base, kind, source, VerdictClass.DUPLICATE, f"{what}, pictures copied",
                     lambda paths: ["-i", str(paths[source]), "-c:v", "copy", "-af", audio_filter, *AUDIO], seconds)
        elif kind == "aac_32k":
            self.add(base, kind, source, VerdictClass.DUPLICATE, "sound as 32 kbit/s mono AAC, pictures copied",
                     lambda paths: ["-i", str(paths[source]), "-c:v", "copy", "-ac", "1", "-c:a", "aac", "-b:a", "32k"],
                     seconds)
        elif kind == "noise_snr":
            snr = rng.uniform(10, 20)

            def arguments(paths: dict[str, Path]) -> list[str]:
                # The noise's level set from both tracks' measured levels: an SNR, not a gain.
                gain = mean_volume(paths[source]) - snr - mean_volume(paths["pink_noise.wav"])
                return ["-i", str(paths[source]), "-i", str(paths["pink_noise.wav"]), "-filter_complex",
                        f"[0:a]{STEREO}[s];[1:a]{STEREO},volume={gain:.1f}dB[n];"
                        f"[s][n]amix=inputs=2:duration=first:normalize=0[a]",
                        "-map", "0:v", "-map", "[a]", "-c:v", "copy", *AUDIO]
            self.add(base, kind, source, VerdictClass.DUPLICATE, f"pink noise at {snr:.0f} dB SNR", arguments, seconds,
                     ("pink_noise.wav",))
        elif kind in ("voice_over", "laugh_track"):
            self.overdub(kind, source, rng)
        elif kind == "square_blur_fill":
            side = 720
            graph = (f"[0:v]split[a][b];[a]{fit(side, side)},boxblur=20:5[bg];"
                     f"[b]scale={side}:{side}:force_original_aspect_ratio=decrease[fg];"
                     f"[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1[v]")
            self.add(base, kind, source, VerdictClass.DUPLICATE, "in a square frame filled with its own blurred pictures",
                     lambda paths: ["-i", str(paths[source]), "-filter_complex", graph, "-map", "[v]",
                                    *(["-map", "0:a"] if sound else []), *VIDEO, *(AUDIO if sound else [])], seconds,
                     has_audio=sound)
        elif kind == "corner_logo":
            corner = rng.choice([("W*0.03", "H*0.03"), ("W-w-W*0.03", "H*0.03"), ("W-w-W*0.03", "H-h-H*0.03")])
            graph = (f"[1:v][0:v]scale2ref=w=main_w*0.2:h=ow/a[logo][base];[logo]format=rgba,"
                     f"colorchannelmixer=aa=0.75[l];[base][l]overlay=x={corner[0]}:y={corner[1]}:shortest=1,"
                     f"{edits.even_frame()}[v]")
            self.add(base, kind, source, VerdictClass.DUPLICATE, "scikit-image's logo in a corner, 75 % opaque",
                     lambda paths: ["-i", str(paths[source]), "-loop", "1", "-i", str(paths["logo.png"]),
                                    "-filter_complex", graph, "-map", "[v]", *(["-map", "0:a"] if sound else []),
                                    *VIDEO, *(AUDIO if sound else []), "-t", f"{seconds:.2f}"], seconds, ("logo.png",),
                     has_audio=sound)
        elif kind == "excerpt_in_longer":
            self.excerpt(base, source, rng)
        elif kind == "two_concatenated":
            self.concatenated(base, source, rng)
        else:
            super().copy(kind, source)

    def overdub(self, kind: str, source: str, rng: random.Random) -> None:
        """Someone talking (or laughing) over the original sound, at its level (voice-over) or 6 dB
        under it (laughs)."""
        seconds = self.seconds[source]
        if kind == "voice_over":
            voices = [(rng.choice(["en-gb-x-rp", "en-us+klatt"]), speech_text(rng, seconds * 0.6), 0.8)]
            below, what = 0, f"a voice-over ({voices[0][0]}) at the sound's level"
        else:
            voices = [(voice, "ha ha ha ha! ha ha ha ha ha!", delay) for voice, delay in
                      (("en-us+f5", 0.5), ("en-us+m5", 0.9), ("en-gb+f5", 1.3), ("en-us+m6", seconds * 0.55))]
            below, what = 6, "a laugh track (four espeak voices laughing) 6 dB under the sound"

        def arguments(paths: dict[str, Path]) -> list[str]:
            said = [speak(text, voice, paths["_work"]) for voice, text, _ in voices]
            gain = mean_volume(paths[source]) - below - mean_volume(said[0])
            inputs = [arg for path in said for arg in ("-i", str(path))]
            parts = [f"[{n + 1}:a]{STEREO},adelay={int(delay * 1000)}:all=1,volume={gain:.1f}dB[o{n}]"
                     for n, (_, _, delay) in enumerate(voices)]
            graph = ";".join([f"[0:a]{STEREO}[s]", *parts]) + ";[s]" + "".join(f"[o{n}]" for n in range(len(voices))) + \
                f"amix=inputs={len(voices) + 1}:duration=first:normalize=0[a]"
            return ["-i", str(paths[source]), *inputs, "-filter_complex", graph, "-map", "0:v", "-map", "[a]",
                    "-c:v", "copy", *AUDIO]
        self.add(f"{source}_{kind}", kind, source, VerdictClass.DUPLICATE, what, arguments, seconds)

    def excerpt(self, base: str, source: str, rng: random.Random) -> None:
        """4-6 s of the original between two other clips (photographs panned, under a tune): the
        copy is most of a longer video."""
        length = rng.uniform(4, 6)
        start = rng.uniform(0, self.seconds[source] - length)
        before, after = rng.uniform(3, 6), rng.uniform(3, 6)
        number = sum(recipe.kind == "excerpt_in_longer" for recipe in self.recipes)
        photos, tune, at = FILLERS[number], FILLER_TUNE, FILLER_STRETCH * number
        width, height = SIZE
        graph = ";".join([f"[0:v]{ken_burns(rng, before, width, height)},format=yuv420p[v0]",
                          f"[1:v]{fit_inside(width, height)},fps=25,format=yuv420p[v1]",
                          f"[2:v]{ken_burns(rng, after, width, height)},format=yuv420p[v2]",
                          f"[3:a]{STEREO}[a0]", f"[1:a]{STEREO}[a1]", f"[4:a]{STEREO}[a2]",
                          "[v0][a0][v1][a1][v2][a2]concat=n=3:v=1:a=1[v][a]"])
        self.add(base, "excerpt_in_longer", source, VerdictClass.DUPLICATE,
                 f"{start:.1f}-{start + length:.1f} s of it between {before:.1f} s of {photos[0]} and {after:.1f} s "
                 f"of {photos[1]}", lambda paths: [
                     "-i", str(paths[photos[0]]), "-ss", f"{start:.2f}", "-t", f"{length:.2f}", "-i", str(paths[source]),
                     "-i", str(paths[photos[1]]), "-ss", f"{at:.2f}", "-t", f"{before:.2f}", "-i", str(paths[tune]),
                     "-ss", f"{at + 6:.2f}", "-t", f"{after:.2f}", "-i", str(paths[tune]), "-filter_complex", graph,
                     "-map", "[v]", "-map", "[a]", *VIDEO, *AUDIO], before + length + after, (*photos, tune))

    def concatenated(self, base: str, source: str, rng: random.Random) -> None:
        """The whole original followed by the whole of another (a "part 1 + part 2" repost)."""
        other = rng.choice([footage.video_id for footage in self.footage if footage.video_id != source
                            and footage.kind == "original" and footage.sound[0] != "none"
                            and self.seconds[footage.video_id] + self.seconds[source] <= 20])
        width, height = SIZE
        graph = ";".join([f"[{n}:v]{fit_inside(width, height)},fps=25,format=yuv420p[v{n}];[{n}:a]{STEREO}[a{n}]"
                          for n in range(2)]) + ";[v0][a0][v1][a1]concat=n=2:v=1:a=1[v][a]"
        self.add(base, "two_concatenated", source, VerdictClass.DUPLICATE, f"it, then {other}", lambda paths: [
            "-i", str(paths[source]), "-i", str(paths[other]), "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
            *VIDEO, *AUDIO], self.seconds[source] + self.seconds[other], sources=(other,), contains=(source, other))

    def more(self) -> None:
        for source in SAME_BED:
            _, voice, bed, gain, text = self.sounds[source]
            spec = self.resolved(("voice", voice, bed, gain), self.seconds[source], f"{source}:bed", avoid=text)
            self.resound(SAME_BED_OTHER_WORDS, source, spec, f"the same voice ({voice}) and music bed, other sentences")
        for number, spec in enumerate([("voice", "sk", ROOM, -4), ("voice", "et", ROOM, -4)]):
            spec = self.resolved(spec, 10.8, f"slides:{number}")
            self.pictures_with_sound(SLIDESHOW_OTHER_SOUND, "slides", "gen_slides_b.mp4", spec,
                                     "the same four photographs in the same order, held for other times, another "
                                     "transition, other sound")
        for source, start, pictures in OTHER_POINT:
            _, media, _, gain = self.sounds[source]
            rng = self.rng(f"{source}:other_point")
            seconds = self.seconds[source]
            video = ken_burns(rng, seconds, *SIZE)
            self.add(f"{source}_{TRACK_OTHER_POINT}", TRACK_OTHER_POINT, source, VerdictClass.UNIQUE,
                     f"{media} from {start:.0f} s (another point of the song) under {pictures}",
                     lambda paths, media=media, start=start, pictures=pictures, video=video, seconds=seconds: [
                         "-i", str(paths[pictures]), "-ss", str(start), "-t", f"{seconds:.2f}", "-i", str(paths[media]),
                         "-filter_complex", f"[0:v]{video}[v];[1:a]{STEREO},volume={gain}dB[a]", "-map", "[v]",
                         "-map", "[a]", *VIDEO, *AUDIO, "-t", f"{seconds:.2f}"], seconds, (pictures, media))

    def pictures_with_sound(self, kind: str, related: str, pictures: str, spec: tuple, what: str) -> None:
        seconds = self.seconds[related]
        inputs, graph = sound_graph(spec, seconds, 1)
        self.add(f"{related}_{kind}", kind, related, VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO, what,
                 lambda paths: ["-i", str(paths[pictures]), *inputs(paths), "-filter_complex", f"[0:v]null[v];{graph}",
                                "-map", "[v]", "-map", "[a]", *VIDEO, *AUDIO, "-t", f"{seconds:.2f}"],
                 seconds, (pictures, *sound_media(spec)))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        print(build_probe(Path(sys.argv[2]), Path(".cache"), probe=Probe2()))
    elif sys.argv[1] == "report":
        print(report(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        raise SystemExit("usage: python -m tooling.devset.probe2 build DIR | report MANIFEST EVAL_JSON")
