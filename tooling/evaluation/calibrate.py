"""Calibrate the matching parameters on the calibration half of a development set:
`dupstream calibrate MANIFEST [--split calibration] [--write PARAMS.json] [--json REPORT.json]`.

1. Features. Each video's frames and sound, computed once by the stages' own functions (frames
   with SSCD in ONNX Runtime, Chromaprint) and cached in .cache/features/, keyed by the file's
   content, the frame model and everything else that shapes the features (FEATURES_VERSION, the
   feature settings, the region and bars parameters, the feature schemas).
2. Search once. In publish order, each video of the half searches a temporary Qdrant Edge index
   holding the half's earlier videos (streams.pipeline.search, with the grid's loosest search
   parameters: the most neighbours, the lowest floor) and is then indexed.
3. Sweep. Every setting of the grid (MatchParams.updated over the search, align, audio and
   decision sections) judges every video with streams.pipeline.judge, the stream's own function,
   from those hits trimmed to the setting's search parameters (the `frame_neighbours` best per
   query frame and view, none below `frame_score_floor`: what a search with them returns); a
   duplicate joins its match's cluster as the stage links it (streams.pipeline.linked_cluster),
   in publish order. Alignments and soundtrack comparisons are memoised on the parameters they
   depend on, so a sweep of hundreds of settings takes seconds to minutes.
4. Choose. The setting with the highest F1 among those whose false-positive rate on the hard
   negatives is at most MAX_HARD_NEGATIVE_RATE (with `duplicate_of` checked: naming a video
   outside the copy's cluster is a miss); when none is, the lowest hard-negative rate, then F1;
   ties go to the fewest values changed from the defaults. The choice's wrong verdicts are
   listed with their reasons. `--write` stores the swept values of the choice as
   a DUPSTREAM_MATCH_PARAMS file (nested like MatchParams.as_dict); the choice is printed.

Only the calibration half is read (the items whose `split` is the one asked; a manifest without
splits is used whole, and the report says so): the validation half is for `dupstream eval`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from schemas.internal import decode_array
from streams.config import Settings
from tooling.devset.devset import HARD_NEGATIVE_KINDS, DevItem, read_manifest
from tooling.evaluation.metrics import Outcome, Scores, cell, false_positive_rate, scores, worst_misses
from streams.index import StoredVideo
from streams.matching.alignment import frames_match, without_moment_checks
from streams.params import MatchParams
from streams.pipeline import Found, align_hits, build_verdict, compare_sound, judge, linked_cluster

# What is swept, (section, field) -> values; the current value is always added.
# visual_max_false_alarm 1 and min_distinctiveness -1000 switch their check off: the sweep says
# what each check adds. The similarity bar (visual_match_score) is swept with the search's floor
# (frame_score_floor) under it, down to 0.3: a bar under the floor is the floor (no hit below it
# is returned), so those settings are left out (grid_settings). The co-located tolerances
# (decision.co_located_*) were swept before (docs/evaluation.md, Calibration) and no value changed
# the half's verdicts; visual_min_aligned_frames 4 never came near the best; both stay out to
# keep the grid about a thousand settings.
GRID: dict[tuple[str, str], tuple[float, ...]] = {
    ("search", "frame_score_floor"): (0.3, 0.4, 0.45, 0.5, 0.6),
    ("align", "visual_match_score"): (0.3, 0.4, 0.45, 0.5, 0.6, 0.7),
    ("align", "visual_min_aligned_frames"): (2, 3),
    ("align", "visual_max_false_alarm"): (1e-4, 1e-3, 1e-2, 1e-1, 1.0),
    ("align", "min_distinctiveness"): (-1000.0, 0.1),
    ("audio", "max_false_alarm"): (1e-5, 1e-4, 1e-3),
}
MAX_HARD_NEGATIVE_RATE = 0.02  # the product's promise: hard negatives called duplicate at most this often
SHOWN_ROWS = 12
FEATURES_VERSION = "1"  # bump when the frame or audio stage changes what it computes
FEATURE_SETTINGS = ("frame_model", "frame_size", "sample_fps", "max_frames", "match_mirrored", "match_region",
                    "blank_frame_std", "min_audio_seconds")

Field = tuple[str, str]


class SweepRow(NamedTuple):
    params: MatchParams
    scores: Scores
    hard_negative_false_positive_rate: float | None


def grid_settings(base: MatchParams, grid: Mapping[Field, Iterable[Any]] = GRID) -> list[MatchParams]:
    """Every combination of the grid's values (each field's current value among them), but those
    whose similarity bar lies under the search's floor: the search returns no hit below the floor,
    so such a bar is the floor's setting again."""
    fields = list(grid)
    values = [sorted({*grid[field], getattr(getattr(base, field[0]), field[1])}) for field in fields]
    settings = []
    for combination in itertools.product(*values):
        params = base
        for (section, name), value in zip(fields, combination):
            params = params.updated(section, **{name: value})
        if params.align.visual_match_score >= params.search.frame_score_floor:
            settings.append(params)
    return settings


def loosest_search(settings: list[MatchParams]) -> MatchParams:
    """Search parameters that return every hit any setting's search would."""
    return settings[0].updated("search", frame_neighbours=max(p.search.frame_neighbours for p in settings),
                               frame_score_floor=min(p.search.frame_score_floor for p in settings))


def trimmed(found: Found, params: MatchParams) -> Found:
    """The hits a search with params.search returns: per query frame and view, the
    frame_neighbours best at or above frame_score_floor."""
    kept: dict[tuple, list] = {}
    for hit in sorted(found.frame_hits, key=lambda hit: -hit.score):
        if hit.score < params.search.frame_score_floor:
            break
        view = kept.setdefault((hit.query_time, hit.mirrored, hit.region, hit.rotation), [])
        if len(view) < params.search.frame_neighbours:
            view.append(hit)
    return found._replace(frame_hits=[hit for view in kept.values() for hit in view])


def changed_fields(params: MatchParams, defaults: MatchParams, grid: Mapping[Field, Any] = GRID) -> int:
    return sum(getattr(getattr(params, s), f) != getattr(getattr(defaults, s), f) for s, f in grid)


def chosen(rows: list[SweepRow], defaults: MatchParams, max_rate: float = MAX_HARD_NEGATIVE_RATE) -> list[SweepRow]:
    """Best first: the settings within the hard-negative rate by F1; then the others by
    hard-negative rate (when none keeps the promise, the closest comes first), then F1; ties go
    to the fewest changes from the defaults."""
    def key(row: SweepRow) -> tuple:
        rate = row.hard_negative_false_positive_rate or 0.0
        f1 = row.scores.f1 if row.scores.f1 is not None else -1.0
        within = rate <= max_rate + 1e-12
        return not within, 0.0 if within else rate, -f1, rate, changed_fields(row.params, defaults)

    return sorted(rows, key=key)


def overrides(params: MatchParams, grid: Mapping[Field, Any] = GRID) -> dict[str, dict[str, Any]]:
    """The swept values of params, nested like MatchParams.as_dict (a DUPSTREAM_MATCH_PARAMS file)."""
    nested: dict[str, dict[str, Any]] = {}
    for section, name in grid:
        nested.setdefault(section, {})[name] = getattr(getattr(params, section), name)
    return nested


# --- judging every video under one setting ------------------------------------------------------


class Recorded(NamedTuple):
    """One video of the half, as the sweep needs it."""

    item: DevItem
    joined: Any  # schemas.internal.JoinedVideo
    found: Found  # under loosest_search


class Judge:
    """streams.pipeline.judge over the recorded videos, with its alignments and soundtrack
    comparisons memoised on the parameters they depend on."""

    def __init__(self, recorded: list[Recorded], stored: Mapping[str, StoredVideo],
                 align: Callable[..., list] = align_hits, compare: Callable[..., Any] = compare_sound):
        self.recorded = recorded
        self.stored = stored
        self._align_hits = align
        self._compare = compare
        self._alignments: dict[tuple, list] = {}
        self._comparisons: dict[tuple, Any] = {}
        self._hits: dict[tuple, Found] = {}
        self._frames = {video.item.video_id: video.joined.frames for video in recorded}

    def frames_of(self, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        """A recorded video's frames as the index stores them (the plain view), decoded once."""
        frames = self._frames[video_id]
        if not isinstance(frames, tuple):
            embeddings = decode_array(frames.embeddings, "float16", frames.dim).astype(np.float32)
            frames = self._frames[video_id] = (np.asarray(frames.timestamps, np.float32), embeddings)
        return frames

    def _trimmed(self, video: Recorded, params: MatchParams) -> Found:
        key = (video.item.video_id, params.search)
        if key not in self._hits:
            self._hits[key] = trimmed(video.found, params)
        return self._hits[key]

    def _align(self, video: Recorded) -> Callable[..., list]:
        def memoised(found: Found, frames, frames_of, params: MatchParams) -> list:
            # The lines and their measures do not depend on the gates on those measures: aligned
            # once with the gates open, filtered under each setting's.
            open_gates = replace(params, align=without_moment_checks(params.align))
            key = (video.item.video_id, params.search, open_gates.align)
            if key not in self._alignments:
                self._alignments[key] = self._align_hits(found, frames, frames_of, open_gates)
            return [match for match in self._alignments[key] if frames_match(match, params.align)]

        return memoised

    def _compared(self, query_id: str) -> Callable[..., Any]:
        def memoised(query, stored, params: MatchParams, near=None):
            line = (round(near.speed, 3), round(near.offset, 2)) if near is not None else None
            key = (query_id, stored.items.tobytes(), params.audio, line)
            if key not in self._comparisons:
                self._comparisons[key] = self._compare(query, stored, params, near)
            return self._comparisons[key]

        return memoised

    def verdicts(self, params: MatchParams) -> dict[str, tuple[str, str | None, str]]:
        """video id -> (verdict class, duplicate_of, reason), judged in publish order."""
        cluster: dict[str, str] = {}
        stated: dict[str, str] = {}  # the verdicts of this setting's duplicates, as the index would store them

        def stored(video_id: str) -> StoredVideo | None:
            video = self.stored.get(video_id)
            return video._replace(cluster_id=cluster.get(video_id, video_id),
                                  verdict=stated.get(video_id, video.verdict)) if video is not None else None

        given = {}
        for video in self.recorded:
            video_id = video.item.video_id
            decision = judge(video.joined, self._trimmed(video, params), stored, self.frames_of, params,
                             compare=self._compared(video_id), align=self._align(video))
            duplicate_of = linked_cluster(decision, stored)
            cluster[video_id] = duplicate_of or video_id
            if decision.is_duplicate:
                stated[video_id] = build_verdict(video.joined, decision, duplicate_of, {}, None).model_dump_json()
            given[video_id] = (decision.verdict.value, duplicate_of, decision.reason)
        return given


def outcomes_of(judge: Judge, params: MatchParams) -> list[Outcome]:
    from tooling.evaluation.runner import outcomes

    return outcomes([video.item for video in judge.recorded], judge.verdicts(params))


def sweep(judge: Judge, settings: list[MatchParams], progress=print) -> list[SweepRow]:
    rows = []
    started = time.perf_counter()
    for number, params in enumerate(settings, 1):
        scored = outcomes_of(judge, params)
        rows.append(SweepRow(params, scores(scored), false_positive_rate(scored, HARD_NEGATIVE_KINDS)))
        if number % 100 == 0:
            progress(f"{number}/{len(settings)} settings swept ({time.perf_counter() - started:.0f} s)")
    return rows


# --- the report ---------------------------------------------------------------------------------


def _values(params: MatchParams, grid: Mapping[Field, Any] = GRID) -> list[str]:
    return [f"{getattr(getattr(params, s), f):g}" for s, f in grid]


def _row(row: SweepRow, label: str = "") -> str:
    s = row.scores
    return (f"| {' | '.join(_values(row.params))} | {cell(s.f1)} | {cell(s.precision)} | {cell(s.recall)} | "
            f"{cell(row.hard_negative_false_positive_rate)} | {s.true_positives} | {s.false_positives} | "
            f"{s.false_negatives} | {label} |")


def table_head(grid: Mapping[Field, Any] = GRID) -> list[str]:
    names = [f"{s}.{f}" for s, f in grid]
    return ["| " + " | ".join(names) + " | F1 | precision | recall | hard-negative FP rate | TP | FP | FN | |",
            "| --- " * (len(names) + 8) + "| |"]


def format_report(rows: list[SweepRow], defaults: MatchParams, shown: int = SHOWN_ROWS) -> str:
    """The best settings, the defaults' row, each swept field varied alone, and the choice."""
    best = chosen(rows, defaults)
    current = next(row for row in rows if row.params == defaults)
    allowed = sum((row.hard_negative_false_positive_rate or 0.0) <= MAX_HARD_NEGATIVE_RATE + 1e-12 for row in rows)
    lines = [f"{allowed} of {len(rows)} settings keep hard negatives called duplicate at or under "
             f"{MAX_HARD_NEGATIVE_RATE:.0%}; the best {min(shown, len(rows))} by F1:", "", *table_head()]
    lines += [_row(row, "defaults" if row.params == defaults else "") for row in best[:shown]]
    if current not in best[:shown]:
        lines.append(_row(current, f"defaults (rank {best.index(current) + 1} of {len(best)})"))
    for section, name in GRID:
        others = [field for field in GRID if field != (section, name)]
        lines += ["", f"{section}.{name} alone (the others at their defaults):", "", *table_head()]
        lines += [_row(row, "defaults" if row.params == defaults else "") for row in rows
                  if all(getattr(getattr(row.params, s), f) == getattr(getattr(defaults, s), f) for s, f in others)]
    choice = best[0]
    same = "the current defaults" if choice.params == defaults else "differs from the defaults"
    lines += ["", f"chosen ({same}; F1 {cell(choice.scores.f1)}, hard-negative FP rate "
                  f"{cell(choice.hard_negative_false_positive_rate)}): {json.dumps(overrides(choice.params))}",
              f"params digest {choice.params.digest()}"]
    return "\n".join(lines)


def format_misses(scored: list[Outcome]) -> str:
    """The chosen setting's wrong verdicts, worst first, with the reason each was given."""
    wrong = worst_misses(scored, limit=len(scored))
    lines = [f"the choice's wrong verdicts ({len(wrong)} of {len(scored)}):", ""]
    lines += [f"- {o.video_id} ({o.kind}): expected {o.expected_verdict}, got {o.verdict}"
              f"{' of ' + o.duplicate_of if o.duplicate_of else ''}: {o.evidence}" for o in wrong]
    return "\n".join(lines)


def report_json(rows: list[SweepRow], defaults: MatchParams, half: dict[str, Any]) -> dict[str, Any]:
    def row_json(row: SweepRow) -> dict[str, Any]:
        return {**{f"{s}.{f}": getattr(getattr(row.params, s), f) for s, f in GRID}, **row.scores._asdict(),
                "hard_negative_false_positive_rate": row.hard_negative_false_positive_rate}

    best = chosen(rows, defaults)
    return {**half, "criterion": f"max F1 with hard-negative FP rate <= {MAX_HARD_NEGATIVE_RATE}",
            "chosen": overrides(best[0].params), "chosen_digest": best[0].params.digest(),
            "defaults": overrides(defaults), "rows": [row_json(row) for row in best]}


# --- the adapter: features (cached), the temporary index, the recorded hits ----------------------


# The audio parameters that shape the fingerprint itself (the others only compare fingerprints).
SOUND_FEATURE_FIELDS = ("min_audio_seconds", "silence_block_seconds", "silence_loud_percentile",
                        "silence_below_loud_db", "silence_floor_db", "static_run", "min_match_items",
                        "resampled_speeds")


def features_key(path: Path, settings: Settings, params: MatchParams) -> str:
    """The cache key of one file's features: its content and what shapes them."""
    from schemas.internal import AudioHalf, FrameHalf

    digest = hashlib.sha256()
    with open(path, "rb") as media:
        for block in iter(lambda: media.read(1 << 20), b""):
            digest.update(block)
    sound = {name: getattr(params.audio, name) for name in SOUND_FEATURE_FIELDS}
    # The landmarks are filled in when a cached half lacks them (cached_features): the features
    # cached before them stay valid.
    audio_schema = AudioHalf.model_json_schema()
    audio_schema["properties"].pop("landmarks", None)
    shape = json.dumps([FEATURES_VERSION, [getattr(settings, name) for name in FEATURE_SETTINGS],
                        asdict(params.region), asdict(params.bars), asdict(params.views), sound,
                        FrameHalf.model_json_schema(), audio_schema], sort_keys=True, default=str)
    return f"{digest.hexdigest()[:24]}-{settings.frame_model}-{hashlib.sha256(shape.encode()).hexdigest()[:12]}"


def cached_features(item: DevItem, embedder_of: Callable[[], Any], settings: Settings, params: MatchParams,
                    cache: Path):
    """Both halves of one video's features (schemas.internal.JoinedVideo), from the cache or
    computed by the stages' functions and cached. A cached sound half without landmarks (cached
    before them: they are not in the key) gets them from the file once, and is cached again."""
    from schemas.internal import AcceptedVideo, AudioHalf, FrameHalf, JoinedVideo

    accepted = AcceptedVideo(video_id=item.video_id, uri=item.file, raw_event="", accepted_at=datetime.now(UTC))
    path = cache / f"{features_key(Path(item.file), settings, params)}.json"
    if path.exists():
        halves = json.loads(path.read_text())
        joined = JoinedVideo(accepted=accepted, frames=FrameHalf.model_validate(halves["frames"]),
                             audio=AudioHalf.model_validate(halves["audio"]))
        if joined.audio.state != "ok" or joined.audio.landmarks:
            return joined
        audio = joined.audio.model_copy(update={"landmarks": _landmarks_of(accepted, settings)})
        joined = joined.model_copy(update={"audio": audio})
    else:
        from streams.stages.audio import fingerprint_audio
        from streams.stages.frames import describe_frames

        joined = JoinedVideo(accepted=accepted, frames=describe_frames(accepted, embedder_of(), settings),
                             audio=fingerprint_audio(accepted, settings))
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps({"frames": joined.frames.model_dump(mode="json"),
                                   "audio": joined.audio.model_dump(mode="json")}))
    partial.replace(path)
    return joined


def _landmarks_of(accepted, settings: Settings) -> bytes:
    """The spectral-peak landmarks alone, as the audio stage computes them (the decode and the
    peaks: cheap beside Chromaprint's resampled copies)."""
    from schemas.internal import encode_array
    from streams.audio.extract import decode_mono
    from streams.audio.landmarks import peaks
    from streams.media.uri import opened_media

    with opened_media(accepted.uri, settings) as path:
        samples = decode_mono(path, settings)
    if samples is None:
        return b""
    return encode_array(peaks(samples, MatchParams.from_settings(settings).audio), "uint32")


def record_half(items: list[DevItem], search_params: MatchParams, settings: Settings, cache: Path,
                progress=print) -> tuple[list[Recorded], dict[str, StoredVideo]]:
    """Every video's hits, in publish order, each indexed after its search in a temporary Qdrant
    Edge index; and the stored videos as the index holds them."""
    from schemas.events import Verdict, VerdictClass
    from streams.index import open_index
    from streams.pipeline import index_video, search

    @lru_cache(maxsize=1)
    def embedder():
        from streams.embedding import open_embedder

        return open_embedder(settings.model_copy(update={"triton_url": "onnx"}))

    recorded: list[Recorded] = []
    with tempfile.TemporaryDirectory(prefix="dupstream-calibrate-") as scratch:
        index = open_index(settings.model_copy(update={"qdrant_location": scratch}))
        try:
            for number, item in enumerate(items, 1):
                started = time.perf_counter()
                joined = cached_features(item, embedder, settings, search_params, cache)
                found = search(joined, index, search_params)
                # The cluster each setting links it to is the sweep's; the index keeps its own.
                placeholder = Verdict(video_id=item.video_id, status="ok", is_duplicate=False, duplicate_of=None,
                                      duplicate_for="", verdict=VerdictClass.UNIQUE, reason="", decided_at=datetime.now(UTC))
                index_video(joined, index, item.video_id, placeholder, search_params)
                recorded.append(Recorded(item, joined, found))
                progress(f"[{number}/{len(items)}] {item.video_id}: {len(found.frame_hits)} frame hits, "
                         f"{len(found.audio_hits)} sound-window hits ({time.perf_counter() - started:.1f} s)")
            stored = {video.item.video_id: index.get_video(video.item.video_id) for video in recorded}
        finally:
            index.close()
            if embedder.cache_info().currsize:
                embedder().close()
    return recorded, stored


def half_of(items: list[DevItem], split: str | None) -> tuple[list[DevItem], str]:
    """The items of one split, in publish order; all of them when the manifest has no splits."""
    if split is None or all(getattr(item, "split", None) is None for item in items):
        return sorted(items, key=lambda item: item.order), "the whole set (the manifest names no splits)"
    half = [item for item in items if getattr(item, "split", None) == split]
    return sorted(half, key=lambda item: item.order), f"the {split} half"


def run_calibration(manifest: Path, json_out: Path | None = None, progress=print, split: str | None = "calibration",
                    write: Path | None = None, cache: Path = Path(".cache/features")) -> int:
    every = read_manifest(manifest)
    items, which = half_of(every, split)
    settings = Settings(triton_url="onnx", media_roots=sorted({str(Path(item.file).parent) for item in every}))
    defaults = MatchParams.from_settings(settings)
    grid = grid_settings(defaults)
    started = time.perf_counter()
    progress(f"calibrating on {which}: {len(items)} of {len(every)} videos, {len(grid)} settings")
    recorded, stored = record_half(items, loosest_search(grid), settings, cache, progress)
    judge = Judge(recorded, stored)
    rows = sweep(judge, grid, progress)
    progress(f"{len(items)} videos, {len(grid)} settings in {time.perf_counter() - started:.0f} s")
    progress("")
    print(format_report(rows, defaults))
    best = chosen(rows, defaults)[0]
    print("\n" + format_misses(outcomes_of(judge, best.params)))
    if write is not None:
        write.write_text(json.dumps(overrides(best.params), indent=1) + "\n")
        print(f"\nwritten: {write} (use it with DUPSTREAM_MATCH_PARAMS={write})")
    if json_out is not None:
        half = {"manifest": str(manifest), "split": which, "videos": len(items)}
        json_out.write_text(json.dumps(report_json(rows, defaults, half), indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m tooling.evaluation.calibrate ...`: the same as `dupstream calibrate ...`."""
    from streams.cli import main as cli

    return cli(["calibrate", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
