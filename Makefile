# dupstream's two everyday commands on a fresh machine:  make demo  and  make test.
# Both set up what they need first (idempotently): a Python 3.12 venv with the project, the
# ffmpeg command (for building sample videos) and Triton Inference Server in its own venv.

VENV      := .venv
PY        := $(VENV)/bin/python
TRITON    := .cache/triton
STAMP     := $(VENV)/.installed

.PHONY: setup ffmpeg docker-compose espeak-ng sox demo up test test-fast bench eval schemas clean

setup: $(STAMP) ffmpeg docker-compose espeak-ng sox triton

$(STAMP): pyproject.toml
	test -x $(PY) || $$(infra/dev/python312.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Commands from Debian packages of the same name: ffmpeg, docker-compose (which validates
# docker-compose.yaml in the tests; no Docker engine needed), espeak-ng (the development set's
# narrations) and sox (measuring and converting sound by hand).
ffmpeg docker-compose espeak-ng sox:
	@command -v $@ >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $@ >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $@ >/dev/null; fi; }

triton: $(STAMP)
	$(PY) -m tooling.triton_install $(TRITON)

demo: setup
	$(VENV)/bin/dupstream demo

up: setup
	$(VENV)/bin/dupstream up

# Every tier (tests/conftest.py): fast, media (decoded clips, the models, ffmpeg), integration (real processes).
test: setup
	$(VENV)/bin/pytest -ra

# The fast tier alone: no media, no model, no download (a fast test reaching for them fails).
test-fast: $(STAMP)
	$(VENV)/bin/pytest -ra -m fast

# The full development set through the stream and the PDQ baseline (docs/evaluation.md).
bench: setup
	$(VENV)/bin/dupstream bench triton
	$(VENV)/bin/dupstream bench frames

eval: setup
	$(VENV)/bin/dupstream devset build .cache/devset
	$(VENV)/bin/dupstream eval .cache/devset/manifest.json --json .cache/devset/report.json

schemas: $(STAMP)
	$(PY) -m schemas.generate

clean:
	rm -rf $(VENV) .cache .dupstream
