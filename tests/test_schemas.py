import json

import pytest
from pydantic import ValidationError

from schemas.events import Verdict, VideoPublished
from schemas.generate import JSON_DIR, rendered
from schemas.internal import decode_array, encode_array


@pytest.mark.parametrize("event", [
    {"video_id": "v1", "uri": "/videos/a.mp4"},
    {"video_id": "A.b_c:d-9", "uri": "file:///videos/a.mp4", "published_at": "2026-11-24T10:00:00Z"},
    {"video_id": "x" * 128, "uri": "https://cdn.example/v.mp4", "metadata": {"channel": "c1"}},
    {"video_id": "v1", "uri": "/a.mp4", "extra_field_from_a_newer_producer": 1},
])
def test_valid_events(event):
    assert VideoPublished.model_validate(event).video_id == event["video_id"]


@pytest.mark.parametrize("event, field", [
    ({"uri": "/a.mp4"}, "video_id"),
    ({"video_id": "", "uri": "/a.mp4"}, "video_id"),
    ({"video_id": "x" * 129, "uri": "/a.mp4"}, "video_id"),
    ({"video_id": "a/b", "uri": "/a.mp4"}, "video_id"),
    ({"video_id": "a b", "uri": "/a.mp4"}, "video_id"),
    ({"video_id": "v1"}, "uri"),
    ({"video_id": "v1", "uri": ""}, "uri"),
    ({"video_id": "v1", "uri": "ftp://host/a.mp4"}, "uri"),
    ({"video_id": "v1", "uri": "/a" * 3000}, "uri"),
    ({"video_id": "v1", "uri": "/a.mp4", "published_at": "yesterday"}, "published_at"),
    ({"video_id": "v1", "uri": "/a.mp4", "metadata": ["not", "an", "object"]}, "metadata"),
    ({"video_id": "v1", "uri": "/a.mp4", "metadata": {"blob": "x" * 70_000}}, "metadata"),
])
def test_invalid_events_name_the_field(event, field):
    with pytest.raises(ValidationError) as caught:
        VideoPublished.model_validate(event)
    assert field in {str(error["loc"][0]) for error in caught.value.errors()}


def test_checked_in_json_schemas_match_the_models():
    expected = rendered()
    on_disk = {path.name: path.read_text() for path in JSON_DIR.glob("*.schema.json")}
    assert on_disk == expected, "schemas/json is stale: run `make schemas` and commit"


def test_verdict_schema_has_the_contract_fields():
    properties = json.loads((JSON_DIR / "duplicate-verdict.value.schema.json").read_text())["properties"]
    for field in ["video_id", "status", "is_duplicate", "duplicate_of", "duplicate_for", "verdict", "visual",
                  "audio", "error", "timings", "models"]:
        assert field in properties
    assert set(Verdict.model_fields["verdict"].annotation) >= {"duplicate", "unique", "failed"}


def test_arrays_round_trip_through_base64():
    import numpy as np

    vectors = np.random.default_rng(1).normal(size=(5, 512)).astype(np.float32)
    back = decode_array(encode_array(vectors, "float16"), "float16", 512)
    assert back.shape == (5, 512) and np.abs(back - vectors).max() < 2e-2
    items = np.array([0, 1, 2**32 - 1], np.uint32)
    assert (decode_array(encode_array(items, "uint32"), "uint32") == items).all()
