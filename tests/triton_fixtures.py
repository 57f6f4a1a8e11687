"""A real tritonserver for the tests: installed once under <repo>/.cache/triton (git-ignored;
the first run downloads nvidia-pytriton and the backend's packages from PyPI) and started once
per session on free loopback ports with both models of model_repository/.

Use in a test module (or conftest.py):  from tests.triton_fixtures import triton_server, triton_url
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TRITON_HOME = REPO / ".cache" / "triton"


@pytest.fixture(scope="session")
def triton_installation():
    from tooling.triton_install import install

    return install(TRITON_HOME)


@pytest.fixture(scope="session")
def triton_server(triton_installation) -> Iterator:
    """A started `streams.embedding.triton_server.TritonServer` (sscd and sscd_distilled)."""
    from streams.embedding.triton_server import TritonServer

    with TritonServer(triton_installation) as server:
        yield server


@pytest.fixture(scope="session")
def triton_url(triton_server) -> str:
    """gRPC address host:port of the session's tritonserver (for DUPSTREAM_TRITON_URL)."""
    return triton_server.grpc_url
