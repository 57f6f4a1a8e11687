"""The small sample set of the demo and the integration tests: one original with its soundtrack,
a re-encoded copy, a trimmed copy, an unrelated clip, a clip without sound; plus two broken
inputs (a missing file, a text file posing as a video). Built with the ffmpeg command from the
packaged clips in a few seconds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

from streams.devset.packaged import packaged_media


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
    media = packaged_media(cache_dir, ["world.mp4", "trailer_bbb.mp4", "bikes.mp4"])
    world, trailer, bikes = media["world.mp4"], media["trailer_bbb.mp4"], media["bikes.mp4"]
    out = {name: directory / f"{name}.mp4" for name in
           ("earth", "earth_reencoded", "earth_trimmed", "bunny_trailer", "bikes_silent")}
    if not out["earth"].exists():
        shutil.copyfile(world, out["earth"])
    if not out["earth_reencoded"].exists():
        ffmpeg("-i", str(world), "-vf", "scale=320:180", "-c:v", "libx264", "-crf", "34", "-preset", "veryfast",
               "-c:a", "aac", "-b:a", "64k", str(out["earth_reencoded"]))
    if not out["earth_trimmed"].exists():
        ffmpeg("-ss", "8", "-i", str(world), "-t", "16", "-c:v", "libx264", "-preset", "veryfast",
               "-c:a", "aac", str(out["earth_trimmed"]))
    if not out["bunny_trailer"].exists():
        ffmpeg("-ss", "20", "-i", str(trailer), "-t", "20", "-vf", "scale=640:360", "-c:v", "libx264",
               "-preset", "veryfast", "-c:a", "aac", str(out["bunny_trailer"]))
    if not out["bikes_silent"].exists():
        shutil.copyfile(bikes, out["bikes_silent"])
    not_a_video = directory / "not_a_video.mp4"
    not_a_video.write_text("this is a text file, not a video\n")
    return [
        Sample("earth", out["earth"], "unique", None, "original (30 s, with sound)"),
        Sample("earth_reencoded", out["earth_reencoded"], "duplicate", "earth", "re-encoded, downscaled copy"),
        Sample("earth_trimmed", out["earth_trimmed"], "duplicate", "earth", "16 s cut from the middle"),
        Sample("bunny_trailer", out["bunny_trailer"], "unique", None, "unrelated clip"),
        Sample("bikes_silent", out["bikes_silent"], "unique", None, "unrelated clip without sound"),
        Sample("missing_file", directory / "no_such_video.mp4", "failed", None, "a file that does not exist"),
        Sample("not_a_video", not_a_video, "failed", None, "a text file named .mp4"),
    ]
