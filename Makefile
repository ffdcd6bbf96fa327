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

# The browser tests drive Debian's Chromium (never `playwright install`).
CHROMIUM_BIN ?= /usr/bin/chromium
CHROMIUM_PACKAGES := chromium chromium-driver

.PHONY: setup setup-test chromium serve index test test-unit screenshots lint bench clean

setup: $(VENV)/.installed

# torch first, pinned: 2.13.0 is a CPU build on this machine's disk; a looser
# pin would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PIP_ARGS) torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

setup-test: chromium setup tests/browser/node_modules/.installed

# Installs Chromium when it is missing: with apt-get as root, or with sudo
# when it needs no password; otherwise stops at once with the command to run.
chromium:
	@if command -v chromium >/dev/null 2>&1 || test -x $(CHROMIUM_BIN); then exit 0; fi; \
	install="apt-get install -y -q $(CHROMIUM_PACKAGES)"; \
	if [ "$$(id -u)" = 0 ]; then as=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as="sudo"; \
	else \
	  echo "error: the browser tests need Chromium, which is not installed. Install it, then run make test again:" >&2; \
	  echo "    sudo $$install" >&2; \
	  exit 1; \
	fi; \
	echo "Installing Chromium for the browser tests: $$as $$install"; \
	$$as $$install >/dev/null 2>&1 || { $$as apt-get update -q >/dev/null && $$as $$install >/dev/null; }

tests/browser/node_modules/.installed: tests/browser/package.json
	cd tests/browser && npm install --no-audit --no-fund --silent
	touch $@

# The encoder is adapted to the documents, then to practitioners' questions
# (the blind sets' tune halves and bench/train.jsonl, written to train on)
# first (once: `adapt` skips a model already adapted; some 20 minutes on 2
# cores), then the index is built with it. Records marked "split": "report"
# are never read: they measure what this buys.
TRAINING_QUESTIONS ?= bench/heldout.jsonl bench/blind2.jsonl bench/blind3.jsonl bench/followups.jsonl bench/check.jsonl bench/train.jsonl bench/everyday.jsonl
index: setup
	$(BQA) adapt --quiet $(addprefix --questions ,$(TRAINING_QUESTIONS))
	$(BQA) ingest

serve: index
	$(BQA) serve

test: setup-test
	$(PY) -m pytest

test-unit: setup
	$(PY) -m pytest -m "not integration and not browser"

# Refresh the screenshots in docs/screenshots (the tests alone write theirs
# to a temporary folder, so `make test` leaves tracked files alone).
screenshots: setup-test
	BRIEFING_QA_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/browser -k screenshots

lint: setup
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf build .pytest_cache
