"""Abuse against a real server: bad keys, path traversal, oversized and
malformed bodies, and schemathesis fuzzing the OpenAPI schema."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer

READ, ADMIN = "read-key-123", "admin-key-456"


@pytest.fixture(scope="module")
def server(briefing_index, briefing_src, tmp_path_factory):
    # Copies of the index and the library: the fuzzer reaches the admin routes, which may change both.
    root = tmp_path_factory.mktemp("abuse")
    shutil.copytree(briefing_src, root / "corpus")
    shutil.copytree(briefing_index, root / "index")
    s = LiveServer(root / "index", env={"BRIEFING_QA_API_KEYS": f"{READ},{ADMIN}:admin",
                                        "BRIEFING_QA_CORS_ORIGINS": "https://intranet.example"},
                   args=("--corpus", str(root / "corpus")))
    s.wait_ready(path="/readyz")
    yield s
    s.stop()


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_invalid_key_is_401(server):
    for headers in ({}, {"X-API-Key": "nope"}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic cmVhZDp4"},
                    {"Authorization": f"Bearer {READ}x"}):
        problem(httpx.post(server.url + "/v1/ask", json={"question": "neglect"}, headers=headers), 401)
    assert httpx.post(server.url + "/v1/ask", json={"question": "neglect"}, headers={"X-API-Key": READ}).status_code == 200
    problem(httpx.get(server.url + "/metrics", headers={"X-API-Key": READ}), 403)
    assert httpx.get(server.url + "/metrics", headers={"X-API-Key": ADMIN}).status_code == 200


@pytest.mark.parametrize("doc_id", [
    "..%2F..%2Fetc%2Fpasswd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "....//....//etc/passwd",
    "..%5C..%5Cwindows%5Cwin.ini", "%252e%252e%252fetc%252fpasswd", "..", "%2e%2e", ".%00./etc/passwd",
    "/etc/passwd", "%2Fetc%2Fpasswd",
])
@pytest.mark.parametrize("suffix", ["", "/text", "/file"])
def test_path_traversal_ids_are_404(server, doc_id, suffix):
    raw = f"/v1/documents/{doc_id}{suffix}"
    # Send the path exactly as written: no client-side normalisation of "..".
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {raw} HTTP/1.1\r\nHost: x\r\nX-API-Key: {READ}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert status in (404, 400), (raw, head)
    assert b"root:" not in body and b"[fonts]" not in body
    if status == 404:
        assert b"application/problem+json" in head.lower(), head


def test_oversized_and_malformed_bodies(server):
    h = {"X-API-Key": READ, "Content-Type": "application/json"}
    body = problem(httpx.post(server.url + "/v1/ask", content=json.dumps({"question": "x" * 50_000}), headers=h), 413)
    assert body["limit"] == 16384
    # no Content-Length at all: chunked, and still stopped at the limit
    problem(httpx.post(server.url + "/v1/ask", content=iter([b'{"question": "', b"y" * 40_000, b'"}']), headers=h), 413)
    for raw in (b"{", b"null", b'{"question": ""}', b'{"question": "   "}', b'{"question": "a", "top_k": 0}',
                b'{"question": "a", "top_k": 21}', b'{"question": "a", "bogus": 1}', "\udcff".encode("utf-8", "surrogatepass"),
                b'{"question": "' + b"z" * 2001 + b'"}'):
        problem(httpx.post(server.url + "/v1/ask", content=raw, headers=h), 422)
    problem(httpx.get(server.url + "/v1/search", params={"q": "a", "limit": "many"}, headers=h), 422)
    problem(httpx.post(server.url + "/v1/verify", content=b"[1,2]", headers=h), 422)


def test_schemathesis_finds_no_server_error(server, tmp_path):
    exe = Path(sys.executable).parent / "schemathesis"
    done = subprocess.run(
        [str(exe), "run", server.url + "/openapi.json", "--checks", "not_a_server_error", "--max-examples", "30",
         "--seed", "5", "--header", f"X-API-Key: {ADMIN}", "--request-timeout", "30", "--no-color",
         "--exclude-path", "/v1/admin/reload"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    m = re.search(r"(\d+) generated, (\d+) passed", out)
    assert m and int(m.group(1)) == int(m.group(2)) > 100, out[-3000:]
    # the server is still up after the fuzzing, and logged no unhandled error
    assert server.proc.poll() is None and httpx.get(server.url + "/healthz").status_code == 200
    assert '"unhandled error"' not in server.output()
