"""What a speed-up must leave unchanged, printed to diff before / after it:

    python -m tooling.bench.digests fingerprints MANIFEST [--every 8]
    python -m tooling.bench.digests verdicts MANIFEST

fingerprints: per video (the burst's clips, its long clip, every --every-th video of the
manifest), a digest of its sound's fingerprint (Chromaprint items, resampled copies, landmarks)
and its usable seconds and state: the sound stage's output, bit for bit.
verdicts: every video of the manifest judged as devcheck judges it (cached features, publish
order, one index) but with its near misses, as the verdict states them (timings left out): the
decisions, their evidence and their runners-up."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from streams.config import Settings
from streams.params import MatchParams
from tooling.devset.devset import read_manifest
from tooling.devset.packaged import CHECKOUT_CACHE


def fingerprints(manifest: Path, every: int) -> None:
    from streams.audio.extract import decode_mono, fingerprint_samples

    paths = sorted((CHECKOUT_CACHE / "bench-burst").glob("seed1-n24/*.mp4"))
    paths = [path.resolve() for path in paths] + [Path(item.file).resolve() for item in read_manifest(manifest)][::every]
    settings = Settings(media_roots=sorted({str(path.parent) for path in paths}))
    params = MatchParams.from_settings(settings).audio
    for path in paths:
        samples = decode_mono(path, settings)
        if samples is None:
            print(path.name, "no audio")
            continue
        found = fingerprint_samples(samples, params)
        digest = hashlib.sha1(found.items.tobytes() + found.landmarks.tobytes()
                              + b"".join(copy.items.tobytes() for copy in found.resampled)).hexdigest()
        print(path.name, digest, found.usable_seconds, found.state, len(found.items), len(found.landmarks))


def verdicts(manifest: Path) -> None:
    from streams.pipeline import RUNNERS_UP, build_verdict, judge, linked_cluster
    from tooling.evaluation.calibrate import Judge, record_half

    every = read_manifest(manifest)
    settings = Settings(triton_url="onnx", media_roots=sorted({str(Path(item.file).parent) for item in every}))
    params = MatchParams.from_settings(settings)
    recorded, stored = record_half(every, params, settings, Path(".cache/features"), progress=lambda line: None)
    judged = Judge(recorded, stored)
    cluster: dict[str, str] = {}
    stated: dict[str, str] = {}

    def lookup(video_id: str):
        video = stored.get(video_id)
        return video._replace(cluster_id=cluster.get(video_id, video_id),
                              verdict=stated.get(video_id, video.verdict)) if video is not None else None

    for video in recorded:
        video_id = video.item.video_id
        decision = judge(video.joined, judged._trimmed(video, params), lookup, judged.frames_of, params,
                         runners_up=RUNNERS_UP)
        duplicate_of = linked_cluster(decision, lookup)
        cluster[video_id] = duplicate_of or video_id
        verdict = build_verdict(video.joined, decision, duplicate_of, {}, None)
        if decision.is_duplicate:
            stated[video_id] = verdict.model_dump_json()
        print(json.dumps(verdict.model_dump(mode="json", exclude={"timings", "decided_at"}), sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench.digests", description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("fingerprints", "verdicts"))
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--every", type=int, default=8, help="fingerprints: every n-th video of the manifest")
    args = parser.parse_args(argv)
    if args.what == "fingerprints":
        fingerprints(args.manifest, args.every)
    else:
        verdicts(args.manifest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
