# The two commands: `make serve` and `make test`. `make setup` is the
# idempotent install both use (and the Dockerfile's build step).
VENV ?= .venv
PY := $(VENV)/bin/python
BQA := $(VENV)/bin/briefing-qa
PYTHON ?= python3
# Elsewhere than these machines (the Dockerfile), point pip at PyTorch's CPU
# wheels, or torch==2.13.0 comes as the multi-GB CUDA build:
#   make setup TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_ARGS ?=

.PHONY: setup setup-test serve index test test-unit lint bench clean

setup: $(VENV)/.installed

# torch first, pinned: 2.13.0 is a CPU build on this machine's disk; a looser
# pin would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PIP_ARGS) torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup-test: setup tests/browser/node_modules/.installed

tests/browser/node_modules/.installed: tests/browser/package.json
	cd tests/browser && npm install --no-audit --no-fund --silent
	touch $@

index: setup
	$(BQA) ingest

serve: index
	$(BQA) serve

test: setup-test
	$(PY) -m pytest

test-unit: setup
	$(PY) -m pytest -m "not integration and not browser"

lint: setup
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf build .pytest_cache
