"""Every constant that shapes a verdict, in one frozen object.

`MatchParams` is built once from the Settings (`MatchParams.from_settings`) and passed to the
pure functions that search, align, compare and decide; none of them reads a module constant or a
global Settings in the middle of the math. `dupstream calibrate` sweeps it on the calibration half
of the development set, and every verdict reports the values that decided it (`as_dict`) and
their digest (`digest`), so that two verdicts can be told to come from the same rules.

Sections, one per concern: the frame search (`search`), the temporal alignment of frame hits
(`align`), the soundtrack comparison (`audio`), the regions searched on their own (`region`:
picture-in-picture, split screens), letterbox bars (`bars`), the turned and cropped views searched
(`views`) and the decision that combines them (`decision`).
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
    # chosen by `dupstream calibrate` with align.visual_match_score (calibration half; the search's
    # floor is the lowest bar a line can be held to)
    frame_score_floor: float = 0.4  # pairs below this cosine similarity are ignored


def frame_sampling_interval(duration: float, sample_fps: float, max_frames: int) -> float:
    """Seconds between the frame stage's samples of a video this long: 1 / sample_fps, wider where
    that would exceed max_frames (streams.media.video samples so; alignment and the turned views'
    plan read the same steps)."""
    return max(1.0 / sample_fps, duration / max_frames if duration > 0 else 0.0)


@dataclass(frozen=True)
class AlignParams:
    """The time line through a candidate's frame hits (streams.matching.alignment)."""

    # visual_match_score, visual_min_aligned_frames: chosen by `dupstream calibrate` (calibration half)
    visual_match_score: float = 0.4  # mean similarity of an aligned segment that makes it a match
    visual_min_aligned_frames: int = 2  # aligned frames (and weighted frames) a match needs
    sample_fps: float = 1.0  # the frame stage's sampling rate: sets the time tolerance
    max_frames: int = 1200  # the frame stage's cap: long videos are sampled more sparsely
    # The grid reaches a bit beyond the speeds a copy is expected at (0.75-1.33): its last ~2 %
    # (speed_edge_share) is where lines through frames that match anywhere end up, and is refused.
    speed_min: float = 0.73  # slowest speed on the grid; the fastest is 1 / speed_min
    speed_steps: int = 63  # log-spaced speeds on the grid, 1.0 among them, about 1 % apart
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
    # Degenerate lines (streams.matching.alignment.frames_match): frames that look like every frame
    # of the reference fit any line, and the fit then runs to the grid's edge or collapses.
    speed_edge_share: float = 0.02  # a speed this close (relative) to the grid's edge is the clamp: no line
    min_reference_span_share: float = 0.5  # the reference segment spans at least this share of speed x query span
    # Temporal structure (streams.matching.visual): each aligned query frame against the same
    # reference's frames away from the line, CSLS-style (as the VSC22 baseline's score normalisation).
    offline_window_steps: float = 3.0  # reference frames further than this many steps from the line are off-line
    offline_neighbour: int = 1  # the k-th most similar off-line frame is the background (1: the nearest)
    offline_beta: float = 1.0  # background = beta x the off-line similarity (VSC22's beta)
    # distinctiveness = mean of (on-line - background) / (1 - background): the share of the gap
    # between the background and identity that the on-line frame closes
    min_distinctiveness: float = 0.1
    # Motion (streams.matching.visual.motion_false_alarm): each video's mean descriptor (its static
    # look) taken out, the aligned frames' changes correlate along the line of a copy and not along
    # one through another moment of the same camera. The z-score of their mean correlation against
    # the same pair's off-line frame pairs, times the lines tried, is a false-alarm probability.
    visual_max_false_alarm: float = 1e-2  # chosen by `dupstream calibrate` on the calibration half


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
    max_false_alarm: float = 1e-3  # chosen by `dupstream calibrate` on the calibration half
    # The null model, fitted by `python -m tooling.audio.calibrate` on unrelated pairs: the BER of
    # one hypothesis over n informative items is normal around the pair's chance BER (from the
    # bits' frequencies) with the variance of null_bits_scale * n ** null_bits_power independent
    # bits; null_hypotheses_per_trial correlated hypotheses count as one independent trial.
    null_bits_scale: float = 12.97
    null_bits_power: float = 0.753
    null_hypotheses_per_trial: float = 1.41
    # "Not the same recording" without the test's power (a few seconds of sound): the best
    # alignment's BER over its overlap is at least this share of the chance BER, which copies stay
    # under (fitted on the calibration pool's copies by `python -m tooling.audio.calibrate`).
    copy_max_ber_share: float = 0.73
    # "Not the same recording" is said only on positive evidence: unrelated tracks agree as well at
    # least this often (the best hypothesis' false alarm). Between max_false_alarm and this level the
    # sound is inconclusive (a copy's sound too quiet or too edited to confirm it) and the frames
    # decide; unrelated sound falls there this rarely, the test having the power to tell.
    differ_min_false_alarm: float = 0.01
    speed_grid: tuple[float, ...] = tuple(round(0.90 + 0.01 * step, 2) for step in range(21))
    residual_speeds: tuple[float, ...] = (0.99, 1.0, 1.01)
    # The query re-played at these speeds (streams.audio.extract): every 2 % to +-10 % (a resampled
    # speed-up or slow-down; re-timing undoes about 1 % more), and the whole semitones beyond, 2 and
    # 3 either way (2 ** (k / 12): a pitch shift at a kept tempo, a common re-upload trick, which
    # streams.audio.match tries on a pictures' line at speed 1 only, re-timing each copy by 1 / r).
    resampled_speeds: tuple[float, ...] = (0.8409, 0.8909, 0.90, 0.92, 0.94, 0.96, 0.98, 1.02, 1.04, 1.06, 1.08,
                                           1.10, 1.1225, 1.1892)
    # Comparison under a given time map (match.compare(near=...)): speeds this close to it.
    near_speed_tolerance: float = 0.02
    window_max_ber: float = 0.3  # a window hit in the index
    window_neighbours: int = 16
    common_window_videos: int = 4
    window_min_informative_share: float = 0.75
    window_offset_bin_seconds: float = 1.0
    window_min_votes: float = 3.0
    # The second "same recording" test, robust to sound added on top (a voice-over, noise):
    # spectral-peak landmarks (streams.audio.landmarks), counted on the pictures' line against the
    # pair's own Poisson null. Its own false-alarm rate, beside max_false_alarm (either test passing
    # makes the same recording); the null checked by `python -m tooling.audio.calibrate --landmarks`.
    landmark_max_false_alarm: float = 1e-3
    # ...unless the agreement is as quiet within the stored track, or as crowded into a part of
    # the shared stretch, as copies are this rarely: a shared music bed under other words, one
    # shared sentence; not the same recording (streams.audio.landmarks.compare_landmarks).
    landmark_max_partial: float = 1e-2
    # A copy contains its original: of the original's loudest peaks (landmark_loud_share) on the
    # line, a copy with sound added on top keeps each with at least this probability, times
    # landmark_kept_per_step per 4 dB level step the added sound stands over the shared one;
    # fitted by `python -m tooling.audio.calibrate --landmarks` (streams.audio.landmarks.containment).
    landmark_kept_share: float = 0.4
    landmark_kept_per_step: float = 0.71
    landmark_loud_share: float = 0.25  # the stored track's loudest peaks (by level), which a copy keeps
    landmark_hypotheses_per_trial: float = 1.0  # correlated neighbouring offsets counted as one trial
    landmark_peaks_per_second: int = 24  # the most prominent local maxima kept per second
    landmark_peak_bins: int = 6  # a peak is the maximum over this many 21.5 Hz bins either side...
    landmark_peak_frames: int = 4  # ...and this many 23 ms frames either side
    landmark_prominence_bins: int = 12  # ranked by its height over the mean of this many bins either side
    landmark_floor_db: float = 60.0  # peaks more than this under the track's loudest bins are silence
    landmark_min_bin: int = 5  # 108 Hz: below, hum and rumble
    landmark_max_bin: int = 230  # 4.95 kHz: above, codecs cut
    landmark_fanout: int = 5  # pairs per anchor
    landmark_max_dt: int = 40  # frames (0.93 s) to the paired peak at most
    landmark_max_df: int = 40  # bins (860 Hz) to the paired peak at most


@dataclass(frozen=True)
class RegionParams:
    """Regions searched on their own: picture-in-picture insets, split-screen halves, the sharp
    centre of a blurred fill (streams.media.region)."""

    grid: int = 112  # cells per side of the luma and chroma thumbnails the cues are read from
    min_frames: int = 4  # fewer samples than this say too little about what stays in place
    max_frames: int = 64  # the cues are read from at most this many samples, evenly spread
    min_area: float = 0.05  # the region's share of the frame: an inset at 30 % size is 0.09
    max_area: float = 0.70  # larger: it is the picture itself, with a still corner or a banner
    max_elongation: float = 4.0  # longer side / shorter side in cells: a thin band is a caption
    # A line is an edge where the median step across it is this many times that of the parallel
    # lines nearby (at these offsets, in cells), counted at least edge_min_level luma steps.
    edge_near: tuple[int, ...] = (2, 3, 4, 5)
    edge_contrast: float = 3.0
    edge_min_level: float = 1.0
    # The same for the step in colour (the distance in the U, V plane), counted only where a side
    # of the line changes by at least colour_change luma steps between most samples: the cells are
    # rounded to whole levels, so a still cell's median change is 0 or 1.
    chroma_min_level: float = 1.0
    chroma_contrast: float = 3.0
    colour_change: float = 2.0
    edge_cover: float = 0.6  # share of each inner side that must be edge (and of its ends on the frame's border)
    side_end: float = 0.15  # the share of a side's length that makes one of its ends
    min_side: float = 0.2  # lines with less edge than this share of the frame make no side
    max_lines: int = 24  # candidate lines per direction, the most edge first
    # A cell changing less than `still` luma steps between samples on average is still; a picture
    # has at least min_moving_share of its cells moving (a slowly turning globe on black: 0.33).
    still: float = 1.0
    min_moving_share: float = 0.2
    # A still cell with a mean step to its neighbours under `flat` is dead; an outside with
    # bar_share of dead cells is bars, and the inside a picture between them.
    flat: float = 2.0
    bar_share: float = 0.8
    min_contrast: float = 2.0  # activity inside / outside that backs a one- or two-sided rectangle
    sharp_contrast: float = 1.5  # sharpness inside / outside that backs it (a blurred fill)
    max_regions: int = 3  # regions searched at most per video
    max_overlap: float = 0.5  # share of the smaller of two rectangles inside the other: the weaker repeats the stronger
    margin: float = 0.01  # each side pulled in by this share of the frame, off the inset's frame


@dataclass(frozen=True)
class BarParams:
    """Letterbox and pillarbox bars cropped off before describing a frame (streams.media.bars)."""

    # A border row or column is bar when its luma barely varies along it and stays within this
    # distance (0..255) of the frame's outermost line.
    max_std: float = 4.0
    max_luma_distance: float = 10.0
    seam: int = 3  # lines of a bar's inner edge that compression may smear
    # Bars narrower than this share of the frame are left alone: cropping a few pixels gains nothing
    # and would cut dark edges of ordinary footage.
    min_bar_share: float = 0.04
    # The picture inside must keep at least this share of each side, or the "bars" are the picture
    # (a black frame, a title card).
    min_picture_share: float = 0.2


@dataclass(frozen=True)
class ViewParams:
    """Views of a video's frames searched besides the plain and mirrored ones (streams.stages.frames):
    turned (rotated re-posts) and cut to regions (streams.media.region)."""

    # The likely turns (degrees clockwise) for the upload's shape, each on every likely_step-th
    # frame in turn. A vertical upload is most often a landscape original turned on its side; the
    # store holds the original's plain frames only. On every frame: on alternate frames (2, one pass
    # together) a turned copy's line has half the evidence, and its plain line, through frames
    # squeezed alike, can outrank it (tests/test_frames_views.py).
    portrait_rotations: tuple[int, ...] = (90, 270)
    landscape_rotations: tuple[int, ...] = ()
    likely_step: int = 1
    # The other turns share every sparse_step-th frame in turn. A turn keeps at least
    # sparse_min_frames frames (one more than the shortest line, align.visual_min_aligned_frames):
    # a short clip's turns take more of its frames.
    sparse_rotations: tuple[int, ...] = (90, 180, 270)
    sparse_step: int = 3
    sparse_min_frames: int = 3
    # Whole frames kept while decoding for cutting regions out of them: at most 2 * region_frames,
    # evenly spread, their shorter side region_scale times the working size.
    region_frames: int = 32
    region_scale: float = 2.0


@dataclass(frozen=True)
class DecisionParams:
    """How frames and sound combine into a verdict (streams.matching.decision)."""

    audio_checked_candidates: int = 5  # visual candidates (and as many audio ones) whose sound is compared
    # Sound and frames are one copy when their time lines agree (decision.time_maps_agree):
    co_located_offset_seconds: float = 2.5  # reference times apart at most this over the stretch both cover
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
    ("audio", "max_false_alarm"): "audio_max_false_alarm",
}


@dataclass(frozen=True)
class MatchParams:
    search: SearchParams = field(default_factory=SearchParams)
    align: AlignParams = field(default_factory=AlignParams)
    audio: AudioParams = field(default_factory=AudioParams)
    region: RegionParams = field(default_factory=RegionParams)
    bars: BarParams = field(default_factory=BarParams)
    views: ViewParams = field(default_factory=ViewParams)
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
