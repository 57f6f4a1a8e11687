"""Frame embeddings on a real tritonserver (Python backend, ONNX Runtime, CPU) against the same
models run in-process, on frames decoded from a real clip."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from streams.config import Settings
from streams.errors import DupstreamError, EmbeddingUnavailable
from tests.triton_fixtures import triton_installation, triton_server, triton_url  # noqa: F401 (fixtures)

integration = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
MODELS = ["sscd", "sscd_distilled"]


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    """12 RGB frames of world.mp4, resized to the working size (224 x 224)."""
    import av

    from tooling.devset.packaged import packaged_media

    path = packaged_media(REPO / ".cache", ["world.mp4"])["world.mp4"]
    size = Settings().frame_size
    out = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % 5 == 0:
                out.append(frame.to_ndarray(width=size, height=size, format="rgb24"))
            if len(out) == 12:
                break
    assert len(out) == 12
    return np.stack(out)


@pytest.fixture(scope="module")
def onnx_embeddings(frames) -> dict[str, np.ndarray]:
    from streams.embedding.onnx import OnnxEmbedder

    result = {}
    for name in MODELS:
        embedder = OnnxEmbedder(name)
        result[name] = embedder.embed(frames)
        embedder.close()
    return result


@pytest.fixture(scope="module")
def embedders(triton_url):
    from streams.embedding.triton import TritonEmbedder

    opened = {name: TritonEmbedder(triton_url, Settings(frame_model=name)) for name in MODELS}
    yield opened
    for embedder in opened.values():
        embedder.close()


def _stats(client, model: str) -> tuple[int, int]:
    """(frames inferred, execute() calls) of the model so far."""
    stats = client.get_inference_statistics(model, as_json=True)["model_stats"][0]
    return int(stats.get("inference_count", 0)), int(stats.get("execution_count", 0))


@integration
@pytest.mark.parametrize("model", MODELS)
def test_triton_matches_onnx_runtime_in_process(embedders, frames, onnx_embeddings, model):
    embedder = embedders[model]
    got = embedder.embed(frames)
    assert got.shape == (len(frames), 512) and got.dtype == np.float32
    np.testing.assert_allclose(got, onnx_embeddings[model], atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-3)
    # Different frames of the clip are different vectors (not a constant output).
    assert np.abs(got[0] - got[-1]).max() > 1e-3
    assert embedder.model_name == model
    assert embedder.model_version.startswith("triton-2.51") and embedder.max_batch == 64


@integration
def test_batch_shapes_and_chunking(triton_url, embedders, frames, onnx_embeddings):
    from streams.embedding.triton import TritonEmbedder

    embedder = embedders["sscd_distilled"]
    assert embedder.embed(frames[:0]).shape == (0, 512)
    assert embedder.embed(frames[:1]).shape == (1, 512)
    # A non-contiguous view (mirrored frames, as the frame stage sends them) is accepted.
    mirrored = embedder.embed(frames[:, :, ::-1])
    np.testing.assert_allclose(mirrored, embedder.embed(np.ascontiguousarray(frames[:, :, ::-1])), atol=1e-6)
    # Inputs larger than the batch limit go in chunks, in order.
    chunked = TritonEmbedder(triton_url, Settings(frame_model="sscd_distilled"), max_batch=5)
    try:
        assert chunked.max_batch == 5
        np.testing.assert_allclose(chunked.embed(frames), onnx_embeddings["sscd_distilled"], atol=1e-4)
    finally:
        chunked.close()
    with pytest.raises(ValueError):
        embedder.embed(frames[..., :2])


@integration
def test_dynamic_batching_of_concurrent_requests(triton_server, embedders, frames, onnx_embeddings):
    import tritonclient.grpc as grpcclient

    embedder = embedders["sscd_distilled"]
    client = grpcclient.InferenceServerClient(triton_server.grpc_url)
    try:
        before = _stats(client, "sscd_distilled")
        # 24 one-frame requests from 8 threads through the one shared client.
        indices = [i % len(frames) for i in range(24)]
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: embedder.embed(frames[i : i + 1]), indices))
        after = _stats(client, "sscd_distilled")
    finally:
        client.close()
    for i, got in zip(indices, results):
        np.testing.assert_allclose(got[0], onnx_embeddings["sscd_distilled"][i], atol=1e-4)
    inferred, executions = after[0] - before[0], after[1] - before[1]
    assert inferred == 24
    assert executions < inferred, f"no dynamic batching: {executions} executions for {inferred} frames"


def test_dead_port_raises_after_retries_without_hanging():
    from streams.embedding.triton import TritonEmbedder
    from streams.embedding.triton_server import free_port

    settings = Settings(embed_attempts=3, triton_timeout_s=2.0)
    started = time.monotonic()
    with pytest.raises(EmbeddingUnavailable) as caught:
        TritonEmbedder(f"127.0.0.1:{free_port()}", settings, backoff_s=0.05)
    assert time.monotonic() - started < 10
    assert caught.value.attempts == 3 and caught.value.code == "embedding_unavailable"
    assert caught.value.retriable


@integration
def test_unknown_model_is_unavailable(triton_url):
    from streams.embedding.triton import TritonEmbedder

    with pytest.raises(EmbeddingUnavailable, match="not ready"):
        TritonEmbedder(triton_url, Settings(embed_attempts=2), model_name="no_such_model", backoff_s=0.01)


@integration
def test_server_gone_mid_use_raises_embedding_unavailable(triton_installation, frames):
    """A server that stops under a working client: calls fail after their retries, promptly."""
    from streams.embedding.triton import TritonEmbedder
    from streams.embedding.triton_server import TritonServer

    server = TritonServer(triton_installation, models=["sscd_distilled"]).start()
    try:
        embedder = TritonEmbedder(
            server.grpc_url, Settings(frame_model="sscd_distilled", embed_attempts=2, triton_timeout_s=5.0)
        )
        assert embedder.embed(frames[:2]).shape == (2, 512)
    finally:
        server.stop()
    assert not server.is_alive()
    started = time.monotonic()
    with pytest.raises(EmbeddingUnavailable) as caught:
        embedder.embed(frames[:2])
    embedder.close()
    assert caught.value.attempts == 2 and time.monotonic() - started < 15


@integration
def test_invalid_input_is_rejected_not_retried(embedders):
    """A request the server refuses (wrong size for the batch limit) is not worth retrying."""
    embedder = embedders["sscd_distilled"]
    embedder_batch, embedder.max_batch = embedder.max_batch, 100  # pretend a bigger limit
    try:
        started = time.monotonic()
        with pytest.raises(DupstreamError) as caught:
            embedder.embed(np.zeros((70, 64, 64, 3), np.uint8))
        assert not isinstance(caught.value, EmbeddingUnavailable)
        assert caught.value.code == "embedding_rejected" and time.monotonic() - started < 5
    finally:
        embedder.max_batch = embedder_batch


@integration
def test_install_is_idempotent_and_found(triton_installation):
    from streams.embedding.triton_server import find_installed
    from tooling.triton_install import install

    started = time.monotonic()
    again = install(triton_installation.home)
    assert time.monotonic() - started < 5
    assert again == triton_installation
    assert find_installed(home=triton_installation.home) == triton_installation
    assert find_installed(home=REPO / ".cache" / "no-triton-here") is None


# --- the model repositories (no server needed) ------------------------------------------------


def _config(path: Path):
    return _config_text(path.read_text())


def _uncommented_tensorrt(text: str) -> str:
    """The GPU config with its commented TensorRT block in place of the CUDA one."""
    head, _, block = text.partition("# Replace the optimization block above with:\n#\n")
    head = head[: head.index("optimization {")]
    return head + "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in block.splitlines())


@pytest.mark.parametrize("model", MODELS)
def test_model_configs_share_one_contract(model):
    cpu = _config(REPO / "model_repository" / model / "config.pbtxt")
    gpu_path = REPO / "infra" / "triton" / "model_repository_gpu" / model / "config.pbtxt"
    gpu = _config(gpu_path)
    tensorrt = _config_text(_uncommented_tensorrt(gpu_path.read_text()))
    for config in (cpu, gpu, tensorrt):
        assert config.name == model and config.max_batch_size == 64
        assert config.HasField("dynamic_batching") and config.dynamic_batching.max_queue_delay_microseconds > 0
        (image,) = config.input
        (embedding,) = config.output
        assert (image.name, image.data_type, list(image.dims)) == ("image", 2, [-1, -1, 3])  # TYPE_UINT8
        assert (embedding.name, embedding.data_type, list(embedding.dims)) == ("embedding", 11, [512])  # FP32
    assert cpu.backend == "python" and cpu.instance_group[0].kind == cpu.instance_group[0].KIND_CPU
    assert cpu.parameters["immaculate_model"].string_value == model
    assert gpu.backend == "onnxruntime" and gpu.instance_group[0].kind == gpu.instance_group[0].KIND_GPU
    assert gpu.optimization.execution_accelerators.gpu_execution_accelerator[0].name == "cuda"
    assert tensorrt.optimization.execution_accelerators.gpu_execution_accelerator[0].name == "tensorrt"
    # One backend implementation for both models, and no model file anywhere in the repository.
    assert (REPO / "model_repository" / model / "1" / "model.py").resolve() == (
        REPO / "model_repository" / "sscd" / "1" / "model.py"
    )
    assert not list(REPO.joinpath("model_repository").rglob("*.onnx"))
    assert not list(REPO.joinpath("infra", "triton").rglob("*.onnx"))


def _config_text(text: str):
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    return text_format.Parse(text, model_config_pb2.ModelConfig())
