"""The HTTP contract, against a real `briefing-qa serve` on the real corpus."""

from __future__ import annotations

import httpx
import pytest

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def api(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


def _problem(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    return body


def test_ask_returns_cited_verbatim_passages(api):
    resp = api.post("/v1/ask", json={"question": "What is contextual safeguarding?", "top_k": 3})
    assert resp.status_code == 200
    body = resp.json()
    assert body["question"] == "What is contextual safeguarding?" and body["abstained"] is False
    assert 1 <= len(body["passages"]) <= 3
    texts = {}
    for rank, p in enumerate(body["passages"], 1):
        assert p["rank"] == rank
        c = p["citation"]
        doc_id = c["document_id"]
        if doc_id not in texts:
            texts[doc_id] = api.get(f"/v1/documents/{doc_id}/text").json()["text"]
        start, end = p["source_offsets"]
        assert texts[doc_id][start:end] == p["quote"]
        assert all(0 <= s < e <= len(p["quote"]) for s, e in p["highlights"])
        assert c["section_path"] and c["reference"] and c["document_title"]
    first = body["passages"][0]
    assert "Contextual Safeguarding is an approach" in first["quote"]
    assert first["citation"]["section_path"][0] == "Vulnerable adolescents"
    assert first["citation"]["url"].startswith("https://rip-micro4-live.digitalconnect.co.uk/safeguarding-partnerships/#lscb_vulnerable")


def test_ask_limited_to_a_document_that_is_not_there_is_a_404_not_an_abstention(api):
    for ids in (["../../etc/passwd"], ["keeping-children-safe-in-education-2025", "kcsie-2024"]):
        body = _problem(api.post("/v1/ask", json={"question": "dsl", "document_ids": ids}), 404)
        assert "no document with id" in body["detail"] and ids[-1] in body["detail"]


def test_ask_limited_to_documents(api):
    doc = "keeping-children-safe-in-education-2025"
    body = api.post("/v1/ask", json={"question": "What does a designated safeguarding lead do?", "document_ids": [doc]}).json()
    assert body["passages"] and {p["citation"]["document_id"] for p in body["passages"]} == {doc}
    pdf = body["passages"][0]["citation"]
    assert pdf["pages"] and pdf["url"].endswith(f"/v1/documents/{doc}/file#page={pdf['pages'][0]}")
    # The deep link opens the very PDF that was indexed.
    resp = api.get(pdf["url"].split("#")[0].replace(str(api.base_url).rstrip("/"), ""))
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf" and resp.content[:5] == b"%PDF-"
    # Inline, so #page=N works, but sandboxed on this origin and never sniffed.
    assert resp.headers["content-disposition"].startswith("inline;")
    assert resp.headers["content-security-policy"] == "sandbox" and resp.headers["x-content-type-options"] == "nosniff"


def test_forged_host_header_never_reaches_citation_links(api, live_server):
    """Without BRIEFING_QA_PUBLIC_URL, a Host header that is neither loopback
    nor in BRIEFING_QA_ALLOWED_HOSTS gives relative links, never its own name."""
    doc = "keeping-children-safe-in-education-2025"
    forged = {"Host": "evil.example"}
    ask = api.post("/v1/ask", json={"question": "What does a designated safeguarding lead do?", "document_ids": [doc]},
                   headers=forged).json()
    search = api.get("/v1/search", params={"q": "designated safeguarding lead", "document_id": doc}, headers=forged).json()
    verify = api.post("/v1/verify", json={"quote": "The designated safeguarding lead should take lead responsibility"},
                      headers=forged).json()
    citations = [p["citation"] for p in ask["passages"] + search["results"]]
    citations += [m["citation"] for m in verify["matches"]] + ([verify["closest"]["citation"]] if verify["closest"] else [])
    assert len(citations) > 5
    for c in citations:
        assert "evil" not in c["url"] and c["url"].startswith(f"/v1/documents/{doc}/file#page="), c["url"]
    # Loopback names are trusted: the links are absolute, on the name used.
    port = live_server.url.rsplit(":", 1)[1]
    local = api.post("/v1/ask", json={"question": "What does a designated safeguarding lead do?", "document_ids": [doc]},
                     headers={"Host": f"localhost:{port}"}).json()
    assert local["passages"][0]["citation"]["url"].startswith(f"http://localhost:{port}/v1/documents/{doc}/file#page=")


def test_out_of_scope_abstains(api):
    body = api.post("/v1/ask", json={"question": "What is the capital of France?"}).json()
    assert body["abstained"] is True


def test_phrase_search_every_result_contains_the_phrase(api):
    body = api.get("/v1/search", params={"q": '"lead professional"', "limit": 50}).json()
    assert body["total"] >= 2
    for r in body["results"]:
        assert "lead professional" in r["quote"].lower()
        s, e = r["highlights"][0]
        assert r["quote"][s:e].lower() == "lead professional"


def test_search_filters_and_pagination(api):
    kind = api.get("/v1/search", params={"kind": "key_message", "limit": 100}).json()
    assert kind["total"] >= 5 and all(r["kind"] == "key_message" for r in kind["results"])
    doc = "triennial-analysis-briefing-local-safeguarding-partnerships"
    sec = api.get("/v1/search", params={"q": "neglect", "document_id": doc, "section": "Neglect", "limit": 100}).json()
    assert sec["total"] >= 1
    # A section filter means a section of that title at any level, and those inside it.
    assert all(r["citation"]["document_id"] == doc and "Neglect" in r["citation"]["section_path"] for r in sec["results"])
    sub = api.get("/v1/search", params={"document_id": doc, "section": "Neglect › Impact of poverty", "limit": 100}).json()
    assert 0 < sub["total"] < sec["total"] + 5
    assert all(r["citation"]["section_path"][:2] == ["Neglect", "Impact of poverty"] for r in sub["results"])
    # Written with ">" and in another case, it is the same filter.
    same = api.get("/v1/search", params={"document_id": doc, "section": "neglect > IMPACT OF POVERTY", "limit": 100}).json()
    assert [r["id"] for r in same["results"]] == [r["id"] for r in sub["results"]]


def test_section_filter_matches_inner_titles(api):
    kcsie = "keeping-children-safe-in-education-2025"
    top = api.get("/v1/search", params={"document_id": kcsie, "section": "Part one", "limit": 100}).json()
    assert top["total"] > 5 and all("Part one" in r["citation"]["section_path"][0] for r in top["results"])
    inner = "What school and college staff need to know"
    got = api.get("/v1/search", params={"q": "safeguarding", "section": inner, "limit": 100}).json()
    assert got["total"] >= 1 and all(inner in r["citation"]["section_path"] for r in got["results"])
    assert api.get("/v1/search", params={"section": "No such section anywhere"}).json()["total"] == 0


def test_first_passages_do_not_depend_on_top_k(api):
    q = "What should I do if a child is at risk?"
    answers = [api.post("/v1/ask", json={"question": q, "top_k": k}).json()["passages"] for k in (1, 3, 5, 10)]
    first = answers[-1]
    for got in answers:
        assert [(p["id"], p["quote"], [c["reference"] for c in p["also_in"]]) for p in got] == \
            [(p["id"], p["quote"], [c["reference"] for c in p["also_in"]]) for p in first[: len(got)]]


def test_capitals_rank_exactly_as_lower_case(api):
    for q in ["WHAT SHOULD I DO IF A CHILD IS IN DANGER", "WHO ARE THE THREE SAFEGUARDING PARTNERS?"]:
        loud = api.post("/v1/ask", json={"question": q, "top_k": 10}).json()
        calm = api.post("/v1/ask", json={"question": q.lower(), "top_k": 10}).json()
        assert [p["id"] for p in loud["passages"]] == [p["id"] for p in calm["passages"]]
        assert loud["abstained"] == calm["abstained"] is False


def test_score_is_a_comparable_relevance(api):
    good = api.post("/v1/ask", json={"question": "What proportion of serious case reviews involved neglect?"}).json()
    off = api.post("/v1/ask", json={"question": "How do I bake sourdough bread?"}).json()
    assert off["abstained"] and not good["abstained"]
    assert all(0.0 <= p["score"] <= 1.0 for p in good["passages"] + off["passages"])
    # The same measure across questions: the answered question's best passage is closer than any off-topic one.
    assert max(p["score"] for p in good["passages"]) > max(p["score"] for p in off["passages"])
    assert max(p["score"] for p in off["passages"]) < 0.25 <= max(p["score"] for p in good["passages"])
    page1 = api.get("/v1/search", params={"q": "safeguarding", "limit": 5}).json()
    page2 = api.get("/v1/search", params={"q": "safeguarding", "limit": 5, "offset": 5}).json()
    assert page1["total"] == page2["total"] > 10
    assert not {r["id"] for r in page1["results"]} & {r["id"] for r in page2["results"]}
    assert [r["rank"] for r in page2["results"]] == [6, 7, 8, 9, 10]


def test_documents(api):
    docs = api.get("/v1/documents").json()["documents"]
    assert len(docs) == 6
    for d in docs:
        assert {"id", "title", "publisher", "year", "url", "pages", "sections", "chunks", "sha256"} <= set(d)
        assert d["chunks"] > 0 and len(d["sha256"]) == 64
    one = api.get("/v1/documents/childrens-social-care-national-framework-dec-2023").json()
    assert one["pages"] == 66 and one["section_tree"]
    titles = [n["title"] for n in one["section_tree"]]
    assert "National Framework: Key Concepts" in titles


@pytest.mark.parametrize("body", [
    {"question": ""}, {"question": "   "}, {"question": "x" * 2001}, {"question": "ok", "top_k": 0},
    {"question": "ok", "top_k": 21}, {"question": "ok", "extra": 1}, {}, {"question": 5},
])
def test_bad_ask_requests_are_422_problems(api, body):
    _problem(api.post("/v1/ask", json=body), 422)


def test_malformed_json_is_422(api):
    _problem(api.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"}), 422)


@pytest.mark.parametrize("doc_id", ["nope", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "manifest.json"])
def test_unknown_documents_are_404_problems(api, doc_id):
    _problem(api.get(f"/v1/documents/{doc_id}"), 404)
    _problem(api.get(f"/v1/documents/{doc_id}/text"), 404)


def test_unknown_route_is_a_problem_too(api):
    _problem(api.get("/v1/nothing-here"), 404)


def test_openapi_and_health(api):
    assert api.get("/healthz").json()["status"] == "ok"
    spec = api.get("/openapi.json").json()
    assert {"/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{doc_id}", "/v1/documents/{doc_id}/text"} <= set(spec["paths"])
    docs = api.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()  # works with no network
    assert api.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_follow_up_with_context(api):
    first = "What are the signs of neglect?"
    alone = api.post("/v1/ask", json={"question": "what about babies?"}).json()
    assert alone["context_used"] == []
    follow = api.post("/v1/ask", json={"question": "what about babies?", "context": [first]}).json()
    assert follow["context_used"] == [first]
    # Read with the earlier question, the answer is about neglect.
    assert any("neglect" in p["quote"].lower() for p in follow["passages"][:3])
    # A question that stands alone is answered as if alone.
    q = "Who are the three safeguarding partners under the new arrangements?"
    plain = api.post("/v1/ask", json={"question": q}).json()
    with_ctx = api.post("/v1/ask", json={"question": q, "context": [first]}).json()
    assert with_ctx["context_used"] == [] and [p["id"] for p in with_ctx["passages"]] == [p["id"] for p in plain["passages"]]


@pytest.mark.parametrize("context", [["a"] * 6, [""], ["   "], ["x" * 2001], "not a list", [1, 2]])
def test_bad_context_is_422(api, context):
    _problem(api.post("/v1/ask", json={"question": "what about babies?", "context": context}), 422)


def test_mistyped_words_are_read_as_the_documents_words(api):
    """Typed in a hurry: the answer is the one to the question spelled right,
    and the response says which words were read as what."""
    typed = api.post("/v1/ask", json={"question": "signs of negelct in chlidren under one"}).json()
    right = api.post("/v1/ask", json={"question": "signs of neglect in children under one"}).json()
    assert typed["corrections"] == [{"typed": "negelct", "read_as": "neglect"}, {"typed": "chlidren", "read_as": "children"}]
    assert right["corrections"] == []
    assert [p["id"] for p in typed["passages"]] == [p["id"] for p in right["passages"]]
    # The quote finder searches as typed (no passage holds "negelct") and
    # offers the documents' spelling, only when that finds something.
    found = api.get("/v1/search", params={"q": "negelct"}).json()
    assert found["total"] == 0 and found["did_you_mean"] == "neglect"
    assert api.get("/v1/search", params={"q": "neglect"}).json()["did_you_mean"] is None
    assert api.get("/v1/search", params={"q": "zzqxv"}).json()["did_you_mean"] is None
    spec = api.get("/openapi.json").json()["components"]["schemas"]
    assert {"typed", "read_as"} <= set(spec["CorrectionOut"]["properties"])
