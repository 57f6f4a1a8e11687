"""The whole stream on real parts: Tansu broker, a Faust worker, SSCD descriptors, Qdrant Edge,
Essentia fingerprints, real decoded clips. Videos are published one at a time, each after the
previous verdict, so that "earlier video" is well defined."""

from __future__ import annotations

import json

import pytest

from streams.config import Settings
from streams.params import MatchParams

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def verdicts(stack, samples):
    """Publish every sample in order; their verdicts by id."""
    results = {}
    for sample in samples:
        stack.publish(sample.video_id, str(sample.path))
        results[sample.video_id] = stack.log.verdict(sample.video_id, timeout=180)
    return results


@pytest.mark.parametrize("video_id", ["bunny", "bunny_reencoded", "bunny_trimmed", "bunny_other_music",
                                      "city_over_bunny_sound", "earth", "bikes_silent"])
def test_sample_gets_the_expected_verdict(verdicts, samples, video_id):
    sample = next(s for s in samples if s.video_id == video_id)
    verdict = verdicts[video_id]
    assert verdict.status == "ok", verdict.error
    assert verdict.verdict.value == sample.expected_verdict, verdict.reason
    assert verdict.duplicate_of == sample.expected_duplicate_of
    assert verdict.duplicate_for == (sample.expected_duplicate_of or "")
    assert verdict.is_duplicate == (sample.expected_verdict == "duplicate")


def test_duplicate_verdict_explains_itself(verdicts):
    verdict = verdicts["bunny_trimmed"]
    assert verdict.matched_video == "bunny"
    visual = verdict.visual
    assert visual.video_id == "bunny" and visual.score > 0.6 and visual.aligned_frames >= 5
    # The copy starts 8 s into the original: reference time = query time + 8.
    assert visual.offset == pytest.approx(8.0, abs=1.5)
    assert visual.reference_segment.start == pytest.approx(8.0, abs=1.5)
    assert verdict.audio is not None and verdict.audio.same_recording
    assert verdict.audio.offset == pytest.approx(8.0, abs=0.5)
    assert verdict.audio.agrees_with_frames is True  # one copy: sound and frames on one time line
    assert verdict.thresholds["align.visual_match_score"] == MatchParams().align.visual_match_score
    assert verdict.params_digest == MatchParams().digest()  # the defaults: nothing overrides them here
    assert {"frames", "audio", "match", "total"} <= set(verdict.timings)
    assert verdict.models.frame_model == Settings().frame_model


@pytest.mark.parametrize("video_id", ["bunny_other_music", "city_over_bunny_sound"])
def test_hard_cases_name_the_video_they_resemble(verdicts, video_id):
    verdict = verdicts[video_id]
    assert verdict.matched_video == "bunny" and verdict.audio is not None
    assert verdict.audio.same_recording == (video_id == "city_over_bunny_sound")


def test_video_without_sound_is_judged_on_frames(verdicts):
    assert verdicts["bikes_silent"].audio_state.value == "no_audio"
    assert verdicts["earth"].audio_state.value == "too_little_audio"


def test_every_verdict_of_one_worker_names_the_same_parameters(verdicts):
    """The worker builds its matching parameters once: one digest for all its verdicts."""
    digests = {verdict.params_digest for verdict in verdicts.values() if verdict.status == "ok"}
    assert digests == {MatchParams().digest()}


@pytest.mark.parametrize("video_id, code", [("missing_file", "media_not_found"), ("not_a_video", "media_unreadable")])
def test_unusable_video_fails_into_the_dead_letter_topic(verdicts, stack, samples, video_id, code):
    verdict = verdicts[video_id]
    assert verdict.status == "failed" and verdict.verdict.value == "failed" and not verdict.is_duplicate
    assert verdict.error.code == code
    letter = stack.log.dead_letter(video_id.encode())
    headers = dict(letter.headers())
    assert headers["dupstream.error.code"].decode() == code
    original = json.loads(letter.value())
    assert original["video_id"] == video_id
    assert original["uri"] == str(next(s for s in samples if s.video_id == video_id).path)


def test_broken_event_fails_without_stopping_the_worker(stack, verdicts, samples):
    from streams.kafka.clients import publish_raw

    broken = b'{"video_id": "broken-1", "uri": 42'
    publish_raw(stack.settings, [(b"broken-1", broken)])
    verdict = stack.log.verdict("broken-1")
    assert verdict.status == "failed" and verdict.error.code == "invalid_event"
    assert stack.log.dead_letter(b"broken-1").value() == broken
    # The worker goes on: a valid video still gets its verdict.
    stack.publish("bunny_again", str(samples[1].path))
    assert stack.log.verdict("bunny_again").verdict.value == "duplicate"


def test_processing_a_video_twice_gives_the_same_verdict(stack, verdicts, samples):
    stack.publish("bunny_reencoded", str(samples[1].path))
    again = stack.log.verdict("bunny_reencoded", count=2)
    first = verdicts["bunny_reencoded"]
    assert (again.verdict, again.duplicate_of, again.decided_at) == (first.verdict, first.duplicate_of, first.decided_at)
