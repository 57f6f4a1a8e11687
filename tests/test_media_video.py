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
