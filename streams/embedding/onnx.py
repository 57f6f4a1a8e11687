"""SSCD with ONNX Runtime in the worker's own process."""

from __future__ import annotations

import numpy as np

from streams.embedding import EMBEDDING_DIM, model_path


class OnnxEmbedder:
    def __init__(self, model_name: str, threads: int = 0, spinning: bool = False):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # Threads that spin between calls take the cycles the decoding beside them needs
        # (model_repository/sscd/1/model.py: allow_spinning; `dupstream bench profile` measures both).
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        self._session = ort.InferenceSession(
            str(model_path(model_name)), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self.model_name = model_name
        self.model_version = f"onnxruntime-{ort.__version__}"

    def embed(self, frames: np.ndarray) -> np.ndarray:
        if len(frames) == 0:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        (embeddings,) = self._session.run(None, {self._input: np.ascontiguousarray(frames, np.uint8)})
        return embeddings.astype(np.float32, copy=False)

    def close(self) -> None:
        self._session = None
