"""SSCD on a Triton Inference Server, over gRPC (tritonclient.grpc).

One `TritonEmbedder` per worker: the gRPC client is thread-safe for unary calls, so the stage
threads share it (and its one HTTP/2 connection). At start it checks that the server is live
and the model ready, and reads the model's max batch size; `embed` cuts big inputs into chunks
of that size, keeps up to `max_in_flight` chunks in flight (the server's dynamic batcher and
instances overlap them with the client's serialisation), and retries every call that fails for
a transient reason with exponential backoff. When the tries run out it raises
`EmbeddingUnavailable` (retriable: the video fails with `embedding_unavailable` and may be
re-published), never hangs: every call has a deadline (`Settings.triton_timeout_s`).

Copies: the frames are sliced, not copied (a C-contiguous uint8 input is used as is); the gRPC
client serialises each chunk once into the request. The embeddings are read from the response
buffer into one preallocated array.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from streams.config import Settings
from streams.embedding import EMBEDDING_DIM
from streams.errors import DupstreamError, EmbeddingUnavailable, ErrorCode
from streams.metrics import TRITON_SECONDS

log = logging.getLogger(__name__)

INPUT = "image"
OUTPUT = "embedding"

# gRPC status codes worth another try; anything else (INVALID_ARGUMENT, NOT_FOUND, ...) is not.
_TRANSIENT = {
    "StatusCode.UNAVAILABLE",
    "StatusCode.DEADLINE_EXCEEDED",
    "StatusCode.RESOURCE_EXHAUSTED",
    "StatusCode.ABORTED",
    "StatusCode.CANCELLED",
    "StatusCode.INTERNAL",
    "StatusCode.UNKNOWN",
    None,
}


def _grpc_address(url: str) -> str:
    for prefix in ("grpc://", "http://", "https://"):
        if url.startswith(prefix):
            url = url[len(prefix):]
    return url.rstrip("/")


class TritonEmbedder:
    """FrameEmbedder on Triton: uint8 [N, H, W, 3] RGB -> float32 [N, 512], L2-normalised.

    `model_name` defaults to settings.frame_model; `attempts` and `timeout_s` to
    settings.embed_attempts and settings.triton_timeout_s. Backoff before try k+1 is
    backoff_s * 2**(k-1) (capped at max_backoff_s), with +-25 % jitter."""

    def __init__(
        self,
        url: str,
        settings: Settings | None = None,
        *,
        model_name: str | None = None,
        attempts: int | None = None,
        timeout_s: float | None = None,
        backoff_s: float = 0.25,
        max_backoff_s: float = 4.0,
        max_batch: int | None = None,
        max_in_flight: int = 2,
    ):
        import tritonclient.grpc as grpcclient

        settings = settings or Settings()
        self._grpc = grpcclient
        self.url = _grpc_address(url)
        self.model_name = model_name or settings.frame_model
        self.attempts = attempts or settings.embed_attempts
        self.timeout_s = timeout_s or settings.triton_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_in_flight = max(1, max_in_flight)
        self._client = grpcclient.InferenceServerClient(self.url)
        self._outputs = [grpcclient.InferRequestedOutput(OUTPUT)]
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        try:
            server_version, version, model_max_batch = self._retry("health check", self._check)
        except BaseException:
            self._client.close()
            raise
        self.max_batch = min(max_batch or model_max_batch, model_max_batch)
        self.model_version = f"triton-{server_version}-v{version}"

    # --- start-up ----------------------------------------------------------------------------

    def _check(self) -> tuple[str, str, int]:
        health_timeout = min(self.timeout_s, 2.0)  # start-up must not stall the caller long
        if not self._client.is_server_live(client_timeout=health_timeout):
            raise EmbeddingUnavailable(f"Triton at {self.url} is not live")
        if not self._client.is_model_ready(self.model_name, client_timeout=health_timeout):
            raise EmbeddingUnavailable(f"Triton at {self.url}: model {self.model_name!r} is not ready")
        server = self._client.get_server_metadata(as_json=True, client_timeout=health_timeout)
        metadata = self._client.get_model_metadata(self.model_name, as_json=True, client_timeout=health_timeout)
        config = self._client.get_model_config(self.model_name, as_json=True, client_timeout=health_timeout)["config"]
        max_batch = int(config.get("max_batch_size", 0))
        if max_batch < 1:
            raise DupstreamError(f"Triton model {self.model_name!r} does not batch (max_batch_size 0)")
        versions = metadata.get("versions") or ["?"]
        return server.get("version", "?"), max(versions, key=lambda v: (len(v), v)), max_batch

    # --- inference ---------------------------------------------------------------------------

    def embed(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be [N, H, W, 3], got {frames.shape}")
        if frames.dtype != np.uint8 or not frames.flags.c_contiguous:
            frames = np.ascontiguousarray(frames, dtype=np.uint8)
        count = len(frames)
        out = np.empty((count, EMBEDDING_DIM), np.float32)
        if count == 0:
            return out
        bounds = [(start, min(start + self.max_batch, count)) for start in range(0, count, self.max_batch)]
        if len(bounds) == 1 or self.max_in_flight == 1:
            for start, end in bounds:
                out[start:end] = self._infer(frames[start:end])
            return out
        futures = [(start, end, self._executor().submit(self._infer, frames[start:end])) for start, end in bounds]
        try:
            for start, end, future in futures:
                out[start:end] = future.result()
        finally:
            for _, _, future in futures:
                future.cancel()
        return out

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="triton-embed")
            return self._pool

    def _infer(self, chunk: np.ndarray) -> np.ndarray:
        request = self._grpc.InferInput(INPUT, list(chunk.shape), "UINT8")
        request.set_data_from_numpy(chunk)

        def call() -> np.ndarray:
            with TRITON_SECONDS.labels(self.model_name).time():
                result = self._client.infer(
                    self.model_name, [request], outputs=self._outputs, client_timeout=self.timeout_s
                )
            embeddings = result.as_numpy(OUTPUT)
            if embeddings is None or embeddings.shape != (len(chunk), EMBEDDING_DIM):
                got = None if embeddings is None else embeddings.shape
                raise EmbeddingUnavailable(f"Triton returned embeddings of shape {got} for {len(chunk)} frames")
            return embeddings

        return self._retry(f"inference of {len(chunk)} frames", call)

    def _retry(self, what: str, call):
        from tritonclient.utils import InferenceServerException

        last: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except InferenceServerException as exc:
                status = exc.status()
                if status not in _TRANSIENT:
                    raise DupstreamError(
                        f"Triton at {self.url} rejected the {what} for {self.model_name!r}: {exc.message()}",
                        code=ErrorCode.EMBEDDING_REJECTED,
                    ) from exc
                last = exc
            except EmbeddingUnavailable as exc:
                last = exc
            if attempt < self.attempts:
                delay = min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)
                delay *= random.uniform(0.75, 1.25)
                log.warning("Triton %s: %s failed (%s); try %d of %d in %.2f s",
                            self.url, what, _describe(last), attempt + 1, self.attempts, delay)
                time.sleep(delay)
        error = EmbeddingUnavailable(
            f"Triton at {self.url} ({self.model_name}): {what} failed {self.attempts} times; last: {_describe(last)}"
        )
        error.attempts = self.attempts
        raise error from last

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()


def _describe(exc: Exception | None) -> str:
    if exc is None:
        return "?"
    message = exc.message() if hasattr(exc, "message") and callable(exc.message) else str(exc)
    status = exc.status() if hasattr(exc, "status") and callable(exc.status) else None
    return f"{status}: {message}" if status else str(message)
