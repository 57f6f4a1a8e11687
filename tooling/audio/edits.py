"""What re-uploads do to a soundtrack, as ffmpeg recipes applied to real audio: the positives of
the audio tests and of the calibration (tooling.audio.calibrate).

Each edit knows the time line it should be found on: reference_time = speed * query_time + offset."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from tooling.devset.samples import ffmpeg

# Excerpts are resampled to this rate first, so that asetrate's factor is exact.
EXCERPT_RATE = 44100


class Edit(NamedTuple):
    name: str
    args: tuple[str, ...]  # ffmpeg output options ([1:a]: the second, unrelated recording)
    suffix: str
    offset: float  # seconds, expected
    speed: float  # expected


def _rate(factor: float) -> str:
    return f"asetrate={EXCERPT_RATE}*{factor},aresample={EXCERPT_RATE}"


EDITS: tuple[Edit, ...] = (
    Edit("mp3_32k", ("-b:a", "32k"), ".mp3", 0.0, 1.0),
    Edit("aac_48k", ("-c:a", "aac", "-b:a", "48k"), ".m4a", 0.0, 1.0),
    Edit("volume_-12dB", ("-af", "volume=-12dB"), ".wav", 0.0, 1.0),
    Edit("volume_-20dB", ("-af", "volume=-20dB"), ".wav", 0.0, 1.0),
    Edit("clipped_+9dB", ("-af", "volume=9dB", "-c:a", "pcm_s16le"), ".wav", 0.0, 1.0),
    Edit("pink_noise", ("-filter_complex", "anoisesrc=color=pink:amplitude=0.1:seed=7[n];[0:a][n]amix=inputs=2:"
                        "duration=first:normalize=0"), ".wav", 0.0, 1.0),
    # Another recording over it at the same level: a voice over music, music under a voice.
    Edit("voice_over", ("-filter_complex", f"[1:a]aresample={EXCERPT_RATE},aformat=channel_layouts=stereo[o];"
                        "[0:a][o]amix=inputs=2:duration=first:normalize=0"), ".wav", 0.0, 1.0),
    Edit("trimmed_6s", ("-ss", "6"), ".wav", 6.0, 1.0),
    Edit("padded_4s", ("-af", "adelay=4000:all=1"), ".wav", -4.0, 1.0),
    Edit("partial", ("-filter_complex", "[0:a]atrim=start=14,asetpts=PTS-STARTPTS[tail];[1:a]atrim=end=10,"
                     f"asetpts=PTS-STARTPTS,aresample={EXCERPT_RATE},aformat=channel_layouts=stereo[o];"
                     "[o][tail]concat=n=2:v=0:a=1"), ".wav", 4.0, 1.0),
    Edit("tempo_x1.05", ("-af", "atempo=1.05"), ".wav", 0.0, 1.05),
    Edit("tempo_x0.95", ("-af", "atempo=0.95"), ".wav", 0.0, 0.95),
    Edit("rate_x1.02", ("-af", _rate(1.02)), ".wav", 0.0, 1.02),
    Edit("rate_x0.98", ("-af", _rate(0.98)), ".wav", 0.0, 0.98),
    # Beyond +-2 % only the resampled copies of the query (streams.audio.extract) find these.
    Edit("rate_x1.03", ("-af", _rate(1.03)), ".wav", 0.0, 1.03),
    Edit("rate_x0.97", ("-af", _rate(0.97)), ".wav", 0.0, 0.97),
    Edit("rate_x1.05", ("-af", _rate(1.05)), ".wav", 0.0, 1.05),
    Edit("rate_x0.95", ("-af", _rate(0.95)), ".wav", 0.0, 0.95),
    Edit("rate_x1.08", ("-af", _rate(1.08)), ".wav", 0.0, 1.08),
)


def excerpt(source: Path, out: Path, start: float, seconds: float) -> Path:
    """seconds of source from start, as 44.1 kHz stereo WAV."""
    if not out.exists():
        ffmpeg("-ss", str(start), "-t", str(seconds), "-i", str(source), "-ar", str(EXCERPT_RATE), "-ac", "2", str(out))
    return out


def mixes_other(edit: Edit) -> bool:
    """Whether the edit brings in the second recording (its copy then partly is that recording)."""
    return any("[1:a]" in arg for arg in edit.args)


def edited(base: Path, edit: Edit, directory: Path, other: Path) -> Path:
    """base with edit applied, in directory (made once)."""
    out = directory / f"{base.stem}.{edit.name}{edit.suffix}"
    if not out.exists():
        inputs = ["-i", str(base), *(["-i", str(other)] if mixes_other(edit) else [])]
        ffmpeg(*inputs, *edit.args, str(out))
    return out

