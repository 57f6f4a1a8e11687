"""Every constant that shapes a verdict, in one frozen object.

`MatchParams` is built once from the Settings (`MatchParams.from_settings`) and passed to the
pure functions that search, align, compare and decide; none of them reads a module constant or a
global Settings in the middle of the math. `dupstream calibrate` sweeps it on the calibration half
of the development set, and every verdict reports the values that decided it (`as_dict`) and
their digest (`digest`), so that two verdicts can be told to come from the same rules.

Sections, one per concern: the frame search (`search`), the temporal alignment of frame hits
(`align`), the soundtrack comparison (`audio`), the active-region (picture-in-picture) view
(`region`), letterbox bars (`bars`) and the decision that combines them (`decision`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SearchParams:
    """Which stored frames each query frame brings back."""

    frame_neighbours: int = 10  # nearest stored frames fetched per query frame
    frame_score_floor: float = 0.5  # pairs below this cosine similarity are ignored


@dataclass(frozen=True)
class AlignParams:
    """The time line through a candidate's frame hits (streams.matching.alignment)."""

    visual_match_score: float = 0.6  # mean similarity of an aligned segment that makes it a match
    visual_min_aligned_frames: int = 3  # aligned frames (and weighted frames) a match needs
    sample_fps: float = 1.0  # the frame stage's sampling rate: sets the time tolerance
    max_frames: int = 1200  # the frame stage's cap: long videos are sampled more sparsely
    speed_min: float = 0.75  # slowest copy; the fastest is 1 / speed_min
    speed_steps: int = 59  # log-spaced speeds on the grid, 1.0 among them
    tolerance_steps: float = 1.5  # a hit lies on a line when within this many sampling steps
    gap_free_steps: float = 2.0  # a chain may skip this many steps for free
    gap_cost: float = 0.1  # evidence each further step of gap costs
    max_gap_steps: float = 10.0  # a longer gap ends a chain
    min_span_steps: float = 4.0  # shorter chains keep the voted speed
    fit_rounds: int = 3
    max_peaks: int = 6  # lines tried per candidate and view
    peak_min_fraction: float = 0.75  # a peak below this share of the smallest match stops the search
    ref_step_cap: float = 3.0  # a reference's sampling interval guessed from hits, in query steps
    common_frame_videos: int = 3  # frames hitting at most this many videos weigh 1
    overlap_drop: float = 0.5  # same-video matches overlapping more than this are echoes
    secondary_min_share: float = 0.25  # a further segment needs this share of the best one's evidence


@dataclass(frozen=True)
class AudioParams:
    """Soundtrack fingerprints and their comparison (streams.audio)."""

    min_audio_seconds: float = 8.0  # less non-silent sound is 'too_little_audio'
    silence_block_seconds: float = 0.1
    silence_rms_db: float = -50.0  # blocks quieter than this (dBFS RMS) are silence
    same_max_ber: float = 0.30  # aligned fingerprints at most this far apart are one recording
    static_run: int = 3  # items repeated this many times in a row carry no evidence
    min_match_items: int = 32  # the shortest matching stretch that can decide (~4 s)
    smoothing_items: int = 32  # window over which per-item errors are smoothed
    speed_grid: tuple[float, ...] = tuple(round(0.90 + 0.01 * step, 2) for step in range(21))
    residual_speeds: tuple[float, ...] = (0.99, 1.0, 1.01)
    resampled_speeds: tuple[float, ...] = (0.90, 0.92, 0.94, 0.96, 0.98, 1.02, 1.04, 1.06, 1.08, 1.10)
    window_max_ber: float = 0.3  # a window hit in the index
    window_neighbours: int = 16
    common_window_videos: int = 4
    window_min_informative_share: float = 0.75
    window_offset_bin_seconds: float = 1.0
    window_min_votes: float = 3.0


@dataclass(frozen=True)
class RegionParams:
    """The active region: a picture-in-picture inset found by what moves (streams.media.region)."""

    grid: int = 56
    min_frames: int = 4
    min_area: float = 0.10
    max_area: float = 0.70
    min_contrast: float = 2.0
    min_side_contrast: float = 2.0
    min_side_active: float = 0.6
    side_cells: int = 2
    max_elongation: float = 4.0
    still: float = 1.0
    margin: float = 0.01
    edge_snap: int = 8
    edge_near: tuple[int, ...] = (2, 3, 4, 5)
    edge_contrast: float = 3.0
    edge_min_level: float = 1.0
    edge_cover: float = 0.6
    edge_min_contrast: float = 1.5
    edge_min_side_contrast: float = 1.3
    edge_gap: int = 1


@dataclass(frozen=True)
class BarParams:
    """Letterbox and pillarbox bars cropped off before describing a frame (streams.media.bars)."""

    max_std: float = 4.0
    max_luma_distance: float = 10.0
    seam: int = 3
    min_bar_share: float = 0.04
    min_picture_share: float = 0.2


@dataclass(frozen=True)
class DecisionParams:
    """How frames and sound combine into a verdict (streams.matching.decision)."""

    audio_checked_candidates: int = 5  # visual candidates (and as many audio ones) whose sound is compared
    # Sound and frames are one copy when their time lines agree (decision.time_maps_agree):
    co_located_offset_seconds: float = 1.5  # reference times apart at most this over the stretch both cover
    co_located_speed_share: float = 0.1  # speeds apart at most this share (a speed fitted on a few frames is uncertain by several %)
    co_located_min_overlap: float = 0.5  # the stretch both cover, as a share of the shorter of the two
    on_line_min_share: float = 0.8  # frames re-aligned on the sound's line keep this share of the aligned ones
    equal_evidence_share: float = 0.9  # candidates this close to the best count as equal: the earliest root wins


# MatchParams field -> the Settings field (DUPSTREAM_* variable) that sets it.
SETTINGS_FIELDS = {
    ("search", "frame_neighbours"): "frame_neighbours",
    ("search", "frame_score_floor"): "frame_score_floor",
    ("align", "visual_match_score"): "visual_match_score",
    ("align", "visual_min_aligned_frames"): "visual_min_aligned_frames",
    ("align", "sample_fps"): "sample_fps",
    ("align", "max_frames"): "max_frames",
    ("audio", "min_audio_seconds"): "min_audio_seconds",
    ("audio", "same_max_ber"): "audio_same_max_ber",
}


@dataclass(frozen=True)
class MatchParams:
    search: SearchParams = field(default_factory=SearchParams)
    align: AlignParams = field(default_factory=AlignParams)
    audio: AudioParams = field(default_factory=AudioParams)
    region: RegionParams = field(default_factory=RegionParams)
    bars: BarParams = field(default_factory=BarParams)
    decision: DecisionParams = field(default_factory=DecisionParams)

    @classmethod
    def from_settings(cls, settings: Any) -> MatchParams:
        """The defaults, then the overrides of the file DUPSTREAM_MATCH_PARAMS names (what
        `dupstream calibrate` writes), then the values set explicitly by DUPSTREAM_* variables
        (the Settings fields in SETTINGS_FIELDS); the frame stage's sampling always comes from
        the Settings, since it describes what that stage did."""
        params = cls()
        for (section, name), setting in SETTINGS_FIELDS.items():
            params = params.updated(section, **{name: getattr(settings, setting)})
        path = getattr(settings, "match_params", None)
        if not path:
            return params
        explicit = set(getattr(settings, "model_fields_set", ())) | {"sample_fps", "max_frames"}
        kept = {(section, name) for (section, name), setting in SETTINGS_FIELDS.items() if setting in explicit}
        overrides = json.loads(Path(path).read_text())
        return params.overridden({section: {name: value for name, value in values.items()
                                            if (section, name) not in kept}
                                  for section, values in overrides.items()})

    def overridden(self, overrides: Mapping[str, Mapping[str, Any]]) -> MatchParams:
        """A copy with the values of a nested mapping like as_dict's (sections, then fields);
        an unknown section or field is an error, not silently ignored."""
        params = self
        for section, values in overrides.items():
            if section not in self.as_dict():
                raise ValueError(f"unknown parameter section {section!r}")
            known = self.as_dict()[section]
            unknown = set(values) - set(known)
            if unknown:
                raise ValueError(f"unknown {section} parameters: {sorted(unknown)}")
            params = params.updated(section, **{name: tuple(value) if isinstance(known[name], tuple) else value
                                                for name, value in values.items()})
        return params

    def updated(self, section: str, **values: Any) -> MatchParams:
        """A copy with some values of one section changed (what calibration sweeps)."""
        return replace(self, **{section: replace(getattr(self, section), **values)})

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {part.name: asdict(getattr(self, part.name)) for part in fields(self)}

    def digest(self) -> str:
        """12 hex digits naming these exact values: verdicts with the same digest used the same rules."""
        text = json.dumps(self.as_dict(), sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:12]
