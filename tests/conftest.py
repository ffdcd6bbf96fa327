"""Shared fixtures. Two tiers: fast unit tests (tests/unit, fake embedder
allowed) and integration tests on the real model, the real corpus and a real
HTTP server (tests/integration, tests/browser, tests/ops; marked
`integration`). `make test` runs both."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "ingest"
# The question files `make index` adapts the encoder on, read from the
# Makefile so the tests' model is trained as the shipped one is.
TRAINING_QUESTIONS = tuple(ROOT / p for p in re.search(r"^TRAINING_QUESTIONS \?= (.+)$", (ROOT / "Makefile").read_text(
    encoding="utf-8"), re.M).group(1).split())


def report_half(with_context: bool = True) -> list:
    """The answerable questions of the blind report halves (blind2, blind3):
    nothing was tuned or trained on them (`adapt` learns from the tune
    halves and bench/heldout.jsonl)."""
    from briefing_qa.evaluate import load_questions

    return [q for name in ("blind2.jsonl", "blind3.jsonl") for q in load_questions(ROOT / "bench" / name)
            if q.split == "report" and q.answerable and (with_context or not q.context)]


def _shared() -> Path:
    """The read-only material beside the project (../shared); CI clones may sit elsewhere."""
    for candidate in (os.environ.get("BRIEFING_QA_SHARED"), ROOT.parent / "shared", "/work/shared"):
        if candidate and (Path(candidate) / "eval" / "dev.jsonl").is_file():
            return Path(candidate)
    return ROOT.parent / "shared"


SHARED = _shared()
BRIEFING = "triennial-analysis-briefing-local-safeguarding-partnerships.txt"


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts[0] in ("integration", "browser", "ops"):
            item.add_marker(pytest.mark.integration)
        if parts[0] == "browser":
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def embedder():
    """The bundled model: what an index without an adapted model uses."""
    from briefing_qa.embedding import load_embedder
    from briefing_qa.settings import default_model

    return load_embedder(default_model())


@pytest.fixture(scope="session")
def adapted_model(embedder) -> Path:
    """The encoder adapted to the corpus, as `briefing-qa adapt` makes it
    (some 10 minutes on 2 cores). Kept in build/test-model under a key of the
    base model, the recipe, the corpus files and adaptation.py, so a second
    session on the same code reuses it; a fresh clone trains it."""
    import hashlib
    from dataclasses import asdict

    from briefing_qa import adaptation
    from briefing_qa.embedding import model_identity, model_name
    from briefing_qa.ingest import corpus_chunks
    from briefing_qa.settings import Settings, default_model

    prebuilt = os.environ.get("BRIEFING_QA_TEST_INDEX")
    if prebuilt and adaptation.Adaptation.read(Path(prebuilt) / adaptation.ADAPTED_DIR) is not None:
        return Path(prebuilt) / adaptation.ADAPTED_DIR  # quick iteration: that index's own encoder
    base = default_model()
    settings = Settings.from_env(env={})
    shas, chunks = corpus_chunks([CORPUS], settings, embedder.fits)
    key = hashlib.sha256(repr((model_identity(base), asdict(adaptation.Recipe()), sorted(shas.items()),
                               Path(adaptation.__file__).read_bytes(),
                               [p.read_bytes() for p in TRAINING_QUESTIONS])).encode()).hexdigest()[:16]
    out = ROOT / "build" / "test-model" / key
    if adaptation.Adaptation.read(out) is None:
        adaptation.adapt(base, model_name(base), model_identity(base), shas, chunks, out, questions=TRAINING_QUESTIONS)
    return out


@pytest.fixture(scope="session")
def served_embedder(adapted_model):
    """The encoder the service uses on the corpus index: the adapted one."""
    from briefing_qa.embedding import load_embedder

    return load_embedder(str(adapted_model))


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, adapted_model, served_embedder):
    """The full default corpus, ingested once per test session as `make index`
    builds it: the adapted model in index/model, then `ingest` with it.
    For quick iteration only, BRIEFING_QA_TEST_INDEX names an index already built
    from ingest/ by this code (`briefing-qa adapt` and `ingest --index DIR`): it is used as is."""
    from briefing_qa.adaptation import ADAPTED_DIR
    from briefing_qa.ingest import ingest
    from briefing_qa.settings import Settings

    prebuilt = os.environ.get("BRIEFING_QA_TEST_INDEX")
    if prebuilt:
        return Settings.from_env(env={}, index=Path(prebuilt))
    root = tmp_path_factory.mktemp("corpus-index")
    (root / "index").mkdir()
    (root / "index" / ADAPTED_DIR).symlink_to(adapted_model, target_is_directory=True)
    settings = Settings.from_env(env={}, index=root / "index")
    assert settings.model_path == str(root / "index" / ADAPTED_DIR)
    report = ingest([CORPUS], settings, lambda: served_embedder)
    assert report.ok, [str(e) for e in report.errors]
    return settings


@pytest.fixture(scope="session")
def retriever(corpus_index, served_embedder):
    from briefing_qa.service import Engine

    return Engine(corpus_index, served_embedder).load()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`briefing-qa serve` in a subprocess: a real HTTP server on loopback."""

    def __init__(self, index: Path, env: dict | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_QA_")}
        full_env.update({"BRIEFING_QA_INDEX": str(index), "BRIEFING_QA_RELOAD_INTERVAL": "0.5", **(env or {})})
        # The server's output (one JSON access-log line a request) goes to a
        # file: a pipe nobody reads fills up and blocks the server.
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "briefing_qa.cli", "serve", "--port", str(self.port), *args],
            env=full_env, stdout=self.log, stderr=subprocess.STDOUT, text=True,
        )

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def wait_ready(self, timeout: float = 60.0, path: str = "/healthz") -> LiveServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if httpx.get(self.url + path, timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server not ready after {timeout} s")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.output()


@pytest.fixture(scope="session")
def live_server(corpus_index):
    server = LiveServer(corpus_index.index).wait_ready(path="/v1/documents")
    yield server
    server.stop()


@pytest.fixture()
def briefing_only(tmp_path):
    """A folder with just the briefing and its attribution."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(CORPUS / BRIEFING, src / BRIEFING)
    shutil.copy(CORPUS / "sources.toml", src / "sources.toml")
    return src
