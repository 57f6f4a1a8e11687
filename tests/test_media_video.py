import threading

import numpy as np
import pytest

from streams.config import Settings
from streams.errors import MediaError
from streams.media.video import drop_blank_frames, sample_frames


def test_frames_are_sampled_once_a_second_at_the_working_size(media):
    frames = sample_frames(media["world.mp4"], Settings())
    assert frames.pixels.dtype == np.uint8 and frames.pixels.shape[1:] == (224, 224, 3)
    assert frames.duration == pytest.approx(30.0, abs=1.0)
    assert len(frames.timestamps) == pytest.approx(30, abs=2)
    assert np.allclose(np.diff(frames.timestamps), 1.0, atol=0.1)


def test_long_videos_are_thinned_to_max_frames(media):
    frames = sample_frames(media["world.mp4"], Settings(max_frames=10))
    assert len(frames.timestamps) == 10
    assert frames.timestamps[-1] > 20


def test_limits_are_enforced(media):
    with pytest.raises(MediaError) as caught:
        sample_frames(media["world.mp4"], Settings(max_seconds=10))
    assert caught.value.code == "media_too_long"
    with pytest.raises(MediaError) as caught:
        sample_frames(media["world.mp4"], Settings(max_pixels=100 * 100))
    assert caught.value.code == "media_too_large"


def test_audio_only_and_non_video_files_are_refused(media, tmp_path):
    with pytest.raises(MediaError) as caught:
        sample_frames(media["sax.wav"], Settings())
    assert caught.value.code == "no_video_stream"
    text = tmp_path / "text.mp4"
    text.write_text("hello")
    with pytest.raises(MediaError):
        sample_frames(text, Settings())


def test_a_truncated_file_still_gives_its_first_frames(media, tmp_path):
    truncated = tmp_path / "truncated.avi"
    data = media["b.avi"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    frames = sample_frames(truncated, Settings())
    assert 1 <= len(frames.timestamps) <= 4


def test_blank_frames_are_dropped(media):
    frames = sample_frames(media["world.mp4"], Settings(max_frames=4))
    frames.pixels[1] = 0
    frames.pixels[2] = 128
    kept, dropped = drop_blank_frames(frames, 10.0)
    assert dropped == 2 and len(kept.timestamps) == 2


def test_the_scaler_gives_the_pixels_of_a_conversion_per_frame(media):
    import av

    from streams.media.video import Scaler

    scaled = Scaler()
    with av.open(str(media["trailer_bbb.mp4"])) as container:
        frames = [frame for _, frame in zip(range(3), container.decode(video=0))]
    for frame in frames:  # one context per target, reused from frame to frame
        for width, height, format in ((448, 448, "gray"), (224, 224, "rgb24"), (398, 224, "rgb24")):
            np.testing.assert_array_equal(scaled(frame, width, height, format),
                                          frame.to_ndarray(width=width, height=height, format=format))


def test_a_video_decoded_beside_another_gives_the_frames_it_gives_alone(media):
    from streams.media.video import frame_chunks

    settings = Settings()
    alone = sample_frames(media["world.mp4"], settings)
    beside = frame_chunks(media["trailer_bbb.mp4"], settings)
    next(beside)  # under way: world.mp4 is decoded on one thread now
    together = sample_frames(media["world.mp4"], settings)
    beside.close()
    np.testing.assert_array_equal(together.timestamps, alone.timestamps)
    np.testing.assert_array_equal(together.pixels, alone.pixels)


def test_a_video_is_sampled_in_one_stretch_under_a_minute_and_in_halves_quarters_or_eighths_beyond():
    from streams.media.video import _restarts

    assert _restarts(59.0) == [0.0]
    assert _restarts(0.0) == [0.0]  # the header does not say
    assert _restarts(220.0) == [0.0, 55.0, 110.0, 165.0]
    assert len(_restarts(3600.0)) == 8


@pytest.mark.media
def test_sampling_starts_again_at_each_restart_in_one_decode_or_in_segments(tmp_path, monkeypatch):
    """25 fps H.264 with B-frames (not decoded), a keyframe every 2 s: within each stretch the
    first frame at least a second after the last one picked; each stretch's first at its start."""
    from streams.media import video
    from tooling.devset.samples import ffmpeg

    path = tmp_path / "25fps.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "24", "-c:v", "libx264", "-bf", "2", "-g", "50",
           str(path))
    monkeypatch.setattr(video, "RESTART_SECONDS", 6.0)  # restarts at 6, 12 and 18 s
    picked = []
    for parts in (1, 2, 3):
        monkeypatch.setattr(video, "decode_workers", lambda: parts)
        picked.append(sample_frames(path, Settings(media_roots=[tmp_path])).timestamps)
    for other in picked[1:]:
        np.testing.assert_array_equal(other, picked[0])
    times = np.round(picked[0], 3)
    assert {0.0, 6.0, 12.0, 18.0} <= set(times)
    steps = np.diff(times)[~np.isin(times[1:], [6.0, 12.0, 18.0])]
    assert (steps >= 1.0).all() and (steps <= 1.08 + 1e-3).all()


def _decoded_in(parts: int, monkeypatch, media, cap: int = 4):
    """frame_chunks of a 720p H.264 clip with B-frames and keyframes at uneven times (56 s: sampled
    in quarters when they may be 10 s long), decoded in at most parts segments, with the segments
    it was decoded in, the pick times per thread and kept frames."""
    from streams.media import video

    segments, picks = [], []
    split = video._segments

    def spied_segments(*args):
        found = split(*args)
        segments.append([(segment.first, segment.end) for segment in found[0]])
        return found

    def spied_picture(frame, *args):
        picks.append((threading.get_ident(), frame.time))
        return picture(frame, *args)

    picture = video._picture
    monkeypatch.setattr(video, "decode_workers", lambda: parts)
    monkeypatch.setattr(video, "RESTART_SECONDS", 10.0)
    monkeypatch.setattr(video, "_segments", spied_segments)
    monkeypatch.setattr(video, "_picture", spied_picture)
    kept = video.KeptFrames(cap, 32)
    chunks = list(video.frame_chunks(media["trailer_bbb.mp4"], Settings(), kept=kept))
    return video.joined(chunks), segments[0], picks, kept


@pytest.mark.parametrize("parts", [2, 3])
def test_a_video_decoded_in_segments_gives_the_frames_and_kept_frames_of_one_decode(parts, media, monkeypatch):
    whole, segments, _, kept_whole = _decoded_in(1, monkeypatch, media)
    split, segments, _, kept_split = _decoded_in(parts, monkeypatch, media)
    assert len(segments) == parts and segments[0][0] == 0 and segments[-1][1] is None
    np.testing.assert_array_equal(split.timestamps, whole.timestamps)
    np.testing.assert_array_equal(split.pixels, whole.pixels)
    np.testing.assert_array_equal(split.thumbnails, whole.thumbnails)
    assert split.duration == whole.duration
    assert kept_split.times == kept_whole.times and 4 <= len(kept_split.times) < 8  # thinned the same way
    for ours, theirs in zip(kept_split.pictures, kept_whole.pictures):
        np.testing.assert_array_equal(ours, theirs)


def test_segments_are_decoded_side_by_side_and_their_threads_end_with_the_video(media, monkeypatch):
    _, _, picks, _ = _decoded_in(2, monkeypatch, media)
    threads = list(dict.fromkeys(thread for thread, _ in picks))
    assert len(threads) == 2
    times = [[time for thread, time in picks if thread == ident] for ident in threads]
    assert max(times[0]) < min(times[1])  # each segment its own stretch of the video...
    turns = [[n for n, (thread, _) in enumerate(picks) if thread == ident] for ident in threads]
    assert turns[1][0] < turns[0][-1]  # ...both under way at once
    assert not [thread for thread in threading.enumerate() if thread.name == "dupstream-segment"]


def test_a_video_sampled_in_one_stretch_or_decoded_beside_another_is_decoded_in_one(media, monkeypatch):
    from streams.media import video

    monkeypatch.setattr(video, "_restarts", lambda duration: [0.0])
    _, segments, _, _ = _decoded_in(2, monkeypatch, media)
    assert segments == [(0, None)]
    monkeypatch.undo()
    beside = video.frame_chunks(media["world.mp4"], Settings())
    next(beside)
    _, segments, _, _ = _decoded_in(2, monkeypatch, media)
    beside.close()
    assert segments == [(0, None)]


def test_an_error_in_a_later_segment_is_raised_and_ends_every_segment(media, monkeypatch):
    from streams.media import video

    picture = video._picture

    def failing(frame, *args):
        if frame.time > 40:
            raise MediaError("a frame the converter cannot take")
        return picture(frame, *args)

    monkeypatch.setattr(video, "decode_workers", lambda: 2)
    monkeypatch.setattr(video, "RESTART_SECONDS", 10.0)
    monkeypatch.setattr(video, "_picture", failing)
    with pytest.raises(MediaError, match="converter"):
        sample_frames(media["trailer_bbb.mp4"], Settings())
    assert not [thread for thread in threading.enumerate() if thread.name == "dupstream-segment"]
