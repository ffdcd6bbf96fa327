"""Fixtures of the operations tier: real `briefing-qa` processes on a small
real index (the briefing alone: seconds to build, the real model)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BRIEFING, CORPUS


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_QA_")}
    env.update(extra)
    return env


def run_cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "briefing_qa.cli", *args], env=env or cli_env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def briefing_src(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("ops-src")
    shutil.copy(CORPUS / BRIEFING, src / BRIEFING)
    shutil.copy(CORPUS / "sources.toml", src / "sources.toml")
    return src


@pytest.fixture(scope="session")
def briefing_index(tmp_path_factory, briefing_src) -> Path:
    """An index of the briefing, built by the CLI (with its ONNX encoder)."""
    root = tmp_path_factory.mktemp("ops-index") / "index"
    done = run_cli("ingest", str(briefing_src), "--index", str(root), "-q")
    assert done.returncode == 0, done.stderr
    assert list((root / "encoder").glob("*.onnx"))
    return root


@pytest.fixture()
def index_copy(tmp_path, briefing_index) -> Path:
    """A private copy of the briefing index, for tests that change it."""
    dst = tmp_path / "index"
    shutil.copytree(briefing_index, dst, symlinks=True)
    return dst
