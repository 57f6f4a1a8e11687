"""`dupstream backfill`: a catalogue indexed with the stream's per-video functions, resumably, bad
files listed, the duplicates within it summarised."""

import json

import pytest

from streams.backfill import catalogue


def test_the_catalogue_comes_from_manifests_directories_and_files(tmp_path):
    (tmp_path / "shelf" / "deeper").mkdir(parents=True)
    for name in ("shelf/b.mp4", "shelf/deeper/a.MOV", "shelf/notes.txt"):
        (tmp_path / name).write_bytes(b"")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"items": [{"video_id": "second", "file": "shelf/b.mp4", "order": 2},
                                              {"video_id": "first", "uri": "https://cdn.example/1.mp4", "order": 1}]}))
    items = catalogue([str(manifest), str(tmp_path / "shelf"), str(tmp_path / "single.mp4")])
    assert items == [("first", "https://cdn.example/1.mp4"), ("second", str(tmp_path / "shelf/b.mp4")),
                     ("b", str(tmp_path / "shelf/b.mp4")), ("a", str(tmp_path / "shelf/deeper/a.MOV")),
                     ("single", str(tmp_path / "single.mp4"))]


@pytest.mark.integration
def test_backfill_indexes_resumes_and_lists_bad_files(tmp_path, samples, capsys, monkeypatch):
    from streams.cli import main
    from streams.config import Settings
    from streams.kafka.broker import EmbeddedBroker
    from streams.kafka.clients import read_verdicts
    from streams.kafka.topics import create_topics
    from tests.conftest import free_port

    by_name = {sample.video_id: str(sample.path) for sample in samples}
    manifest = tmp_path / "catalogue.json"
    manifest.write_text(json.dumps([
        {"video_id": "first", "uri": by_name["bunny_trimmed"]},
        {"video_id": "again", "uri": by_name["bunny_trimmed"]},  # the same file under another id: a duplicate
        {"video_id": "silent", "uri": by_name["bikes_silent"]},
        {"video_id": "broken", "uri": by_name["not_a_video"]},
        {"video_id": "gone", "uri": str(tmp_path / "gone.mp4")},
    ]))
    monkeypatch.setenv("DUPSTREAM_QDRANT_LOCATION", str(tmp_path / "qdrant"))
    monkeypatch.setenv("DUPSTREAM_TRITON_URL", "onnx")
    monkeypatch.setenv("DUPSTREAM_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    report = tmp_path / "report.json"

    settings = Settings()
    with EmbeddedBroker(settings.kafka_bootstrap, log_path=tmp_path / "broker.log"):
        create_topics(settings)
        assert main(["backfill", str(manifest), "--json", str(report), "--verdicts-to", "duplicate-verdict"]) == 0
        sent = {verdict.video_id: verdict for verdict in read_verdicts(settings, timeout=10)}
    assert sorted(sent) == ["again", "first", "silent"] and sent["again"].duplicate_of == "first"
    first = json.loads(report.read_text())
    assert (first["files"], first["indexed"], first["skipped"], first["failed"]) == (5, 3, 0, 2)
    assert first["verdicts"] == {"unique": 2, "duplicate": 1}
    assert first["duplicate_clusters"] == [{"root": "first", "duplicates": ["again"]}]
    assert [(bad["video_id"], bad["code"]) for bad in first["bad_files"]] == [("broken", "media_unreadable"),
                                                                             ("gone", "media_not_found")]
    out = capsys.readouterr().out
    assert "[2/5] " in out and "video-min/min, ETA " in out and "again: duplicate of first" in out
    assert "first                             1  again" in out

    assert main(["backfill", str(manifest), "--json", str(report)]) == 0  # resumed: nothing indexed twice
    again = json.loads(report.read_text())
    assert (again["indexed"], again["skipped"], again["failed"]) == (0, 3, 2)
    assert again["duplicate_clusters"] == first["duplicate_clusters"] and again["verdicts"] == first["verdicts"]
    assert "again: already indexed" in capsys.readouterr().out
