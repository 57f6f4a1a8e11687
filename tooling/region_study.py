"""A class of rotated, picture-in-picture, split-screen and blurred-fill copies made with ffmpeg
from packaged real footage, with their true regions, and the negatives that must not get one; and
the report of what streams.media.region and the rotated views find on them.

    python -m tooling.region_study build DIR     # makes the videos and DIR/manifest.json
    python -m tooling.region_study report DIR/manifest.json [--split validation]

The cases are split by footage: the calibration half's foregrounds and backgrounds never appear in
the validation half, so constants chosen on one can be checked on the other. Per case the report
prints the regions proposed and their IoU with the truth, the SSCD similarity (ONNX Runtime) of
the best view to the original's frames at the same times, and the cost: decoding with the
region's cues, the detection itself, and the extra descriptor passes."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

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
    paths = packaged_media(cache, ["trailer_bbb.mp4", "world.mp4", "bikes.mp4"])
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
    from streams.media.region import Region, active_regions
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
    print(f"{'case':30} {'kind':24} {'regions':>7} {'IoU':>5} {'whole':>6} {'view':>6} {'best view':14} "
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
            luma = sample_frames(path, settings, params).luma
            started = time.perf_counter()
            regions = active_regions(luma, params.region)
            detect = time.perf_counter() - started
            halves[item["video_id"]] = half
            views = [(f"rot{view.rotation}" if view.rotation else "region", _embedded(view.embeddings, half.dim))
                     for view in half.views]
            if half.region:
                views.insert(0, ("region", _embedded(half.region_embeddings, half.dim)))
            extra = sum(len(found) for _, found in views) / max(1, len(half.timestamps))
            truth = Region(*item["region"]) if item["region"] else None
            iou = max((truth.iou(region) for region in regions), default=0.0) if truth else None
            whole = best = float("nan")
            best_view = ""
            if item["original"] in halves:
                reference = _embedded(halves[item["original"]].embeddings, half.dim)
                whole = _similarity(_embedded(half.embeddings, half.dim), reference)
                scored = [(_similarity(found, reference), name) for name, found in views]
                best, best_view = max(scored, default=(float("nan"), ""))
            rows.append((item, len(regions), iou, whole, best, best_view, extra, stage - baseline))
            print(f"{item['video_id']:30} {item['kind']:24} {len(regions):7d} "
                  f"{'' if iou is None else f'{iou:.2f}':>5} {whole:6.2f} {best:6.2f} {best_view:14} "
                  f"{detect * 1000:5.0f}ms {stage:5.2f}s {stage - baseline:+5.2f}s {extra:5.2f}x", flush=True)
    finally:
        embedder.close()
    print("\ncolumns: regions proposed; best IoU with the true region; SSCD similarity to the original "
          "(median over frames of the best match) of the whole frames and of the best further view; region "
          "detection time; CPU seconds of the whole frame stage, and its excess over the stage without further "
          "views (plain and mirrored frames only); frames described in further views (regions, turns) per plain frame")
    print("\nper kind: cases, with a region (IoU >= 0.5 with the truth for copies), proposals per case, "
          "median best-view similarity, further-view passes per case, their extra CPU seconds per case")
    for kind in sorted({item["kind"] for item, *_ in rows}):
        found = [row for row in rows if row[0]["kind"] == kind]
        hit = sum(1 for row in found if (row[2] is not None and row[2] >= 0.5) or (row[2] is None and row[1] > 0))
        similarities = [row[4] for row in found if row[4] == row[4]]
        median = f"{statistics.median(similarities):.2f}" if similarities else "-"
        print(f"  {kind:26} {len(found):3d}  {hit:3d}  {statistics.mean(row[1] for row in found):4.1f}  {median:>5}  "
              f"{statistics.mean(row[6] for row in found):4.2f}x  {statistics.mean(row[7] for row in found):+5.2f}s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tooling.region_study")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build").add_argument("directory", type=Path)
    report_parser = commands.add_parser("report")
    report_parser.add_argument("manifest", type=Path)
    report_parser.add_argument("--split", default=None)
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build(args.directory))
    else:
        report(args.manifest, args.split)


if __name__ == "__main__":
    main(sys.argv[1:])
