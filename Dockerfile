# Briefing QA: the API, the quote finder page and the chat widget.
#
#   docker build -t briefing-qa .
#   docker run -p 8000:8000 briefing-qa                      # index built from ingest/ into the image
#   docker run -p 8000:8000 -v /srv/bqa-index:/app/index:ro briefing-qa   # or a mounted, read-only index
#
# Stage 1 installs through the same `make setup` the README and CI use (only
# pointing pip at PyTorch's CPU wheels), then `make index`: the encoder adapted
# to ingest/ and to the blind tune questions (index/model, about 10 minutes on
# 2 cores) and the index built with it.
# Stage 2 is the runtime: the same Python, the venv (torch CPU-only and the
# bundled all-MiniLM-L6-v2 model inside), no compiler, a non-root user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    XDG_CACHE_HOME=/app/cache
# make runs the install; build-essential only for a dependency without a wheel.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends make build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY Makefile pyproject.toml README.md ./
COPY src ./src
RUN make setup TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu" \
 && find .venv -name __pycache__ -prune -exec rm -rf {} +
COPY ingest ./ingest
# The questions `make index` also adapts the encoder on (its TRAINING_QUESTIONS;
# the blind sets' report halves in them are never read).
COPY bench/*.jsonl ./bench/
# The index, and the ONNX query encoder exported beside it; the encoder is
# moved to the cache, so it is still found when a volume replaces /app/index.
RUN make index \
 && mkdir -p cache/briefing-qa \
 && mv index/encoder/*.onnx cache/briefing-qa/ \
 && rmdir index/encoder

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    XDG_CACHE_HOME=/app/cache \
    PATH=/app/.venv/bin:$PATH \
    BRIEFING_QA_HOST=0.0.0.0 \
    BRIEFING_QA_PORT=8000 \
    BRIEFING_QA_INDEX=/app/index \
    BRIEFING_QA_SOURCES=/app/ingest
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /app/.venv ./.venv
COPY --from=build /app/src ./src
COPY --from=build /app/pyproject.toml /app/Makefile ./
COPY --from=build /app/ingest ./ingest
COPY --from=build --chown=app:app /app/index ./index
COPY --from=build /app/cache ./cache
USER 10001:10001
EXPOSE 8000
# Ready, not just alive: an index is loaded and answering.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
CMD ["briefing-qa", "serve"]
