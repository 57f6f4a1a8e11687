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
from dataclasses import asdict, dataclass, field, fields, replace
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
    """Soundtrack fingerprints and their comparison (streams.audio; docs/audio.md for the figures)."""

    # Sound: 0.1 s blocks whose RMS is more than silence_below_loud_db under the track's loud level
    # (the silence_loud_percentile of its block levels), or under silence_floor_db, are silence.
    # Relative, because the fingerprint is gain-invariant: a copy 14 dB quieter is as usable.
    min_audio_seconds: float = 3.0  # less sound is 'too_little_audio' (so are fewer than min_match_items)
    silence_block_seconds: float = 0.1
    silence_loud_percentile: float = 95.0
    silence_below_loud_db: float = 40.0
    silence_floor_db: float = -70.0  # dBFS RMS: digital silence and dither are never sound
    static_run: int = 3  # items repeated this many times in a row carry no evidence
    min_match_items: int = 8  # the shortest overlap that can decide (8 items: ~3.6 s of shared sound)
    smoothing_items: int = 8  # window over which per-item errors are smoothed to locate the match
    # "Same recording" is a significance test: the probability that two unrelated tracks align as
    # well somewhere among the hypotheses tried (offsets x time lines) is at most max_false_alarm.
    max_false_alarm: float = 1e-4
    # The null model, fitted by `python -m streams.audio.calibrate` on unrelated pairs: the BER of
    # one hypothesis over n informative items is normal around the pair's chance BER (from the
    # bits' frequencies) with the variance of null_bits_scale * n ** null_bits_power independent
    # bits; null_hypotheses_per_trial correlated hypotheses count as one independent trial.
    null_bits_scale: float = 12.97
    null_bits_power: float = 0.753
    null_hypotheses_per_trial: float = 1.41
    speed_grid: tuple[float, ...] = tuple(round(0.90 + 0.01 * step, 2) for step in range(21))
    residual_speeds: tuple[float, ...] = (0.99, 1.0, 1.01)
    resampled_speeds: tuple[float, ...] = (0.90, 0.92, 0.94, 0.96, 0.98, 1.02, 1.04, 1.06, 1.08, 1.10)
    # Comparison under a given time map (match.compare(near=...)): speeds this close to it.
    near_speed_tolerance: float = 0.02
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
        """The defaults, with the values the Settings name (DUPSTREAM_* variables) put in."""
        return cls(
            search=SearchParams(frame_neighbours=settings.frame_neighbours,
                                frame_score_floor=settings.frame_score_floor),
            align=AlignParams(visual_match_score=settings.visual_match_score,
                              visual_min_aligned_frames=settings.visual_min_aligned_frames,
                              sample_fps=settings.sample_fps, max_frames=settings.max_frames),
            audio=AudioParams(min_audio_seconds=settings.min_audio_seconds,
                              max_false_alarm=settings.audio_max_false_alarm),
        )

    def updated(self, section: str, **values: Any) -> MatchParams:
        """A copy with some values of one section changed (what calibration sweeps)."""
        return replace(self, **{section: replace(getattr(self, section), **values)})

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {part.name: asdict(getattr(self, part.name)) for part in fields(self)}

    def digest(self) -> str:
        """12 hex digits naming these exact values: verdicts with the same digest used the same rules."""
        text = json.dumps(self.as_dict(), sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:12]
