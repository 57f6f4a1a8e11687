import pytest

from streams.kafka.clients import event_for, stable_video_id


@pytest.mark.parametrize("uri, expected", [
    ("/videos/cat clip (1).mp4", "cat-clip-1"),
    ("https://cdn.example/v/abc.def.mp4?sig=1", "abc.def"),
    ("/videos/...mp4", None),
])
def test_ids_come_from_the_file_name(uri, expected):
    video_id = stable_video_id(uri)
    if expected:
        assert video_id == expected
    else:
        assert video_id.startswith("video-") and video_id == stable_video_id(uri)


def test_local_paths_are_published_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    event = event_for("clip.mp4")
    assert event.uri == str(tmp_path / "clip.mp4") and event.video_id == "clip"
    assert event_for("clip.mp4", "my-id").video_id == "my-id"
