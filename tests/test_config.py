from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.config import Settings


def test_defaults_run_the_embedded_stack(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("DUPSTREAM_"):
            monkeypatch.delenv(name)
    settings = Settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.qdrant_path == Path(".dupstream") / "qdrant"
    assert settings.topic_published == "video-published"


def test_environment_variables_configure_everything(monkeypatch, tmp_path):
    monkeypatch.setenv("DUPSTREAM_KAFKA_BOOTSTRAP", "broker:29092")
    monkeypatch.setenv("DUPSTREAM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DUPSTREAM_QDRANT_LOCATION", "http://qdrant:6333")
    monkeypatch.setenv("DUPSTREAM_MEDIA_ROOTS", f'["{tmp_path}"]')
    settings = Settings()
    assert settings.kafka_bootstrap == "broker:29092"
    assert settings.qdrant_path is None
    assert settings.allowed_media_roots == (tmp_path.resolve(),)


@pytest.mark.parametrize("name, value", [
    ("DUPSTREAM_KAFKA_BOOTSTRAP", "no-port"),
    ("DUPSTREAM_PARTITIONS", "0"),
    ("DUPSTREAM_FRAME_MODEL", "resnet"),
    ("DUPSTREAM_FRAME_SCORE_FLOOR", "1.5"),
])
def test_invalid_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_every_setting_is_documented():
    for name, field in Settings.model_fields.items():
        assert field.description, name
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"DUPSTREAM_{name.upper()}" in readme, f"README does not document DUPSTREAM_{name.upper()}"
