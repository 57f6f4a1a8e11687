"""dupstream: is this newly published video a duplicate of one seen before?

The flow, one package each: kafka (broker, topics) -> stages (ingest -> frames / audio -> join
-> match -> verdict), with media (decode), embedding (SSCD on Triton or ONNX Runtime), audio
(Essentia fingerprints), index (Qdrant) and matching (alignment, decision) as their tools.
"""

from importlib import metadata

__version__ = metadata.version("dupstream")  # one source: pyproject.toml
