"""Access logs, query logging with redaction, metrics and probes (fake embedder)."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from briefing_qa.api import create_app
from briefing_qa.ingest import ingest
from briefing_qa.observability import JsonFormatter, redact
from briefing_qa.service import Engine
from briefing_qa.settings import Settings
from tests.fakes import FakeEmbedder

QUESTION = ("My client Jayden Okafor (DOB 14/03/2016) lives at 27 Acacia Road, Leeds LS6 2AB; his mum Sarah "
            "is on 07700 900123 or sarah.okafor@example.com. Is this neglect?")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    (src / "guide.md").write_text("# Neglect\n\nNeglect is the persistent failure to meet a child's basic needs, "
                                  "such as food, clothing and shelter. Leeds is a city.\n")
    settings = Settings.from_env(env={}, index=tmp_path_factory.mktemp("idx") / "index", model="fake-bow")
    assert ingest([src], settings, FakeEmbedder).ok
    return settings


def logs(caplog) -> list[dict]:
    f = JsonFormatter()
    return [json.loads(f.format(r)) for r in caplog.records]


def test_access_log_is_json_without_question_text(index, caplog):
    settings = index.with_()
    app = create_app(settings, Engine(settings, FakeEmbedder()))
    with TestClient(app) as c, caplog.at_level(logging.INFO, logger="briefing_qa"):
        r = c.post("/v1/ask", json={"question": QUESTION}, headers={"X-Request-ID": "abc-1"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "abc-1"
        quote = r.json()["passages"][0]["quote"]
        r2 = c.get("/v1/search", params={"q": "Jayden neglect"}, headers={"X-Request-ID": "bad id with spaces"})
        c.get("/v1/documents/..%2F..%2Fetc%2Fpasswd")
    records = logs(caplog)
    access = [x for x in records if x["logger"] == "briefing_qa.access"]
    ask = next(x for x in access if x["request_id"] == "abc-1")
    assert ask["route"] == "/v1/ask" and ask["status"] == 200 and ask["method"] == "POST" and ask["latency_ms"] > 0
    made = r2.headers["x-request-id"]
    assert len(made) == 32 and any(x["request_id"] == made and x["route"] == "/v1/search" for x in access)
    assert any(x["route"] in ("/v1/documents/{doc_id}", "unmatched") and x["status"] == 404 for x in access)
    everything = json.dumps(records)
    for secret in ("Jayden", "Okafor", "Acacia", "07700", "example.com", quote[:30], "passwd"):
        assert secret not in everything, secret


def test_query_logging_opt_in_is_redacted(index, caplog):
    settings = index.with_(log_queries=True)
    engine = Engine(settings, FakeEmbedder())
    with TestClient(create_app(settings, engine)) as c, caplog.at_level(logging.INFO, logger="briefing_qa"):
        c.post("/v1/ask", json={"question": QUESTION}, headers={"X-Request-ID": "q-1"})
        c.get("/v1/search", params={"q": "Call Mrs Brown on 0113 496 0000"}, headers={"X-Request-ID": "q-2"})
    q = {x["request_id"]: x["question"] for x in logs(caplog) if x["logger"] == "briefing_qa.queries"}
    assert set(q) == {"q-1", "q-2"}
    for secret in ("Jayden", "Okafor", "14/03/2016", "27 Acacia", "LS6 2AB", "Sarah", "07700", "sarah.okafor", "Brown", "0113"):
        assert secret not in q["q-1"] + q["q-2"], secret
    assert "neglect" in q["q-1"] and "Leeds" in q["q-1"]  # words of the documents stay readable
    assert "[NAME]" in q["q-1"] and "[DATE]" in q["q-1"] and "[PHONE]" in q["q-1"] and "[EMAIL]" in q["q-1"]


@pytest.mark.parametrize("text, gone", [
    ("a girl called amy, born 3rd March 2015", ["amy", "3rd March 2015"]),
    ("DOB: 2015-03-12, tel +44 20 7946 0958", ["2015-03-12", "7946"]),
    ("Dr Patel at Flat 4, 12 High Street, M1 1AE", ["Patel", "Flat 4", "12 High Street", "M1 1AE"]),
    ("what did Ofsted say to Mohammed about March 12, 2020?", ["Mohammed", "March 12, 2020"]),
])
def test_redact_cases(text, gone):
    out = redact(text, frozenset({"ofsted", "what", "say", "about", "high", "street"}))
    for g in gone:
        assert g not in out, (g, out)


def test_redact_keeps_guidance_words():
    vocab = frozenset({"keeping", "children", "safe", "in", "education", "designated", "safeguarding", "lead"})
    text = "What does Keeping Children Safe in Education say about the Designated Safeguarding Lead?"
    assert redact(text, vocab) == text


def test_metrics_and_probes(index):
    settings = index.with_()
    engine = Engine(settings, FakeEmbedder())
    with TestClient(create_app(settings, engine)) as c:
        assert c.get("/readyz").json()["status"] == "ready"
        c.post("/v1/ask", json={"question": "neglect"})
        c.post("/v1/ask", json={"question": ""})
        text = c.get("/metrics").text
    version = engine.version
    assert 'briefing_qa_requests_total{method="POST",route="/v1/ask",status="200"} 1.0' in text
    assert 'briefing_qa_requests_total{method="POST",route="/v1/ask",status="422"} 1.0' in text
    assert 'briefing_qa_request_duration_seconds_bucket{le="0.1",route="/v1/ask",status="200"}' in text
    assert f'briefing_qa_index_info{{model="fake-bow",version="{version}"}} 1.0' in text
    assert "briefing_qa_index_documents 1.0" in text and "briefing_qa_index_chunks " in text
    assert "briefing_qa_ready 1.0" in text


def test_readyz_503_without_index(tmp_path):
    settings = Settings.from_env(env={}, index=tmp_path / "none", model="fake-bow")
    with TestClient(create_app(settings, Engine(settings, FakeEmbedder()))) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
        assert "briefing_qa_ready 0.0" in c.get("/metrics").text


def test_503_body_has_no_paths_or_exception_text_but_the_log_has_the_reason(tmp_path, caplog):
    """/readyz answers anyone: the body is one fixed sentence; the reason
    (here a damaged manifest, naming its folder and the JSON error) goes to the log."""
    from briefing_qa import store

    settings = Settings.from_env(env={}, index=tmp_path / "secret-folder" / "index", model="fake-bow")
    root = settings.index
    (root / "v1").mkdir(parents=True)
    (root / "v1" / "manifest.json").write_text("{not json")
    (root / store.CURRENT).write_text("v1\n")
    with TestClient(create_app(settings, Engine(settings, FakeEmbedder()))) as c, \
            caplog.at_level(logging.INFO, logger="briefing_qa"):
        answers = [c.get("/readyz"), c.post("/v1/ask", json={"question": "neglect"}), c.get("/v1/search", params={"q": "x"})]
    for r in answers:
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["detail"] == "The document index is not available yet; the reason is in the service's log."
        for leak in ("secret-folder", str(tmp_path), "manifest.json", "Expecting"):  # folder, file, JSON error
            assert leak not in r.text, leak
        assert "/" not in body["detail"] + body["title"]
    logged = json.dumps(logs(caplog))
    assert "secret-folder" in logged and "manifest.json" in logged  # the operator still sees why


def test_cli_error_line_keeps_the_full_reason(tmp_path):
    from briefing_qa.errors import IndexIncompatible, IndexUnavailable

    exc = IndexUnavailable(f"no index at {tmp_path}: build one with `briefing-qa ingest`")
    assert exc.detail.startswith("no index at") and str(tmp_path) not in json.dumps(exc.problem())
    assert IndexIncompatible("built with 'x'").problem()["title"] == "Index incompatible"
