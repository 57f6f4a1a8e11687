"""Synthetic speech with espeak-ng (a Debian package), for the audio calibration and tests: one
voice saying different things is the hard negative "same person, same room, different talk"."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path


WORDS = ("time people year way day man thing woman life child world school state family student group country "
         "problem hand part place case week company system program question work government number night point "
         "home water room mother area money story fact month lot right study book eye job word business issue "
         "side kind head house service friend father power hour game line end member law car city community name "
         "president team minute idea kid body information back parent face others level office door health person "
         "art war history party result change morning reason research girl guy moment air teacher force "
         "education").split()


def has_speech_synthesis() -> bool:
    return shutil.which("espeak-ng") is not None


def spoken(voice: str, seed: int, out: Path, words: int = 70) -> Path:
    """espeak-ng saying `words` random words (the sentence fixed by seed) in `voice` (e.g.
    "en-us", "en-gb+f3"): about 3 words a second, as a WAV file (made once)."""
    if not out.exists():
        rng = random.Random(seed)
        text = " ".join(rng.choice(WORDS) for _ in range(words))
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(out), text], check=True, capture_output=True)
    return out
