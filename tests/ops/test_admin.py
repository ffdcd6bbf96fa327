"""The admin API on a real `briefing-qa serve` with the real model: intranet
teams add, replace, edit and remove documents; bad uploads lose nothing; a
server killed during a job comes back on the last good version. After
every step the library folder, sources.toml and the served index agree."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from briefing_qa import store
from tests.conftest import BRIEFING, CORPUS, LiveServer
from tests.ops.conftest import cli_env, run_cli

ADMIN, READ = "admin-key-7f3a", "read-key-19c2"
SMALL_PDF = "Info_sharing_advice_content_May_2024.pdf"
FACT = ("# Anytown local threshold guidance\n\n## Contacts about a child\n\n"
        "In Anytown the multi-agency safeguarding hub reviews every contact about a child within 36 hours, "
        "and the duty worker telephones the referrer back before the end of the next working day.\n\n"
        "## Disagreements\n\nA practitioner who disagrees with a threshold decision may escalate it to the "
        "Anytown principal social worker after five working days.\n")
FACT_Q = "How quickly does the Anytown safeguarding hub review a contact about a child?"
BRIEFING_ID = BRIEFING[:-4]


def admin(server, method, path, key=ADMIN, **kw) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    return httpx.request(method, server.url + path, headers=headers, timeout=60, **kw)


def upload(server, name, data, key=ADMIN, **fields) -> httpx.Response:
    return admin(server, "POST", "/v1/admin/documents", key=key, files={"file": (name, data)}, data=fields)


def wait_job(server, job_id, timeout=600.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = admin(server, "GET", f"/v1/admin/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        assert 0 <= job["progress"] <= 1 and job["state"] in ("queued", "running"), job
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']} ({job['stage']})"
        time.sleep(0.2)


def ask(server, question=FACT_Q, key=READ) -> dict:
    r = httpx.post(server.url + "/v1/ask", json={"question": question, "top_k": 3}, headers={"X-API-Key": key}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def snapshot(corpus: Path, index: Path) -> dict:
    """What must not change after a refused or failed change."""
    return {"files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(corpus.iterdir()) if p.is_file()},
            "version": store.current_version(index).name}


def agree(server, corpus: Path, index: Path) -> set[str]:
    """The library, sources.toml and the served index hold the same documents,
    with the same attribution; returns their ids."""
    served = {d["id"]: d for d in admin(server, "GET", "/v1/documents", key=READ).json()["documents"]}
    on_disk = store.read_index(index).documents
    files = {p.name for p in corpus.iterdir() if p.is_file() and p.name != "sources.toml"}
    assert {d.path for d in on_disk.values()} == files
    assert set(served) == set(on_disk)
    catalog = {e["file"]: e for e in tomllib.loads((corpus / "sources.toml").read_text(encoding="utf-8"))["source"]}
    for doc in on_disk.values():
        entry = catalog.get(doc.path, {})
        for field in ("publisher", "year", "url", "licence"):
            assert served[doc.id][field] == entry.get(field), (doc.id, field)
        if "title" in entry:
            assert served[doc.id]["title"] == entry["title"]
    return set(served)


@pytest.fixture(scope="module")
def library(tmp_path_factory, briefing_src, briefing_index):
    root = tmp_path_factory.mktemp("admin")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(briefing_src, corpus)
    shutil.copytree(briefing_index, index)
    return corpus, index


@pytest.fixture(scope="module")
def server(library):
    corpus, index = library
    s = LiveServer(index, env={"BRIEFING_QA_API_KEYS": f"{READ},{ADMIN}:admin", "BRIEFING_QA_MAX_FILE_MB": "1"},
                   args=("--corpus", str(corpus))).wait_ready(path="/readyz")
    yield s
    s.stop()


def test_admin_routes_need_an_admin_key(server):
    routes = [("GET", "/v1/admin/documents"), ("GET", "/v1/admin/jobs"), ("GET", "/v1/admin/jobs/j20260101-000000000-abcdef"),
              ("GET", "/v1/admin/audit"), ("DELETE", f"/v1/admin/documents/{BRIEFING_ID}"),
              ("PATCH", f"/v1/admin/documents/{BRIEFING_ID}"), ("POST", "/v1/admin/documents")]
    for method, path in routes:
        assert admin(server, method, path, key=None).status_code == 401, path
        r = admin(server, method, path, key=READ)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json", path
    assert admin(server, "GET", "/v1/admin/documents").status_code == 200
    assert admin(server, "GET", "/v1/admin/jobs/j20260101-000000000-abcdef").status_code == 404
    assert admin(server, "GET", "/v1/admin/jobs/..%2F..%2Fmanifest").status_code == 404
    # The page itself is public: it asks for the key.
    page = httpx.get(server.url + "/admin")
    assert page.status_code == 200 and "admin key" in page.text
    paths = httpx.get(server.url + "/openapi.json").json()["paths"]
    for path in ("/v1/admin/documents", "/v1/admin/documents/{doc_id}", "/v1/admin/jobs", "/v1/admin/jobs/{job_id}",
                 "/v1/admin/audit"):
        assert path in paths, path
    assert set(paths["/v1/admin/documents/{doc_id}"]) == {"patch", "delete"}


def test_without_an_admin_key_configured_nobody_changes_the_library(index_copy, briefing_src):
    s = LiveServer(index_copy, args=("--corpus", str(briefing_src))).wait_ready(path="/readyz")
    try:
        r = upload(s, "x.md", b"# X\n\nText.", key=None)
        assert r.status_code == 403 and "BRIEFING_QA_API_KEYS" in r.json()["detail"]
        assert httpx.delete(f"{s.url}/v1/admin/documents/{BRIEFING_ID}").status_code == 403
    finally:
        s.stop()


def test_upload_answer_edit_replace_and_remove(server, library):
    corpus, index = library
    old_version = store.current_version(index).name
    r = upload(server, "anytown-thresholds.md", FACT.encode(), title="Anytown threshold guidance",
               publisher="Anytown Safeguarding Children Partnership", year="2026", url="https://anytown.example/thresholds",
               licence="© Anytown SCP")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["document_id"] == "anytown-thresholds" and r.headers["location"] == f"/v1/admin/jobs/{body['job_id']}"
    job = wait_job(server, body["job_id"])
    assert job["state"] == "done" and job["progress"] == 1 and job["result"]["outcome"] == "added", job
    assert job["result"]["parsed"] == 1  # only the new file was read...
    assert 0 < job["result"]["embedded"] <= 4  # ...and only its passages embedded
    assert store.current_version(index).name != old_version

    # Answerable at once, cited with the attribution given.
    first = ask(server)["passages"][0]
    assert first["citation"]["document_id"] == "anytown-thresholds" and "36 hours" in first["quote"]
    assert first["citation"]["reference"].startswith("Anytown Safeguarding Children Partnership (2026) Anytown threshold guidance.")
    assert first["citation"]["url"].startswith("https://anytown.example/thresholds#")
    doc = admin(server, "GET", "/v1/documents/anytown-thresholds", key=READ).json()
    assert (doc["title"], doc["publisher"], doc["year"], doc["licence"]) == (
        "Anytown threshold guidance", "Anytown Safeguarding Children Partnership", "2026", "© Anytown SCP")
    assert (corpus / "anytown-thresholds.md").read_bytes() == FACT.encode()
    assert "# year: not stated on the page" in (corpus / "sources.toml").read_text(encoding="utf-8")  # comments kept
    listed = {d["id"]: d for d in admin(server, "GET", "/v1/admin/documents").json()["documents"]}
    assert listed["anytown-thresholds"]["status"] == "indexed" and listed["anytown-thresholds"]["chunks"] >= 1
    assert agree(server, corpus, index) == {BRIEFING_ID, "anytown-thresholds"}

    # Attribution edits write a new version without embedding anything.
    r = admin(server, "PATCH", "/v1/admin/documents/anytown-thresholds", json={"title": "Anytown thresholds (2026 edition)",
                                                                                 "licence": None})
    assert r.status_code == 202, r.text
    job = wait_job(server, r.json()["job_id"])
    assert job["state"] == "done" and job["result"]["embedded"] == 0 and job["result"]["sentences_embedded"] == 0, job
    first = ask(server)["passages"][0]
    assert "Anytown thresholds (2026 edition)." in first["citation"]["reference"]
    assert admin(server, "GET", "/v1/documents/anytown-thresholds", key=READ).json()["licence"] is None
    agree(server, corpus, index)
    # The CLI reads the same folder and finds nothing to do: nothing was lost between them.
    done = run_cli("ingest", str(corpus), "--index", str(index), "-q")
    assert done.returncode == 0 and "index is up to date" in done.stdout, done.stdout + done.stderr

    # The same name again replaces it; questions keep being answered meanwhile.
    answers: list[int] = []
    stop = threading.Event()

    def keep_asking():
        while not stop.is_set():
            answers.append(httpx.post(server.url + "/v1/ask", json={"question": FACT_Q}, headers={"X-API-Key": READ},
                                      timeout=60).status_code)

    t = threading.Thread(target=keep_asking)
    t.start()
    try:
        r = upload(server, "anytown-thresholds.md", FACT.replace("36 hours", "48 hours").encode())
        job = wait_job(server, r.json()["job_id"])
    finally:
        stop.set()
        t.join()
    assert job["state"] == "done" and job["result"]["outcome"] == "replaced", job
    assert answers and set(answers) == {200}, answers
    first = ask(server)["passages"][0]
    assert "48 hours" in first["quote"] and "36 hours" not in first["quote"]
    assert "Anytown thresholds (2026 edition)." in first["citation"]["reference"]  # blank fields keep the attribution
    agree(server, corpus, index)

    # Removed from the library, sources.toml and the index.
    assert admin(server, "DELETE", "/v1/admin/documents/no-such-document").status_code == 404
    r = admin(server, "DELETE", "/v1/admin/documents/anytown-thresholds")
    assert r.status_code == 202
    job = wait_job(server, r.json()["job_id"])
    assert job["state"] == "done" and job["result"]["outcome"] == "removed", job
    assert all(p["citation"]["document_id"] != "anytown-thresholds" for p in ask(server)["passages"])
    assert not (corpus / "anytown-thresholds.md").exists()
    assert "anytown-thresholds.md" not in (corpus / "sources.toml").read_text(encoding="utf-8")
    assert agree(server, corpus, index) == {BRIEFING_ID}
    # The last document cannot be removed (the index would be left empty).
    assert admin(server, "DELETE", f"/v1/admin/documents/{BRIEFING_ID}").status_code == 409

    # The audit log: one line a change, the key by its hash id, never the key.
    raw = (index / "admin" / "audit.jsonl").read_text(encoding="utf-8")
    assert ADMIN not in raw
    entries = admin(server, "GET", "/v1/admin/audit").json()["entries"]
    done_ = [(e["action"], e["document_id"]) for e in entries if e["result"] == "done"]
    assert done_[-4:] == [("added", "anytown-thresholds"), ("edited", "anytown-thresholds"),
                          ("replaced", "anytown-thresholds"), ("removed", "anytown-thresholds")]
    added = next(e for e in entries if e["action"] == "added")
    assert added["sha256"] == hashlib.sha256(FACT.encode()).hexdigest() and added["key"].startswith("key-")


def _encrypted_pdf() -> bytes:
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    w.append(PdfReader(str(CORPUS / SMALL_PDF)), pages=(0, 2))
    w.encrypt(user_password="secret", owner_password="owner")
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def _blank_pdf() -> bytes:
    from io import BytesIO

    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(595, 842)
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def test_bad_uploads_lose_nothing(server, library):
    corpus, index = library
    before = snapshot(corpus, index)
    toml_before = (corpus / "sources.toml").read_text(encoding="utf-8")
    pdf = (CORPUS / SMALL_PDF).read_bytes()
    at_once = [
        ("claims-to-be.pdf", b"This is a text file, not a PDF.", 415, "not a PDF"),
        ("really-a-pdf.txt", pdf[:5000], 415, "looks like a PDF"),
        ("slides.pptx", b"PK\x03\x04...", 415, "not supported"),
        ("notes", b"text", 415, "without an extension"),
        ("latin1.txt", "Caf\u00e9 culture".encode("cp1252"), 415, "UTF-8"),
        ("empty.md", b"", 422, "empty"),
        ("../escape.pdf", pdf[:5000], 422, "path parts"),
        ("..\\escape.txt", b"text", 422, "path parts"),
        ("sources.toml", b"[[source]]", 422, "reserved"),
        ("huge.txt", b"The voice of the child. " * 60_000, 413, "BRIEFING_QA_MAX_FILE_MB"),  # 1.4 MB > 1 MB
        (BRIEFING.replace("-", "_"), b"Other text with the briefing's id.", 409, "already has"),
    ]
    for name, data, status, words in at_once:
        r = upload(server, name, data)
        assert r.status_code == status and r.headers["content-type"] == "application/problem+json", (name, r.text)
        assert words in r.json()["detail"], (name, r.json())
    r = upload(server, "bad-link.md", b"# T\n\nText.", url="javascript:alert(1)")
    assert r.status_code == 422 and "http" in r.json()["detail"]
    r = upload(server, "bad-year.md", b"# T\n\nText.", year="20x6")  # would print in every reference
    assert r.status_code == 422 and "year such as 2025" in r.json()["detail"]

    as_jobs = [
        ("locked.pdf", _encrypted_pdf(), "encrypted"),
        ("truncated.pdf", pdf[: len(pdf) // 3], "damaged or incomplete"),
        ("scanned.pdf", _blank_pdf(), "no text layer; scanned PDFs need OCR first"),
    ]
    for name, data, words in as_jobs:
        r = upload(server, name, data)
        assert r.status_code == 202, (name, r.text)
        job = wait_job(server, r.json()["job_id"])
        assert job["state"] == "failed" and words in job["error"] and "nothing was changed" in job["error"], job
    # The library and the served index are as they were.
    assert snapshot(corpus, index) == before
    assert (corpus / "sources.toml").read_text(encoding="utf-8") == toml_before
    assert httpx.get(server.url + "/readyz").json()["version"] == before["version"]
    assert not list((index / "admin" / "uploads").glob("*/*"))  # staged uploads cleaned up
    refused = [e for e in admin(server, "GET", "/v1/admin/audit").json()["entries"] if e["result"] in ("refused", "failed")]
    assert len(refused) >= len(at_once) + len(as_jobs)


def test_two_uploads_at_once_are_queued_not_interleaved(server, library):
    corpus, index = library
    docs = {f"local-procedure-{n}.md": f"# Local procedure {n}\n\n## Step\n\nProcedure {n} asks the lead to record "
            f"decision number {n * 7919} in the Anytown log.\n".encode() for n in (1, 2)}
    results: dict[str, httpx.Response] = {}
    threads = [threading.Thread(target=lambda n=n, d=d: results.__setitem__(n, upload(server, n, d))) for n, d in docs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    jobs = sorted((wait_job(server, r.json()["job_id"]) for r in results.values()), key=lambda j: j["started"])
    assert [j["state"] for j in jobs] == ["done", "done"], jobs
    assert jobs[0]["finished"] <= jobs[1]["started"], jobs  # one after the other
    assert agree(server, corpus, index) == {BRIEFING_ID, "local-procedure-1", "local-procedure-2"}
    for n in (1, 2):  # leave the library as the other tests expect it
        wait_job(server, admin(server, "DELETE", f"/v1/admin/documents/local-procedure-{n}").json()["job_id"])
    assert agree(server, corpus, index) == {BRIEFING_ID}


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_kill_9_during_a_job_then_restart(tmp_path, briefing_src, index_copy):
    corpus = tmp_path / "corpus"
    shutil.copytree(briefing_src, corpus)
    env = {"BRIEFING_QA_API_KEYS": f"{READ},{ADMIN}:admin"}
    s = LiveServer(index_copy, env=env, args=("--corpus", str(corpus))).wait_ready(path="/readyz")
    before = snapshot(corpus, index_copy)
    toml_before = (corpus / "sources.toml").read_text(encoding="utf-8")
    runner = None
    try:
        r = upload(s, SMALL_PDF, (CORPUS / SMALL_PDF).read_bytes())
        job_id = r.json()["job_id"]
        deadline = time.monotonic() + 600
        while True:  # kill it once the library has been changed and embedding is under way
            job = admin(s, "GET", f"/v1/admin/jobs/{job_id}").json()
            if job["stage"].startswith("embedding"):
                break
            assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
            time.sleep(0.05)
        assert (corpus / SMALL_PDF).exists()  # the change was half made
        runner = _children(s.proc.pid)
        assert runner, "the job runs in a child process"
        os.kill(s.proc.pid, signal.SIGKILL)
        s.proc.wait()
        deadline = time.monotonic() + 20
        while any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
                  for pid in runner):
            assert time.monotonic() < deadline, "the job's process outlived the server"
            time.sleep(0.1)
    finally:
        if s.proc.poll() is None:
            s.stop()
    s = LiveServer(index_copy, env=env, args=("--corpus", str(corpus))).wait_ready(path="/readyz")
    try:
        # The last good version is served, the half-made change undone, the job failed.
        assert httpx.get(s.url + "/readyz").json()["version"] == before["version"]
        assert snapshot(corpus, index_copy) == before
        assert (corpus / "sources.toml").read_text(encoding="utf-8") == toml_before
        job = admin(s, "GET", f"/v1/admin/jobs/{job_id}").json()
        assert job["state"] == "failed" and "stopped during this job" in job["error"], job
        assert agree(s, corpus, index_copy) == {BRIEFING_ID}
        # And the library works on: a new upload, then a restart keeps it.
        job = wait_job(s, upload(s, "anytown-thresholds.md", FACT.encode(), publisher="Anytown SCP").json()["job_id"])
        assert job["state"] == "done", job
    finally:
        s.stop()
    s = LiveServer(index_copy, env=env, args=("--corpus", str(corpus))).wait_ready(path="/readyz")
    try:
        assert agree(s, corpus, index_copy) == {BRIEFING_ID, "anytown-thresholds"}
        assert ask(s)["passages"][0]["citation"]["document_id"] == "anytown-thresholds"
        states = {j["job_id"]: j["state"] for j in admin(s, "GET", "/v1/admin/jobs").json()["jobs"]}
        assert states[job_id] == "failed" and states[job["job_id"]] == "done"
    finally:
        s.stop()


def test_cli_ingest_waits_for_the_library_lock(tmp_path, briefing_src, index_copy):
    """`briefing-qa ingest` and the server's jobs take turns on one library."""
    from briefing_qa.library import Library

    lib = Library(briefing_src, index_copy)
    with lib.lock():
        proc = subprocess.Popen([sys.executable, "-m", "briefing_qa.cli", "ingest", str(briefing_src), "--index",
                                 str(index_copy), "-q"], env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert proc.poll() is None  # waiting for the lock
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "up to date" in out, out + err
