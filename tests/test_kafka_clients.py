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


@pytest.mark.integration
def test_publishing_again_goes_through_the_given_producer(monkeypatch):
    # A new producer takes ~0.5 s to deliver its first event; the eval's publish-to-verdict
    # seconds must not count that for every video.
    from streams.config import Settings
    from streams.kafka import clients
    from streams.kafka.broker import EmbeddedBroker
    from streams.kafka.topics import create_topics
    from tests.conftest import free_port

    settings = Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    with EmbeddedBroker(settings.kafka_bootstrap):
        create_topics(settings)
        upload_service = clients.producer(settings)

        def no_second_producer(_settings):
            raise AssertionError("publish made a producer of its own")

        monkeypatch.setattr(clients, "producer", no_second_producer)
        for name in ("first.mp4", "second.mp4"):  # each call waits until the broker has its event
            clients.publish(settings, [event_for(f"/videos/{name}")], client=upload_service)
        del upload_service  # before the broker stops, so it does not retry a closed port
