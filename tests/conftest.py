"""Shared fixtures. Two tiers: fast unit tests (tests/unit, fake embedder
allowed) and integration tests on the real model, the real corpus and a real
HTTP server (tests/integration, tests/browser, tests/ops; marked
`integration`). `make test` runs both."""

from __future__ import annotations

import os
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
    from briefing_qa.embedding import load_embedder
    from briefing_qa.settings import default_model

    return load_embedder(default_model())


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, embedder):
    """The full default corpus, ingested once per test session with the real model.
    For quick iteration only, BRIEFING_QA_TEST_INDEX names an index already built
    from ingest/ by this code (`briefing-qa ingest --index DIR`): it is used as is."""
    from briefing_qa.ingest import ingest
    from briefing_qa.settings import Settings

    prebuilt = os.environ.get("BRIEFING_QA_TEST_INDEX")
    if prebuilt:
        return Settings.from_env(env={}, index=Path(prebuilt))
    root = tmp_path_factory.mktemp("corpus-index")
    settings = Settings.from_env(env={}, index=root / "index")
    report = ingest([CORPUS], settings, lambda: embedder)
    assert report.ok, [str(e) for e in report.errors]
    return settings


@pytest.fixture(scope="session")
def retriever(corpus_index, embedder):
    from briefing_qa.service import Engine

    return Engine(corpus_index, embedder).load()


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
