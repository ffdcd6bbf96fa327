"""Faults: an ingestion killed with SIGKILL, and files that cannot be read."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from briefing_qa import store
from tests.conftest import BRIEFING, CORPUS, LiveServer
from tests.ops.conftest import cli_env, run_cli

KCSIE = "Keeping_children_safe_in_education_2025.pdf"
SMALL_PDF = "Info_sharing_advice_content_May_2024.pdf"

# `briefing-qa ingest`, with one hook: once the new version's files are all
# written to .tmp-*, it stops before the rename, so the kill lands there.
HOOKED = """
import sys, time, pathlib
import briefing_qa.store as s
flag = pathlib.Path(sys.argv[1])
def stall(folder):
    flag.write_text(str(folder))
    time.sleep(600)
s._fsync_tree = stall
sys.argv = ["briefing-qa"] + sys.argv[2:]
from briefing_qa.cli import main
main()
"""


def wait_for(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(what)


def ask(server: LiveServer, q: str = "What is the impact of poverty on neglect?") -> dict:
    r = httpx.post(server.url + "/v1/ask", json={"question": q}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("when", ["while embedding", "with the new version written, before the switch"])
def test_kill_9_during_ingestion_leaves_the_old_index_serving(when, index_copy, briefing_src, tmp_path):
    old = store.current_version(index_copy)
    src = tmp_path / "src"
    shutil.copytree(briefing_src, src)
    shutil.copy(CORPUS / SMALL_PDF, src / SMALL_PDF)  # a new file: a new version must be built
    flag = tmp_path / "stalled"
    env = cli_env()
    if when == "while embedding":
        cmd = [sys.executable, "-m", "briefing_qa.cli", "ingest", str(src), "--index", str(index_copy), "-q"]
    else:
        cmd = [sys.executable, "-c", HOOKED, str(flag), "ingest", str(src), "--index", str(index_copy), "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if when == "while embedding":
            time.sleep(4.0)  # the model is loaded and the new PDF being read or embedded
        else:
            wait_for(lambda: flag.exists() or proc.poll() is not None, 300, "the hooked ingest never reached the switch")
            assert flag.exists(), proc.communicate()[1][-3000:]
            tmp = Path(flag.read_text())
            assert tmp.name.startswith(".tmp-") and (tmp / "manifest.json").exists()
        assert proc.poll() is None, "ingestion ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The old version is still the live one, complete and readable...
    assert store.current_version(index_copy) == old
    assert len(store.read_index(index_copy).documents) == 1
    # ...and a real server starts on it and answers.
    server = LiveServer(index_copy).wait_ready(path="/readyz")
    try:
        assert ask(server)["passages"]
        # The next ingestion succeeds, and the running server switches to it.
        done = run_cli("ingest", str(src), "--index", str(index_copy), "-q")
        assert done.returncode == 0, done.stderr
        new = store.current_version(index_copy)
        assert new != old and len(store.read_index(index_copy).documents) == 2
        wait_for(lambda: httpx.get(server.url + "/readyz").json()["version"] == new.name, 30, "server did not switch")
        assert ask(server, "What should practitioners do before sharing information?")["passages"]
    finally:
        server.stop()


def _encrypted_pdf(path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(str(CORPUS / SMALL_PDF)), pages=(0, 2))
    writer.encrypt(user_password="secret", owner_password="owner")
    with path.open("wb") as f:
        writer.write(f)


def test_bad_files_each_get_one_clear_line_and_the_rest_are_indexed(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(CORPUS / BRIEFING, src / BRIEFING)
    shutil.copy(CORPUS / "sources.toml", src / "sources.toml")
    (src / "good.html").write_text("<html><head><title>Good page</title></head><body><h1>Early help</h1>"
                                   "<p>Early help means providing support as soon as a problem emerges.</p></body></html>")
    pdf = (CORPUS / SMALL_PDF).read_bytes()
    bad = {
        "truncated.pdf": pdf[: len(pdf) // 3],
        "corrupt.pdf": pdf[:1024] + os.urandom(20_000),
        "empty.pdf": b"",
        "binary.pdf": os.urandom(50_000),
        "broken.html": b"<html><head><title>x</head><body><div><table><tr><td><p><!-- never closed",
        "latin1.txt": "Caf\u00e9 culture and the child\u2019s voice".encode("cp1252"),
        "huge.txt": b"The voice of the child. " * 100_000,  # 2.4 MB, over the 1 MB limit set below
    }
    for name, data in bad.items():
        (src / name).write_bytes(data)
    _encrypted_pdf(src / "encrypted.pdf")
    bad["encrypted.pdf"] = b""

    index = tmp_path / "index"
    done = run_cli("ingest", str(src), "--index", str(index), "-q", env=cli_env(BRIEFING_QA_MAX_FILE_MB="1"))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("skipped ")]
    assert sorted(ln.split()[1].rsplit("/", 1)[-1].rstrip(":") for ln in lines) == sorted(bad), done.stderr
    reasons = {ln.split()[1].rsplit("/", 1)[-1].rstrip(":"): ln.split(":", 1)[1].strip() for ln in lines}
    assert "encrypted" in reasons["encrypted.pdf"].lower()
    assert "empty" in reasons["empty.pdf"].lower()
    assert "UTF-8" in reasons["latin1.txt"]
    assert "limit" in reasons["huge.txt"] and "BRIEFING_QA_MAX_FILE_MB" in reasons["huge.txt"]
    for name in ("truncated.pdf", "corrupt.pdf", "binary.pdf", "broken.html"):
        assert reasons[name], name
    assert "8 file(s) could not be read" in done.stderr
    docs = store.read_index(index).documents
    assert set(docs) == {BRIEFING[:-4], "good"}, set(docs)
