import pytest

from streams.kafka import clients
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


@pytest.mark.integration
def test_the_commands_print_no_kafka_client_log_lines_when_the_broker_goes_away(tmp_path):
    """librdkafka writes its connection log (`%6|…|FAIL|rdkafka#consumer-1| … Disconnected`, then
    `%3|…|FAIL|… Connection refused` on every retry) to stderr unless told otherwise: `publish`
    prints its one line, and a `watch` whose broker stops while it reads prints only its verdicts."""
    import os
    import subprocess
    import sys
    from datetime import UTC, datetime

    from schemas.events import Verdict
    from streams.config import Settings
    from streams.kafka.broker import EmbeddedBroker
    from streams.kafka.topics import create_topics
    from tests.conftest import REPO, free_port

    settings = Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    env = {**os.environ, "DUPSTREAM_KAFKA_BOOTSTRAP": settings.kafka_bootstrap}
    command = [sys.executable, "-m", "streams.cli"]
    verdict = Verdict(video_id="clip", status="ok", is_duplicate=False, duplicate_of=None, duplicate_for="",
                      verdict="unique", reason="no match", decided_at=datetime.now(UTC))
    with EmbeddedBroker(settings.kafka_bootstrap, log_path=tmp_path / "broker.log"):
        create_topics(settings)
        published = subprocess.run([*command, "publish", "/videos/clip.mp4"], capture_output=True, text=True,
                                   env=env, cwd=REPO, timeout=60)
        clients.publish_raw(settings, [(b"clip", verdict.model_dump_json().encode())], topic=settings.topic_verdict)
        watch = subprocess.Popen([*command, "watch", "--from-beginning", "--timeout", "20"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        first = watch.stdout.readline()  # connected and reading; then the broker stops
    out, err = watch.communicate(timeout=60)  # it reconnects in vain until its timeout
    assert (published.returncode, published.stdout, published.stderr) == (0, "published clip -> /videos/clip.mp4\n", "")
    assert first.split() == ["clip", "unique"]
    assert (watch.returncode, out, err) == (0, "", "")
