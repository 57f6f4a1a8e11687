"""The edits copies are made with, each drawing its parameters from the copy's own seeded random
generator: ffmpeg filters and the arguments around them. Pure: nothing here runs ffmpeg."""

from __future__ import annotations

import random
from pathlib import Path

# At most 3 Mbit/s, as an upload service would cap it (noise would otherwise take ten times that).
VIDEO = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-maxrate", "3M", "-bufsize", "6M",
         "-pix_fmt", "yuv420p"]
AUDIO = ["-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2"]
STEREO = "aresample=44100,aformat=sample_fmts=fltp:channel_layouts=stereo"


def even(expression: str) -> str:
    return f"trunc(({expression})/2)*2"


def fit(width: int, height: int) -> str:
    """Fill a width x height frame, cropping what sticks out (a re-framing, as apps do)."""
    return f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},setsar=1"


def fit_inside(width: int, height: int) -> str:
    """Fit inside a width x height frame, padded with black (nothing cut)."""
    return (f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1")


def ken_burns(rng: random.Random, seconds: float, width: int, height: int, part: str = "whole") -> str:
    """A photograph (a single-image input) enlarged once, held for `seconds` at 25 fps and panned
    slowly across; part 'left' or 'right' takes only that 45 % of the photograph, so that one
    photograph gives two unrelated pictures."""
    crop = {"whole": "", "left": "crop=iw*0.45:ih:0:0,", "right": "crop=iw*0.45:ih:iw*0.55:0,"}[part]
    zoom = rng.uniform(1.2, 1.6)
    x0, x1, y0, y1 = (round(rng.random(), 2) for _ in range(4))
    big_w, big_h = round(width * zoom / 2) * 2, round(height * zoom / 2) * 2
    return (f"{crop}{fit(big_w, big_h)},loop=loop=-1:size=1,fps=25,trim=duration={seconds:.2f},setpts=N/25/TB,"
            f"crop={width}:{height}:x='(iw-ow)*({x0}+({x1 - x0:.2f})*t/{seconds:.2f})':"
            f"y='(ih-oh)*({y0}+({y1 - y0:.2f})*t/{seconds:.2f})',setsar=1")


# Simple edits: kind -> a function of the generator giving (video filter, audio filter or None,
# extra output options, description). Every one keeps the whole picture content but for crop.
def _reencode(rng):
    rate = rng.randrange(90, 260, 10)
    return "null", None, ["-b:v", f"{rate}k", "-maxrate", f"{rate}k", "-bufsize", f"{2 * rate}k"], f"H.264 at {rate} kbit/s"


def _downscale(rng):
    lines = rng.choice([144, 180, 200, 240])
    return f"scale=-2:{lines}", None, [], f"downscaled to {lines} lines"


def _crop(rng):
    share = rng.uniform(0.6, 0.85)
    x, y = rng.random(), rng.random()
    return (f"crop={even(f'iw*{share:.2f}')}:{even(f'ih*{share:.2f}')}:iw*{1 - share:.2f}*{x:.2f}:ih*{1 - share:.2f}*{y:.2f}",
            None, [], f"crop to {share:.0%}, off-centre")


def _mirror(rng):
    return "hflip", None, [], "mirrored left-right"


def _letterbox(rng):
    return fit_inside(720, 1280), None, [], "padded into a 9:16 vertical frame"


def _overlay(rng):
    x, y = rng.uniform(0.02, 0.7), rng.uniform(0.02, 0.3)
    colour = rng.choice(["red", "yellow", "white", "0x1da1f2"])
    banner = rng.uniform(0.7, 0.85)
    return (f"drawbox=x=iw*{x:.2f}:y=ih*{y:.2f}:w=iw*0.22:h=ih*0.12:color={colour}@0.85:t=fill,"
            f"drawbox=x=0:y=ih*{banner:.2f}:w=iw:h=ih*0.12:color=black@0.6:t=fill,"
            f"drawbox=x=iw*0.05:y=ih*{banner + 0.03:.2f}:w=iw*0.6:h=ih*0.06:color=white@0.9:t=fill",
            None, [], f"a {colour} logo box and a caption banner")


def _colour(rng):
    brightness, contrast = rng.uniform(-0.1, 0.12), rng.uniform(0.8, 1.4)
    saturation, hue = rng.uniform(0.5, 1.8), rng.randrange(-40, 41, 5)
    return (f"eq=brightness={brightness:.2f}:contrast={contrast:.2f}:saturation={saturation:.2f},hue=h={hue}",
            None, [], f"brightness {brightness:+.2f}, contrast x{contrast:.2f}, saturation x{saturation:.2f}, hue {hue}")


def _grayscale(rng):
    return "format=gray,format=yuv420p", None, [], "grayscale"


def _blur(rng):
    sigma = rng.uniform(2, 6)
    return f"gblur=sigma={sigma:.1f}", None, [], f"Gaussian blur, sigma {sigma:.1f}"


def _noise(rng):
    strength = rng.randrange(12, 36)
    return f"noise=alls={strength}:allf=t+u", None, [], f"temporal noise {strength}"


def _speed(rng):
    factor = rng.choice([0.8, 0.9, 1.1, 1.2, 1.25])
    return f"setpts=PTS/{factor}", f"atempo={factor}", [], f"played {factor}x, sound too"


def _framerate(rng):
    rate = rng.choice([8, 10, 12, 15])
    return f"fps={rate}", None, [], f"{rate} frames per second"


def _rotate(rng):
    degrees = rng.choice([90, 180, 270])
    return {90: "transpose=1", 180: "hflip,vflip", 270: "transpose=2"}[degrees], None, [], f"rotated {degrees} degrees"


SIMPLE_EDITS = {
    "reencode_low_bitrate": _reencode, "downscale": _downscale, "crop": _crop, "mirror": _mirror,
    "letterbox": _letterbox, "overlay": _overlay, "colour": _colour, "grayscale": _grayscale, "blur": _blur,
    "noise": _noise, "speed": _speed, "framerate": _framerate, "rotate": _rotate,
}
# Edits a stack of several may chain (each at most once; a bitrate cap is an output option).
STACKABLE = ["crop", "mirror", "overlay", "colour", "blur", "noise", "speed", "downscale", "letterbox", "rotate",
             "grayscale", "framerate"]


def stacked(rng: random.Random, count: int) -> tuple[str, str | None, list[str], str]:
    kinds = rng.sample(STACKABLE, count)
    parts = [SIMPLE_EDITS[kind](rng) for kind in kinds]
    audio = [part[1] for part in parts if part[1]]
    return (",".join(part[0] for part in parts), ",".join(audio) or None, [],
            "; ".join(part[3] for part in parts))


def combination(rng: random.Random) -> tuple[str, str | None, list[str], str]:
    """The classic re-upload: cropped, mirrored, brighter, a logo, downscaled, faster, low bitrate."""
    share, factor = rng.uniform(0.8, 0.9), rng.choice([1.05, 1.1, 1.15])
    return (f"crop={even(f'iw*{share:.2f}')}:{even(f'ih*{share:.2f}')},hflip,eq=brightness=0.06:saturation=1.3,"
            f"drawbox=x=iw*0.7:y=ih*0.05:w=iw*0.25:h=ih*0.1:color=yellow@0.8:t=fill,scale=-2:360,"
            f"setpts=PTS/{factor}", f"atempo={factor}", ["-b:v", "300k"],
            f"crop {share:.0%}, mirrored, brighter, logo, 360 lines, {factor}x, 300 kbit/s")


def filtered(source: Path, edit: tuple[str, str | None, list[str], str], has_audio: bool) -> list[str]:
    video_filter, audio_filter, extra, _ = edit
    audio = (["-af", audio_filter] if audio_filter else []) + AUDIO if has_audio else ["-an"]
    return ["-i", str(source), "-vf", f"{video_filter},{even_frame()}", *VIDEO, *extra, *audio]


def even_frame() -> str:
    return f"scale={even('iw')}:{even('ih')},setsar=1"


# Sound edits (pictures copied as they are): kind -> (ffmpeg arguments after the input, description).
def audio_edit(kind: str, rng: random.Random) -> tuple[list[str], str]:
    if kind == "audio_quiet":
        gain = rng.uniform(-20, -10)
        return ["-af", f"volume={gain:.1f}dB", *AUDIO], f"sound {gain:.0f} dB quieter"
    if kind == "audio_loud_clipped":
        gain = rng.uniform(10, 18)
        return (["-af", f"volume={gain:.1f}dB,asoftclip=type=hard", *AUDIO],
                f"sound {gain:.0f} dB louder, hard-clipped")
    if kind == "audio_reencode":
        rate = rng.choice([24, 32, 48])
        return (["-ac", "1", "-ar", "22050", "-c:a", "libmp3lame", "-b:a", f"{rate}k"],
                f"sound as {rate} kbit/s mono MP3")
    raise ValueError(kind)
