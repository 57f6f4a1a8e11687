"""A class of crops of moving pictures that keep their sound, built from packaged media, and the
stream's verdicts on them: a development tool for the frames' line against the sound's
(streams.matching.decision.frames_on_line, streams.matching.visual.hits_on_line).

    python -m tooling.evaluation.crop_study build DIR     # makes the videos and DIR/manifest.json
    python -m tooling.evaluation.crop_study report DIR/manifest.json

Why a class: a crop of a panning picture shows what the whole picture showed at another moment
(the pan brings the cut-out part into the middle later or earlier), and a descriptor of the crop
resembles that moment's frame more than its own. The frames' own line then runs seconds off the
sound's, and is undistinctive there (the look is alike all around); the devset has one such copy
(photo_leuven_crop). Here: photographs panned and zoomed (the slideshow genre) and real footage
whose camera moves (a city flight, the turning earth), each with music; three crops of each at
60-85 % anywhere, with the sound; and per original one "same sound, other pictures" negative (another
photograph panned under the same stretch of the same track), which must stay
audio_match_different_visuals. Parameters are drawn from a seeded generator.

The report judges every video with the stream's own functions (tooling.evaluation.calibrate:
features cached in .cache/features/, a temporary index, streams.pipeline.judge) under the default
parameters, in publish order, and prints each verdict beside the expected one."""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from schemas.events import VerdictClass
from tooling.devset.devset import DevItem, read_manifest
from tooling.devset.edits import _crop, fit, ken_burns
from tooling.devset.packaged import CHECKOUT_CACHE, packaged_media
from tooling.devset.samples import ffmpeg

SECONDS = 12
SEED = 20261130
WIDTH, HEIGHT = 960, 540
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-r", "25",
          "-c:a", "aac", "-b:a", "128k"]
# (original id, picture: a photograph panned, or footage and its start, music and its start); the
# negative's photograph is the next original's, so no picture is in two originals' families.
ORIGINALS = [("pan_baboon", "baboon.jpg", 0.0, "funkyrobot.mp3", 5.0),
             ("pan_home", "home.jpg", 0.0, "1918.mp3", 20.0),
             ("pan_butterfly", "butterfly.jpg", 0.0, "sunflower-slow-drag.ogg", 40.0),
             ("city_flight", "cityCC0.mpg", 2.0, "renpyallstars.ogg", 10.0),
             ("earth_turning", "earth.mp4", 4.0, "funkyrobot.mp3", 60.0)]
OTHER_PICTURES = ["board.jpg", "stuff.jpg", "orange.jpg", "apple.jpg", "smarties.png"]
CROPS_PER_ORIGINAL = 3


def _picture(path: Path, start: float, rng: random.Random) -> list[str]:
    """Input arguments and the video filter of one picture: a photograph panned, or footage."""
    if path.suffix in (".jpg", ".jpeg", ".png"):
        return ["-i", str(path)], ken_burns(rng, SECONDS, WIDTH, HEIGHT)
    return ["-ss", str(start), "-stream_loop", "-1", "-i", str(path)], f"{fit(WIDTH, HEIGHT)},fps=25"


def _with_music(picture: tuple[list[str], str], music: Path, start: float, target: Path) -> None:
    inputs, video_filter = picture
    ffmpeg(*inputs, "-ss", str(start), "-i", str(music), "-filter_complex", f"[0:v]{video_filter}[v]",
           "-map", "[v]", "-map", "1:a", "-t", str(SECONDS), *ENCODE, str(target))


def build(directory: Path, cache_dir: Path = CHECKOUT_CACHE) -> Path:
    """The videos and their manifest (the development set's format); returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = {name for _, picture, _, music, _ in ORIGINALS for name in (picture, music)} | set(OTHER_PICTURES)
    media = packaged_media(cache_dir, sorted(names))
    rng = random.Random(SEED)
    items: list[DevItem] = []

    def add(video_id: str, verdict: str, root: str | None, related: str | None, kind: str, what: str) -> None:
        items.append(DevItem(video_id, f"{video_id}.mp4", len(items) + 1, verdict, root, related, kind, what,
                             float(SECONDS), source_group=related or video_id))

    for (video_id, picture, start, music, music_start), other in zip(ORIGINALS, OTHER_PICTURES):
        target = directory / f"{video_id}.mp4"
        if not target.exists():
            _with_music(_picture(media[picture], start, rng), media[music], music_start, target)
        add(video_id, VerdictClass.UNIQUE, None, None, "original", f"{picture} with {music} from {music_start:g} s")
        negative = f"{video_id}_same_sound_other_pictures"
        if not (directory / f"{negative}.mp4").exists():
            _with_music(_picture(media[other], 0.0, rng), media[music], music_start, directory / f"{negative}.mp4")
        add(negative, VerdictClass.AUDIO_MATCH_DIFFERENT_VISUALS, None, video_id, "same_audio_different_visuals",
            f"{other} panned under {video_id}'s sound")
    for video_id, *_ in ORIGINALS:
        for number in range(1, CROPS_PER_ORIGINAL + 1):
            crop, _, _, what = _crop(rng)
            copy = f"{video_id}_crop_{number}"
            if not (directory / f"{copy}.mp4").exists():
                ffmpeg("-i", str(directory / f"{video_id}.mp4"), "-vf", crop, *ENCODE, str(directory / f"{copy}.mp4"))
            add(copy, VerdictClass.DUPLICATE, video_id, video_id, "crop", what)
    manifest = directory / "manifest.json"
    manifest.write_text(json.dumps({"name": "crops of moving pictures with their sound",
                                    "items": [item._asdict() for item in items]}, indent=1) + "\n")
    return manifest


def report(manifest: Path, cache: Path = Path(".cache/features")) -> str:
    """Each video's verdict under the default parameters beside the expected one, and the count
    right per kind."""
    from streams.config import Settings
    from tooling.evaluation.calibrate import Judge, record_half
    from streams.params import MatchParams

    items = sorted(read_manifest(manifest), key=lambda item: item.order)
    settings = Settings(triton_url="onnx", media_roots=[str(Path(manifest).parent)])
    params = MatchParams.from_settings(settings)
    recorded, stored = record_half(items, params, settings, cache, progress=lambda line: None)
    verdicts = Judge(recorded, stored).verdicts(params)
    lines = ["| video | kind | what | expected | verdict | right |", "| --- | --- | --- | --- | --- | --- |"]
    right: dict[str, list[bool]] = {}
    for item in items:
        verdict, duplicate_of, _ = verdicts[item.video_id]
        ok = verdict == item.expected_verdict and (verdict != VerdictClass.DUPLICATE
                                                   or duplicate_of == item.expected_duplicate_of)
        right.setdefault(item.kind, []).append(ok)
        lines.append(f"| {item.video_id} | {item.kind} | {item.what} | {item.expected_verdict} | {verdict}"
                     f"{' of ' + duplicate_of if duplicate_of else ''} | {'yes' if ok else 'NO'} |")
    lines += [""] + [f"{kind}: {sum(oks)} of {len(oks)} right" for kind, oks in sorted(right.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build").add_argument("directory", type=Path)
    commands.add_parser("report").add_argument("manifest", type=Path)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    print(build(args.directory) if args.command == "build" else report(args.manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
