"""The production stack file: valid Compose, and everything it names is in the repository.

No Docker engine runs here. Debian's `docker-compose` (installed by `make setup`) validates the
file against the Compose Specification and resolves it without one."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from streams.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yaml"
PROFILES = ["--profile", "ui", "--profile", "monitoring"]


def compose(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("the docker-compose command is not installed (`make setup` installs Debian's docker-compose)")
    return subprocess.run([binary, "-f", str(COMPOSE), *PROFILES, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def resolved() -> dict:
    """The file as Compose reads it: anchors merged, variables at their defaults, paths absolute."""
    result = compose("config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_the_file_is_valid_compose():
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_every_file_it_references_is_in_the_repository(resolved):
    for name, service in resolved["services"].items():
        if "build" in service:
            context = Path(service["build"]["context"])
            assert context.is_dir() and context.is_relative_to(ROOT), name
            assert (context / service["build"]["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith("/"):
                assert Path(source).exists() and Path(source).is_relative_to(ROOT), f"{name}: {source}"
            else:
                assert source in resolved["volumes"], f"{name}: undeclared volume {source}"


def test_workers_start_after_what_they_need_and_scale(resolved):
    services = resolved["services"]
    workers = services["dupstream"]
    assert workers["deploy"]["replicas"] >= 2
    assert workers["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    for needed in ("kafka", "qdrant", "triton"):
        assert workers["depends_on"][needed]["condition"] == "service_healthy"
    for service in services.values():
        for needed, condition in service.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], needed
    gpu = services["triton"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper


def test_dupstream_variables_are_settings_with_valid_values(resolved, monkeypatch):
    for name in ("topics", "dupstream"):
        environment = {key: str(value) for key, value in resolved["services"][name]["environment"].items()}
        for key in environment:
            assert key.removeprefix("DUPSTREAM_").lower() in Settings.model_fields, key
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.qdrant_path is None  # the Qdrant server, not the embedded engine
        assert settings.kafka_bootstrap == "kafka:9092"


def test_prometheus_scrapes_services_of_the_stack(resolved):
    scrape = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())["scrape_configs"]
    hosts = {target.split(":")[0] for job in scrape for config in job.get("static_configs", [])
             for target in config["targets"]}
    hosts |= {name for job in scrape for config in job.get("dns_sd_configs", []) for name in config["names"]}
    assert hosts == {"dupstream", "triton", "qdrant"}
    assert hosts <= set(resolved["services"])
