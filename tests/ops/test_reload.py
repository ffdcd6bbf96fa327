"""A running server switches to the version `briefing-qa ingest` writes,
while requests keep coming, without failing one."""

from __future__ import annotations

import shutil
import threading
import time

import httpx

from briefing_qa import store
from tests.conftest import CORPUS, LiveServer
from tests.ops.conftest import run_cli

NEW_DOC = "Info_sharing_advice_content_May_2024.pdf"
QUESTIONS = ["What is the impact of poverty on neglect?", "How do partnerships learn from serious incidents?",
             "What should practitioners do before sharing information?", "What is the voice of the child?"]


def test_hot_reload_under_load_fails_no_request(index_copy, briefing_src, tmp_path):
    old = store.current_version(index_copy).name
    server = LiveServer(index_copy).wait_ready(path="/readyz")
    results: list[tuple[int, str | None]] = []
    errors: list[str] = []
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(timeout=60) as c:
            i = n
            while not stop.is_set():
                i += 1
                try:
                    r = c.post(server.url + "/v1/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                    docs = {p["citation"]["document_id"] for p in r.json().get("passages", [])} if r.status_code == 200 else set()
                    results.append((r.status_code, ",".join(sorted(docs))))
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    try:
        for t in threads:
            t.start()
        time.sleep(2)
        src = tmp_path / "src"
        shutil.copytree(briefing_src, src)
        shutil.copy(CORPUS / NEW_DOC, src / NEW_DOC)
        done = run_cli("ingest", str(src), "--index", str(index_copy), "-q")
        assert done.returncode == 0, done.stderr
        new = store.current_version(index_copy).name
        assert new != old
        deadline = time.monotonic() + 30
        while httpx.get(server.url + "/readyz").json()["version"] != new:
            assert time.monotonic() < deadline, "the server did not switch to the new version"
            time.sleep(0.2)
        time.sleep(2)  # and keep asking a while on the new version
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        server.stop()
    assert not errors, errors[:5]
    assert results and all(code == 200 for code, _ in results), [r for r in results if r[0] != 200][:5]
    # Answers came from the new document once the switch was made.
    assert any("info-sharing" in docs for _, docs in results), {d for _, d in results}
    assert len(results) > 20
