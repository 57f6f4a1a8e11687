"""The moderators' queue: which verdicts `dupstream watch --review` keeps, and how it shows a near miss."""

from datetime import UTC, datetime

from schemas.events import AudioEvidence, RunnerUp, Segment, Verdict, VisualEvidence


def verdict(kind: str, **fields) -> Verdict:
    return Verdict(video_id="q", status="failed" if kind == "failed" else "ok", is_duplicate=kind == "duplicate",
                   duplicate_of="r" if kind == "duplicate" else None, duplicate_for="", verdict=kind, reason="",
                   decided_at=datetime.now(UTC), **fields)


NEAR = RunnerUp(video_id="hard", short_of=["audio.max_false_alarm"],
                visual=VisualEvidence(video_id="hard", score=0.87, query_segment=Segment(start=0, end=19),
                                      reference_segment=Segment(start=0, end=19), offset=0.0, speed=1.0,
                                      aligned_frames=19),
                audio=AudioEvidence(video_id="hard", same_recording=False, ber=0.45, false_alarm=0.31, offset=2.0,
                                    speed=1.0))


def test_the_queue_holds_the_close_calls_that_are_not_duplicates():
    assert verdict("unique", runners_up=[NEAR]).needs_review()
    assert verdict("visual_match_different_audio", matched_video="r").needs_review()
    assert not verdict("unique").needs_review()  # nothing came close
    assert not verdict("duplicate", matched_video="r", runners_up=[NEAR]).needs_review()  # decided: acted upon
    assert not verdict("failed").needs_review()  # failures have their own queue: the dead letters


def test_a_near_miss_is_printed_with_what_it_missed_and_what_matched():
    from streams.cli import _runner_up_line

    line = _runner_up_line(NEAR)
    assert line.split()[:4] == ["almost", "hard", "missed", "audio.max_false_alarm"]
    assert "frames 0.87 x 19 q[0-19s]~[0-19s] speed 1.00" in line and "sound false alarm 3.1e-01 at offset +2.0 s" in line
