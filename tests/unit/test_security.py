"""Access keys, CORS, rate limit and body limit, in process (fake embedder)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from briefing_qa.api import create_app
from briefing_qa.ingest import ingest
from briefing_qa.security import TokenBuckets, parse_keys
from briefing_qa.service import Engine
from briefing_qa.settings import Settings
from tests.fakes import FakeEmbedder

ORIGIN = "https://intranet.example.org"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    (src / "guide.md").write_text("# Neglect\n\nNeglect is the persistent failure to meet a child's basic needs.\n\n"
                                  "# Poverty\n\nPoverty is not neglect, but it can make neglect more likely.\n")
    settings = Settings.from_env(env={}, index=tmp_path_factory.mktemp("idx") / "index", model="fake-bow")
    assert ingest([src], settings, FakeEmbedder).ok
    return settings


def client(index, **overrides) -> TestClient:
    settings = index.with_(**overrides)
    return TestClient(create_app(settings, Engine(settings, FakeEmbedder())))


ASK = {"question": "what is neglect?"}


def is_problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_parse_keys_roles():
    keys = parse_keys(("k1", "k2:admin", "k3:read", "a:b:admin", " "))
    assert {s: k.role for s, k in keys.items()} == {"k1": "read", "k2": "admin", "k3": "read", "a:b": "admin"}
    assert all(k.id.startswith("key-") and "k1" not in k.id for k in keys.values())


def test_without_keys_everything_is_open(index):
    with client(index) as c:
        assert c.post("/v1/ask", json=ASK).status_code == 200
        assert c.get("/metrics").status_code == 200


def test_keys_required_on_v1_with_read_and_admin_roles(index):
    with client(index, api_keys=("reader", "boss:admin")) as c:
        body = is_problem(c.post("/v1/ask", json=ASK), 401)
        assert "API key is required" in body["detail"]
        r = c.post("/v1/ask", json=ASK, headers={"Authorization": "Bearer wrong"})
        assert "not valid" in is_problem(r, 401)["detail"]
        assert r.headers["www-authenticate"].startswith("Bearer")
        is_problem(c.get("/v1/documents", headers={"X-API-Key": "wrong"}), 401)
        assert c.post("/v1/ask", json=ASK, headers={"Authorization": "Bearer reader"}).status_code == 200
        assert c.get("/v1/search?q=neglect", headers={"X-API-Key": "reader"}).status_code == 200
        assert c.post("/v1/ask", json=ASK, headers={"X-API-Key": "boss"}).status_code == 200
        # operations: admin only
        is_problem(c.get("/metrics", headers={"X-API-Key": "reader"}), 403)
        is_problem(c.post("/v1/admin/reload", headers={"X-API-Key": "reader"}), 403)
        is_problem(c.get("/metrics"), 401)
        assert c.get("/metrics", headers={"X-API-Key": "boss"}).status_code == 200
        assert c.post("/v1/admin/reload", headers={"X-API-Key": "boss"}).json()["version"].startswith("v")
        # probes and the page stay open for load balancers and browsers
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        assert c.get("/openapi.json").status_code == 200


def test_cors_allow_list_and_headers_on_errors(index):
    with client(index, api_keys=("reader",), cors_origins=(ORIGIN,)) as c:
        pre = c.options("/v1/ask", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": "authorization,content-type"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == ORIGIN
        assert "authorization" in pre.headers["access-control-allow-headers"].lower()
        ok = c.post("/v1/ask", json=ASK, headers={"Origin": ORIGIN, "X-API-Key": "reader"})
        assert ok.headers["access-control-allow-origin"] == ORIGIN
        for r in (c.post("/v1/ask", json=ASK, headers={"Origin": ORIGIN}),  # 401
                  c.post("/v1/ask", json={"question": ""}, headers={"Origin": ORIGIN, "X-API-Key": "reader"}),  # 422
                  c.get("/v1/documents/nope", headers={"Origin": ORIGIN, "X-API-Key": "reader"})):  # 404
            assert r.status_code >= 400 and r.headers["access-control-allow-origin"] == ORIGIN
        other = c.post("/v1/ask", json=ASK, headers={"Origin": "https://evil.example", "X-API-Key": "reader"})
        assert "access-control-allow-origin" not in other.headers
        bad_pre = c.options("/v1/ask", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert bad_pre.status_code == 400


def test_rate_limit_answers_429_with_retry_after(index):
    with client(index, rate_limit="3/minute", api_keys=("a", "b"), cors_origins=(ORIGIN,)) as c:
        codes = [c.get("/v1/search?q=neglect", headers={"X-API-Key": "a"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/v1/search?q=neglect", headers={"X-API-Key": "a", "Origin": ORIGIN})
        body = is_problem(r, 429)
        assert 1 <= int(r.headers["retry-after"]) <= 20 and body["retry_after"] == int(r.headers["retry-after"])
        assert r.headers["access-control-allow-origin"] == ORIGIN
        # another client has its own bucket; probes are never limited
        assert c.get("/v1/search?q=neglect", headers={"X-API-Key": "b"}).status_code == 200
        assert all(c.get("/healthz").status_code == 200 for _ in range(5))


def test_token_bucket_refills():
    b = TokenBuckets(2, 1.0)
    assert b.take("x", now=0.0) == 0 and b.take("x", now=0.0) == 0
    assert b.take("x", now=0.0) == pytest.approx(0.5)
    assert b.take("x", now=0.6) == 0
    small = TokenBuckets(1, 60.0, max_clients=3)
    for i in range(10):
        small.take(f"c{i}", now=0.0)
    assert len(small._buckets) == 3


def test_body_limit_413_even_without_content_length(index):
    with client(index, max_body_bytes=2048) as c:
        big = {"question": "x" * 3000}
        body = is_problem(c.post("/v1/ask", json=big), 413)
        assert body["limit"] == 2048

        def chunks():  # chunked transfer: no Content-Length to trust
            yield b'{"question": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        is_problem(c.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"}), 413)
        # a lying Content-Length cannot smuggle a bigger body past the limit
        is_problem(c.post("/v1/ask", content=chunks(), headers={"content-type": "application/json",
                                                                "content-length": "10"}), 413)
        assert c.post("/v1/ask", json={"question": "neglect " * 100}).status_code == 200


def test_malformed_bodies_are_422_problems(index):
    with client(index) as c:
        for raw in (b"{not json", b"[]", b'{"question": 5}', b'{"question": "ok", "extra": 1}', b""):
            is_problem(c.post("/v1/ask", content=raw, headers={"content-type": "application/json"}), 422)


def test_unexpected_error_is_a_problem_with_cors_and_no_question_in_the_log(index, caplog):
    settings = index.with_(cors_origins=(ORIGIN,))
    engine = Engine(settings, FakeEmbedder())
    app = create_app(settings, engine)
    secret = "Jayden Smith was hurt at home"

    class Boom(Exception):
        pass

    with TestClient(app, raise_server_exceptions=False) as c:
        def broken(*a, **k):
            raise Boom(secret)

        engine.retriever().ask = broken
        with caplog.at_level(logging.INFO, logger="briefing_qa"):
            r = c.post("/v1/ask", json={"question": secret}, headers={"Origin": ORIGIN, "X-Request-ID": "req-123"})
    body = is_problem(r, 500)
    assert body["request_id"] == "req-123" and r.headers["x-request-id"] == "req-123"
    assert r.headers["access-control-allow-origin"] == ORIGIN
    from briefing_qa.observability import JsonFormatter

    text = "\n".join(JsonFormatter().format(rec) for rec in caplog.records)
    assert "Boom" in text and "req-123" in text
    assert "Jayden" not in text and "hurt" not in text


def test_source_files_are_sandboxed_and_only_pdfs_inline(tmp_path):
    """An ingested HTML page must not run on the service's origin (where the
    quote finder keeps an API key in sessionStorage): every source file is
    sent sandboxed and not to be sniffed, and all but PDFs as attachments."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "page.html").write_text("<html><head><title>Page</title></head><body><h1>Neglect</h1>"
                                   "<p>Neglect is the persistent failure to meet a child's basic needs.</p>"
                                   "<script>fetch('/steal?k=' + sessionStorage.getItem('briefing-qa-key'))</script>"
                                   "</body></html>")
    (src / "notes.txt").write_text("Notes\n\nPoverty is not neglect, but it can make neglect more likely.\n")
    settings = Settings.from_env(env={}, index=tmp_path / "index", model="fake-bow")
    assert ingest([src], settings, FakeEmbedder).ok
    with client(settings) as c:
        for doc_id in ("page", "notes"):
            r = c.get(f"/v1/documents/{doc_id}/file")
            assert r.status_code == 200
            assert r.headers["content-security-policy"] == "sandbox"
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["content-disposition"].startswith("attachment;")
