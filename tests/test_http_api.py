"""The worker's web server on a real stack: the original HTTP API over the stream, its OpenAPI
description, the Prometheus metrics, and log lines that name their video."""

import json
import urllib.error
import urllib.request

import pytest

from streams.api import video_id_for
from streams.config import Settings
from tests.conftest import CACHE, free_port, running_stack

pytestmark = pytest.mark.integration


def call(port: int, path: str, body=None, timeout: float = 180.0, method: str | None = None) -> tuple[int, dict | str]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     method=method or ("POST" if data else "GET"),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    return status, json.loads(text) if text.startswith("{") else text


def test_check_video_duplicate_over_the_stream(tmp_path, samples, frame_model_url):
    port = free_port()
    by_name = {sample.video_id: sample for sample in samples}
    original, copy = str(by_name["bunny"].path), str(by_name["bunny_trimmed"].path)
    with running_stack(tmp_path, [by_name["bunny"].path.parent, CACHE], frame_model_url, web_port=str(port)) as stack:
        assert call(port, "/check-video-duplicate", {"link": original}) == (200, {
            "is_duplicate": False, "duplicate_for": "", "video_id": video_id_for(original), "verdict": "unique"})
        assert call(port, "/check-video-duplicate", {"link": copy, "video_id": "trimmed"}) == (200, {
            "is_duplicate": True, "duplicate_for": video_id_for(original), "video_id": "trimmed",
            "verdict": "duplicate"})

        status, failed = call(port, "/check-video-duplicate", {"link": str(by_name["bunny"].path.parent / "gone.mp4")})
        assert status == 422 and failed["code"] == "media_not_found"
        status, late = call(port, "/check-video-duplicate?timeout=0.001", {"link": original})
        assert status == 504 and "no verdict for" in late["error"]
        for bad in (b"not json", {"url": original}, {"link": original, "video_id": "no spaces allowed"}):
            status, answer = call(port, "/check-video-duplicate", bad)
            assert status == 400 and answer["error"], bad
        for timeout in ("nan", "-1", "soon"):  # "inf" is the longest allowed, like any larger number
            status, answer = call(port, f"/check-video-duplicate?timeout={timeout}", {"link": original})
            assert status == 400 and answer["error"], timeout

        status, spec = call(port, "/openapi.json")
        assert status == 200 and "/check-video-duplicate" in spec["paths"] and "delete" in spec["paths"]["/videos/{video_id}"]
        assert spec["components"]["schemas"]["VideoRemoval"]["properties"]["new_root"]
        status, metrics = call(port, "/metrics")
        assert status == 200
        assert 'dupstream_verdicts_total{verdict="duplicate"} 1.0' in metrics
        assert 'dupstream_verdicts_total{verdict="failed"} 1.0' in metrics
        assert 'dupstream_dead_letters_total{code="media_not_found",stage="ingest"} 1.0' in metrics
        assert 'dupstream_stage_seconds_count{stage="frames"}' in metrics
        assert "faust_topic_partition_offset_commited{" in metrics  # with the end offsets: consumer lag
        if frame_model_url != "onnx":
            assert f'dupstream_triton_request_seconds_count{{model="{Settings().frame_model}"}}' in metrics

    log = (tmp_path / "worker.log").read_text()
    assert f"video_id={video_id_for(original)} verdict" in log
    assert "video_id=trimmed verdict trimmed: duplicate" in log
