"""A class of rotated, picture-in-picture (framed, unframed, and weak in luma), split-screen and
blurred-fill copies made with ffmpeg from packaged real footage, with their true regions, and the
negatives that must not get one; and the report of what streams.media.region and the rotated
views find on them.

    python -m tooling.region_study build DIR     # makes the videos and DIR/manifest.json
    python -m tooling.region_study report DIR/manifest.json [--split validation]
    python -m tooling.region_study scan DEVSET/manifest.json [--split validation]  # regions on a development set
    python -m tooling.region_study sweep DEVSET/manifest.json [--split calibration]  # the colour edges' constants
    python -m tooling.region_study moved BEFORE.json AFTER.json  # verdicts two `dupstream eval --json` disagree on

The cases are split by footage: the calibration half's foregrounds and backgrounds never appear in
the validation half, so constants chosen on one can be checked on the other. Per case the report
prints the regions proposed and their IoU with the truth, the SSCD similarity (ONNX Runtime) of
the best view to the original's frames at the same times, and the cost: decoding with the
region's cues, the detection itself, and the extra descriptor passes."""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

from streams.media.region import Region, active_regions
from tooling.devset.packaged import CHECKOUT_CACHE, packaged_media
from tooling.devset.samples import ffmpeg

SECONDS = 10
ENCODE = ["-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-r", "25"]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


class Footage(NamedTuple):
    name: str
    source: str  # packaged file
    start: float


# Per half: two foregrounds (the originals copies are made of) and two backgrounds (other videos
# the copies are laid over or next to).
HALVES = {
    "calibration": {"fg": [Footage("burrow", "trailer_bbb.mp4", 13.0), Footage("earth", "world.mp4", 0.0)],
                    "bg": [Footage("revenge", "trailer_bbb.mp4", 46.0), Footage("bikes", "bikes.mp4", 0.0)]},
    "validation": {"fg": [Footage("rodents", "trailer_bbb.mp4", 32.0), Footage("title", "trailer_bbb.mp4", 0.5)],
                   "bg": [Footage("earth2", "world.mp4", 15.0), Footage("bunny", "trailer_bbb.mp4", 24.5)]},
}

# (linear size, x, y as shares of the free room, border): insets 30-70 % anywhere, framed or not.
PIP_LAYOUTS = [(0.30, 0.05, 0.08, True), (0.45, 0.95, 0.9, False), (0.60, 0.5, 0.5, True), (0.70, 0.1, 0.8, False),
               (0.40, 0.8, 0.15, False)]


class Case(NamedTuple):
    video_id: str
    split: str
    kind: str
    original: str | None  # video_id of the original the case copies
    region: list[float] | None  # true region of the original's picture [top, bottom, left, right]
    rotation: int  # degrees the original was turned clockwise
    recipe: list[str]  # ffmpeg arguments before the output


def _input(footage: Footage, paths: dict[str, Path]) -> list[str]:
    return ["-stream_loop", "-1", "-ss", str(footage.start), "-t", str(SECONDS), "-i", str(paths[footage.source])]


def _filtered(footage: Footage, paths: dict[str, Path], video_filter: str) -> list[str]:
    return [*_input(footage, paths), "-vf", video_filter]


def _pip(fg: Footage, bg: Footage, paths, layout) -> tuple[list[str], list[float]]:
    size, x, y, border = layout
    width, height = round(1280 * size / 2) * 2, round(720 * size / 2) * 2
    left, top = round((1280 - width) * x), round((720 - height) * y)
    frame = f",drawbox=x=0:y=0:w=iw:h=ih:color=white:t={max(2, round(8 * size))}" if border else ""
    graph = (f"[0:v]scale=1280:720,setsar=1[bg];[1:v]scale={width}:{height},setsar=1{frame}[small];"
             f"[bg][small]overlay=x={left}:y={top}:shortest=1,format=yuv420p[v]")
    region = [top / 720, (top + height) / 720, left / 1280, (left + width) / 1280]
    return [*_input(bg, paths), *_input(fg, paths), "-filter_complex", graph, "-map", "[v]"], region


# Insets without a border whose sides are weak in luma: over a busy picture (a circuit board, a
# facade of windows: steps between neighbouring cells as large as across the inset's sides) panned
# behind them and brought to the inset's mean brightness and spread of luma, in grey where the
# inset has colour. (linear size, x, y as shares of the free room), one busy picture per half.
WEAK_LAYOUTS = [(0.30, 0.9, 0.1), (0.45, 0.05, 0.9), (0.55, 0.5, 0.5), (0.70, 0.9, 0.9), (0.40, 0.2, 0.3)]
BUSY = {"calibration": "board.jpg", "validation": "building.jpg"}
PAN = "scale=1600:900,setsar=1,crop=1280:720:x='mod(t*32,320)':y='mod(t*18,180)',format=gray"


def _luma_level(arguments: list[str], video_filter: str) -> tuple[float, float]:
    """The mean and standard deviation of the luma of an input (ffmpeg arguments) after
    video_filter, over the case's SECONDS (two frames a second, 64 x 36 pixels)."""
    import subprocess

    import numpy as np

    pixels = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", *arguments, "-t", str(SECONDS), "-vf",
                             f"{video_filter},fps=2,scale=64:36,format=gray", "-f", "rawvideo", "-"],
                            capture_output=True, check=True).stdout
    values = np.frombuffer(pixels, np.uint8).astype(np.float32)
    return float(values.mean()), float(values.std())


def _weak_pip(fg: Footage, busy: Path, paths, layout) -> tuple[list[str], list[float]]:
    size, x, y = layout
    still = ["-loop", "1", "-framerate", "25", "-t", str(SECONDS), "-i", str(busy)]
    fg_mean, fg_std = _luma_level(_input(fg, paths), "scale=1280:720,setsar=1")
    bg_mean, bg_std = _luma_level(still, PAN)
    # eq maps a level v to contrast * (v - 128) + 128 + 256 * brightness.
    contrast = fg_std / max(bg_std, 1.0)
    brightness = (fg_mean - 128 - contrast * (bg_mean - 128)) / 256
    width, height = round(1280 * size / 2) * 2, round(720 * size / 2) * 2
    left, top = round((1280 - width) * x), round((720 - height) * y)
    graph = (f"[0:v]{PAN},eq=contrast={contrast:.3f}:brightness={brightness:.3f},format=yuv420p[bg];"
             f"[1:v]scale={width}:{height},setsar=1[small];"
             f"[bg][small]overlay=x={left}:y={top}:shortest=1,format=yuv420p[v]")
    region = [top / 720, (top + height) / 720, left / 1280, (left + width) / 1280]
    return [*still, *_input(fg, paths), "-filter_complex", graph, "-map", "[v]"], region


def cases(paths: dict[str, Path]) -> list[Case]:
    found: list[Case] = []
    for split, half in HALVES.items():
        fg, bg = half["fg"], half["bg"]
        add = lambda name, kind, original, region, rotation, recipe: found.append(  # noqa: E731
            Case(f"{split[:3]}_{name}", split, kind, f"{split[:3]}_{original}" if original else None, region,
                 rotation, recipe))
        for footage in fg:
            add(footage.name, "original", None, None, 0, _filtered(footage, paths, "scale=1280:720,setsar=1"))
        portrait = f"{fg[1].name}_portrait"
        add(portrait, "original", None, None, 0, _filtered(fg[1], paths, "scale=-2:1280,crop=720:1280,setsar=1"))
        for footage in bg:
            add(footage.name, "negative_ordinary", None, None, 0, _filtered(footage, paths, "scale=1280:720,setsar=1"))
        # Rotations: transpose=1 turns clockwise, =2 counter-clockwise (270 clockwise).
        turns = {90: "transpose=1", 180: "hflip,vflip", 270: "transpose=2"}
        for rotation, turn in turns.items():
            add(f"{fg[0].name}_rot{rotation}", "rotation", fg[0].name, None, rotation,
                _filtered(fg[0], paths, f"scale=1280:720,setsar=1,{turn}"))
        add(f"{fg[1].name}_rot90", "rotation", fg[1].name, None, 90,
            _filtered(fg[1], paths, f"scale=1280:720,setsar=1,{turns[90]}"))
        for rotation in (90, 270):
            add(f"{portrait}_rot{rotation}", "rotation", portrait, None, rotation,
                _filtered(fg[1], paths, f"scale=-2:1280,crop=720:1280,setsar=1,{turns[rotation]}"))
        for number, layout in enumerate(PIP_LAYOUTS):
            recipe, region = _pip(fg[number % 2], bg[(number // 2) % 2], paths, layout)
            add(f"{fg[number % 2].name}_pip{round(layout[0] * 100)}", "picture_in_picture", fg[number % 2].name,
                region, 0, recipe)
        for number, layout in enumerate(WEAK_LAYOUTS):
            recipe, region = _weak_pip(fg[number % 2], paths[BUSY[split]], paths, layout)
            add(f"{fg[number % 2].name}_weakpip{round(layout[0] * 100)}", "picture_in_picture_weak_luma",
                fg[number % 2].name, region, 0, recipe)
        # A duet: the original and another video side by side, each cropped to a 9:16 half.
        for number, footage in enumerate(fg):
            other = bg[number]
            halves = "[0:v]scale=-2:640,crop=360:640,setsar=1[a];[1:v]scale=-2:640,crop=360:640,setsar=1[b];"
            order = "[a][b]" if number == 0 else "[b][a]"
            region = [0.0, 1.0, 0.0, 0.5] if number == 0 else [0.0, 1.0, 0.5, 1.0]
            # The second is a duet with the vertical original: its half is that picture whole.
            add(f"{footage.name}_duet", "duet", footage.name if number == 0 else portrait, region, 0,
                [*_input(footage, paths), *_input(other, paths), "-filter_complex",
                 f"{halves}{order}hstack=inputs=2,format=yuv420p[v]", "-map", "[v]"])
        # Split screen: the original on top of a vertical frame, another video below it.
        footage, other = fg[0], bg[1]
        add(f"{footage.name}_split", "split_screen", footage.name, [0.0, 406 / 1280, 0.0, 1.0], 0,
            [*_input(footage, paths), *_input(other, paths), "-filter_complex",
             "[0:v]scale=720:406,setsar=1[a];[1:v]scale=-2:874,crop=720:874,setsar=1[b];"
             "[a][b]vstack=inputs=2,format=yuv420p[v]", "-map", "[v]"])
        # Vertical re-posts filled with a blurred, enlarged copy of the same video.
        for number, footage in enumerate(fg):
            sigma = (20, 40)[number]
            add(f"{footage.name}_blurfill", "blurred_fill", footage.name, [438 / 1280, 842 / 1280, 0.0, 1.0], 0,
                [*_input(footage, paths), "-filter_complex",
                 f"[0:v]scale=1280:720,setsar=1,split[a][b];[a]scale=-2:1280,crop=720:1280,gblur=sigma={sigma}[fill];"
                 "[b]scale=720:404[sharp];[fill][sharp]overlay=x=0:y=438,format=yuv420p[v]", "-map", "[v]"])
        # Negatives: overlays that stay in place over ordinary footage.
        text = f"drawtext=fontfile={FONT}:fontcolor=white:fontsize=36"
        add(f"{fg[0].name}_letterbox", "negative_letterbox", fg[0].name, None, 0,
            _filtered(fg[0], paths, "scale=720:-2,pad=720:1280:0:(oh-ih)/2:black,setsar=1"))
        add(f"{bg[0].name}_logo", "negative_logo", None, None, 0,
            _filtered(bg[0], paths, "scale=1280:720,setsar=1,drawbox=x=1060:y=30:w=180:h=90:color=0x203080@1:t=fill,"
                                    f"{text}:text='NEWS':x=1100:y=55"))
        add(f"{bg[1].name}_banner", "negative_caption_banner", None, None, 0,
            _filtered(bg[1], paths, "scale=1280:720,setsar=1,drawbox=x=0:y=590:w=1280:h=130:color=black@0.8:t=fill,"
                                    f"{text}:text='Subscribe for more videos like this one':x=60:y=635"))
        add(f"{fg[1].name}_lower_third", "negative_lower_third", None, None, 0,
            _filtered(fg[1], paths, "scale=1280:720,setsar=1,drawbox=x=40:y=540:w=760:h=110:color=0xc02020@1:t=fill,"
                                    "drawbox=x=40:y=650:w=760:h=40:color=white@1:t=fill,"
                                    f"{text}:text='BREAKING  Live from the studio':x=70:y=575"))
    return found


def build(directory: Path, cache: Path = CHECKOUT_CACHE, only: list[str] | None = None) -> Path:
    """Makes the cases (those named in only, or all) in directory; returns the manifest's path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = packaged_media(cache, ["trailer_bbb.mp4", "world.mp4", "bikes.mp4", *BUSY.values()])
    manifest = []
    for case in cases(paths):
        if only is not None and case.video_id not in only:
            continue
        target = directory / f"{case.video_id}.mp4"
        if not target.exists():
            ffmpeg(*case.recipe, "-t", str(SECONDS), *ENCODE, str(target))
        manifest.append({**case._asdict(), "file": target.name, "recipe": None})
    path = directory / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path


def _embedded(encoded: str, dim: int):
    import numpy as np

    from schemas.internal import decode_array

    return decode_array(encoded, "float16", dim).astype(np.float32) if encoded else np.zeros((0, dim), np.float32)


def _similarity(view, reference) -> float:
    """The median over the view's frames of the best cosine similarity to any frame of the reference."""
    import numpy as np

    if not len(view) or not len(reference):
        return float("nan")
    return float(np.median((view @ reference.T).max(axis=1)))


def report(manifest: Path, split: str | None = None) -> None:
    """Prints, per case, what the frame stage makes of it, then a summary per kind."""
    from datetime import UTC, datetime

    from schemas.internal import AcceptedVideo
    from streams.config import Settings
    from streams.embedding.onnx import OnnxEmbedder
    from streams.media.video import sample_frames
    from streams.params import MatchParams
    from streams.stages.frames import describe_frames

    items = [item for item in json.loads(manifest.read_text()) if split in (None, item["split"])]
    settings = Settings(media_roots=[manifest.parent])
    params = MatchParams.from_settings(settings)
    # The stage without the further views (plain and mirrored frames only): what they cost is the difference.
    plain_settings = settings.model_copy(update={"match_region": False})
    plain = params.updated("views", portrait_rotations=(), landscape_rotations=(), sparse_rotations=())
    embedder = OnnxEmbedder(settings.frame_model)
    halves, rows = {}, []
    print(f"{'case':30} {'kind':28} {'regions':>7} {'IoU':>5} {'luma':>6} {'whole':>6} {'view':>6} {'best view':14} "
          f"{'detect':>7} {'cpu':>6} {'extra':>6} {'views':>6}")
    try:
        for item in sorted(items, key=lambda item: item["kind"] != "original"):
            path = manifest.parent / item["file"]
            accepted = AcceptedVideo(video_id=item["video_id"], uri=str(path), raw_event="",
                                     accepted_at=datetime.now(UTC))
            started = time.process_time()  # CPU seconds of every thread: steadier than the clock on a busy machine
            half = describe_frames(accepted, embedder, settings, params)
            stage = time.process_time() - started
            started = time.process_time()
            describe_frames(accepted, embedder, plain_settings, plain)
            baseline = time.process_time() - started
            thumbnails = sample_frames(path, settings, params).thumbnails
            started = time.perf_counter()
            regions = active_regions(thumbnails, params.region)
            detect = time.perf_counter() - started
            luma_regions = active_regions(thumbnails[:, 0], params.region)
            halves[item["video_id"]] = half
            views = [(f"rot{view.rotation}" if view.rotation else "region", _embedded(view.embeddings, half.dim))
                     for view in half.views]
            if half.region:
                views.insert(0, ("region", _embedded(half.region_embeddings, half.dim)))
            extra = sum(len(found) for _, found in views) / max(1, len(half.timestamps))
            truth = Region(*item["region"]) if item["region"] else None
            iou = max((truth.iou(region) for region in regions), default=0.0) if truth else None
            luma_iou = max((truth.iou(region) for region in luma_regions), default=0.0) if truth else None
            whole = best = float("nan")
            best_view = ""
            if item["original"] in halves:
                reference = _embedded(halves[item["original"]].embeddings, half.dim)
                whole = _similarity(_embedded(half.embeddings, half.dim), reference)
                scored = [(_similarity(found, reference), name) for name, found in views]
                best, best_view = max(scored, default=(float("nan"), ""))
            rows.append((item, len(regions), iou, whole, best, best_view, extra, stage - baseline, len(luma_regions),
                         luma_iou))
            print(f"{item['video_id']:30} {item['kind']:28} {len(regions):7d} "
                  f"{'' if iou is None else f'{iou:.2f}':>5} {'' if luma_iou is None else f'{luma_iou:.2f}':>6} "
                  f"{whole:6.2f} {best:6.2f} {best_view:14} "
                  f"{detect * 1000:5.0f}ms {stage:5.2f}s {stage - baseline:+5.2f}s {extra:5.2f}x", flush=True)
    finally:
        embedder.close()
    print("\ncolumns: regions proposed; best IoU with the true region, of those of luma and colour edges and of "
          "luma edges alone; SSCD similarity to the original "
          "(median over frames of the best match) of the whole frames and of the best further view; region "
          "detection time; CPU seconds of the whole frame stage, and its excess over the stage without further "
          "views (plain and mirrored frames only); frames described in further views (regions, turns) per plain frame")
    print("\nper kind: cases, with a region (IoU >= 0.5 with the truth for copies) from luma and colour edges and "
          "from luma edges alone, proposals per case, median best-view similarity, further-view passes per case, "
          "their extra CPU seconds per case")
    for kind in sorted({item["kind"] for item, *_ in rows}):
        found = [row for row in rows if row[0]["kind"] == kind]
        hit, luma_hit = (sum(1 for row in found if (row[iou] is not None and row[iou] >= 0.5)
                             or (row[iou] is None and row[count] > 0)) for count, iou in ((1, 2), (8, 9)))
        similarities = [row[4] for row in found if row[4] == row[4]]
        median = f"{statistics.median(similarities):.2f}" if similarities else "-"
        print(f"  {kind:28} {len(found):3d}  {hit:3d} {luma_hit:3d}  {statistics.mean(row[1] for row in found):4.1f}  "
              f"{median:>5}  "
              f"{statistics.mean(row[6] for row in found):4.2f}x  {statistics.mean(row[7] for row in found):+5.2f}s")


def sides(video: Path, region: Region) -> str:
    """How much of each side of a known rectangle (shares of the frame) streams.media.region sees
    as an edge in one video (RegionParams.edge_cover of each is needed), the activity inside and
    outside it, and the regions it proposes: why an inset is found or not."""
    from streams.config import Settings
    from streams.media.region import cues
    from streams.media.video import sample_frames
    from streams.params import MatchParams

    params = MatchParams()
    settings = Settings(triton_url="onnx", media_roots=[str(Path(video).parent)])
    thumbnails = sample_frames(Path(video), settings, params).thumbnails
    found = cues(thumbnails, params.region)
    size = params.region.grid
    top, bottom, left, right = (round(share * size) for share in region)
    covers = {"left": found.vertical[top:bottom, left].mean(), "right": found.vertical[top:bottom, right].mean(),
              "top": found.horizontal[left:right, top].mean(), "bottom": found.horizontal[left:right, bottom].mean()}
    inside = found.activity[top:bottom, left:right].mean()
    outside = (found.activity.sum() - found.activity[top:bottom, left:right].sum()) / (size ** 2 - (bottom - top) * (right - left))
    return (f"{video.name}: {len(thumbnails)} sampled frames; each side's share of edge (needs {params.region.edge_cover:g}): "
            + ", ".join(f"{name} {cover:.2f}" for name, cover in covers.items())
            + f"; activity inside {inside:.1f}, outside {outside:.1f}; regions proposed: "
            + f"{active_regions(thumbnails, params.region) or 'none'}")


def scan(manifest: Path, split: str | None = None) -> None:
    """Per kind of item of a development-set manifest (tooling.devset), how many get a region from
    luma edges alone and how many from luma and colour edges (streams.media.region), with the
    detection's time each way; then every item where either proposes one, with its best IoU with
    the inset when the manifest says where it is ("at 35% of the width at (x, y)")."""
    import re

    from streams.config import Settings
    from streams.media.video import sample_frames
    from streams.params import MatchParams

    items = [item for item in json.loads(manifest.read_text())["items"] if split in (None, item["split"])]
    params = MatchParams()
    settings = Settings(media_roots=[str(manifest.parent)])
    kinds: dict[str, list[int]] = {}
    timing = [0.0, 0.0]
    frames = 0
    for item in sorted(items, key=lambda item: item["kind"]):
        thumbnails = sample_frames(manifest.parent / item["file"], settings, params).thumbnails
        frames += len(thumbnails)
        found = []
        for number, grids in enumerate((thumbnails[:, 0], thumbnails)):
            started = time.process_time()
            found.append(active_regions(grids, params.region))
            timing[number] += time.process_time() - started
        counts = kinds.setdefault(item["kind"], [0, 0, 0])
        counts[0] += 1
        counts[1] += bool(found[0])
        counts[2] += bool(found[1])
        if found[0] or found[1]:
            place = re.search(r"at (\d+)% of the width.* at \(([\d.]+), ([\d.]+)\)", item["what"])
            iou = ""
            if place and item["kind"] == "picture_in_picture":
                size, x, y = int(place[1]) / 100, float(place[2]), float(place[3])
                truth = Region((1 - size) * y, (1 - size) * y + size, (1 - size) * x, (1 - size) * x + size)
                iou = " ".join(f"{max((truth.iou(r) for r in regions), default=0.0):.2f}" for regions in found)
            print(f"  {item['video_id']:46} {item['kind']:30} luma {len(found[0])}  luma+colour {len(found[1])}  {iou}")
    print(f"\n{'kind':34} {'items':>5} {'luma':>5} {'+colour':>7}   (items with a region proposed)")
    for kind, (count, luma, colour) in sorted(kinds.items()):
        print(f"  {kind:32} {count:5d} {luma:5d} {colour:7d}")
    print(f"detection CPU per item: luma {1000 * timing[0] / len(items):.1f} ms, luma+colour "
          f"{1000 * timing[1] / len(items):.1f} ms; the chroma thumbnail's conversion "
          f"{1000 * _chroma_cost(manifest.parent / items[0]['file'], params.region.grid):.3f} ms a frame, "
          f"{frames / len(items):.1f} frames sampled per item")


def _chroma_cost(video: Path, grid: int, repeats: int = 200) -> float:
    """CPU seconds of one frame's chroma thumbnail (streams.media.video._picture's extra
    conversion), timed on the video's first frame."""
    import av

    from streams.media.region import chroma_grid

    with av.open(str(video)) as container:
        frame = next(container.decode(video=0))
    started = time.process_time()
    for _ in range(repeats):
        chroma_grid(frame.to_ndarray(width=2 * grid, height=2 * grid, format="yuv420p"))
    return (time.process_time() - started) / repeats


# Development-set kinds made of two pictures, or of one picture and a fill: where a region is right.
SEVERAL_PICTURES = {"picture_in_picture", "split_screen", "vertical_blur_fill"}


def sweep(manifest: Path, split: str, contrasts: list[float], changes: list[float]) -> None:
    """The colour edges' two constants (RegionParams.chroma_contrast, colour_change) tried on one
    half of a development-set manifest: per pair, how many items made of several pictures get a
    region that luma edges alone do not give them, and how many other items get one (a false
    alarm: a crop of one picture that may match another video of the same set)."""
    from streams.config import Settings
    from streams.media.video import sample_frames
    from streams.params import MatchParams

    items = [item for item in json.loads(manifest.read_text())["items"] if item["split"] == split]
    params = MatchParams()
    settings = Settings(media_roots=[str(manifest.parent)])
    thumbnails = {item["video_id"]: sample_frames(manifest.parent / item["file"], settings, params).thumbnails
                  for item in items}
    luma = {name: bool(active_regions(grids[:, 0], params.region)) for name, grids in thumbnails.items()}
    several = {item["video_id"] for item in items if item["kind"] in SEVERAL_PICTURES}
    print(f"{split}: {len(several)} items of several pictures, {sum(luma[name] for name in several)} with a region "
          f"from luma; {len(items) - len(several)} others, {sum(luma[name] for name in luma if name not in several)} "
          "with one")
    print(f"{'contrast':>8} {'change':>6} {'gained':>6} {'false':>5}  false alarms")
    for contrast, change in itertools.product(contrasts, changes):
        region = params.updated("region", chroma_contrast=contrast, colour_change=change).region
        added = sorted(name for name, grids in thumbnails.items()
                       if not luma[name] and active_regions(grids, region))
        gained = [name for name in added if name in several]
        false = [name for name in added if name not in several]
        print(f"{contrast:8g} {change:6g} {len(gained):6d} {len(false):5d}  {' '.join(false)}")


def moved(before: Path, after: Path) -> None:
    """The videos whose verdict (or the video it duplicates) differs between two `dupstream eval
    --json` reports of the same items: what a change to the regions did to the verdicts."""
    def verdicts(path: Path) -> dict[str, tuple[str, str | None]]:
        return {row["video_id"]: (row["dupstream"]["verdict"], row["dupstream"]["duplicate_of"])
                for row in json.loads(path.read_text())["verdicts"]}

    old, new = verdicts(before), verdicts(after)
    common = sorted(set(old) & set(new))
    changed = [name for name in common if old[name] != new[name]]
    print(f"{len(common)} videos in both, {len(changed)} moved")
    for name in changed:
        print(f"  {name}: {old[name][0]} ({old[name][1]}) -> {new[name][0]} ({new[name][1]})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tooling.region_study")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build").add_argument("directory", type=Path)
    report_parser = commands.add_parser("report")
    report_parser.add_argument("manifest", type=Path)
    report_parser.add_argument("--split", default=None)
    sides_parser = commands.add_parser("sides", help="each side of a known rectangle as the region cues see it")
    sides_parser.add_argument("video", type=Path)
    sides_parser.add_argument("region", type=float, nargs=4, metavar=("TOP", "BOTTOM", "LEFT", "RIGHT"))
    scan_parser = commands.add_parser(
        "scan", help="regions proposed on a development set's items, luma alone and with colour")
    scan_parser.add_argument("manifest", type=Path)
    scan_parser.add_argument("--split", default=None)
    sweep_parser = commands.add_parser(
        "sweep", help="the colour edges' constants tried on one half of a development set")
    sweep_parser.add_argument("manifest", type=Path)
    sweep_parser.add_argument("--split", default="calibration")
    sweep_parser.add_argument("--contrast", type=float, nargs="+", default=[3.0, 4.0, 5.0, 6.0])
    sweep_parser.add_argument("--change", type=float, nargs="+", default=[1.0, 2.0, 4.0])
    moved_parser = commands.add_parser("moved", help="the verdicts that differ between two eval --json reports")
    moved_parser.add_argument("before", type=Path)
    moved_parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build(args.directory))
    elif args.command == "sweep":
        sweep(args.manifest, args.split, args.contrast, args.change)
    elif args.command == "moved":
        moved(args.before, args.after)
    elif args.command == "scan":
        scan(args.manifest, args.split)
    elif args.command == "sides":
        print(sides(args.video, Region(*args.region)))
    else:
        report(args.manifest, args.split)


if __name__ == "__main__":
    main(sys.argv[1:])
