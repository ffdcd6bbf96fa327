"""POST /v1/verify and GET /v1/widget-config against a real server on the
real corpus and model."""

from __future__ import annotations

import re

import httpx
import pytest

PROBLEM = "application/problem+json"
BRIEFING = "triennial-analysis-briefing-local-safeguarding-partnerships"
KCSIE = "keeping-children-safe-in-education-2025"


@pytest.fixture(scope="module")
def api(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def text(api):
    cache: dict[str, str] = {}

    def get(doc_id: str) -> str:
        if doc_id not in cache:
            cache[doc_id] = api.get(f"/v1/documents/{doc_id}/text").json()["text"]
        return cache[doc_id]

    return get


def _verify(api, quote: str) -> dict:
    resp = api.post("/v1/verify", json={"quote": quote})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_a_real_quote_is_found_with_document_section_and_offsets(api, text):
    quote = "Poverty leads to additional complexity, stress and anxiety in families"
    body = _verify(api, quote)
    assert body["found"] is True and body["closest"] is None
    [m] = body["matches"]
    start, end = m["source_offsets"]
    assert text(BRIEFING)[start:end] == m["text"] == quote and m["identical"] is True
    c = m["citation"]
    assert c["document_id"] == BRIEFING and c["section_path"] == ["Neglect", "Impact of poverty"]
    assert c["anchor"] == "lscb_neglect" and c["pages"] is None
    assert c["reference"].startswith("Research in Practice (n.d.) Triennial Analysis")


def test_a_pdf_quote_has_its_page(api, text):
    hit = api.get("/v1/search", params={"q": '"professional curiosity"', "document_id": KCSIE, "limit": 1}).json()["results"][0]
    sentence = next(s for s in hit["quote"].split(". ") if "professional curiosity" in s)
    body = _verify(api, sentence)
    assert body["found"]
    m = next(m for m in body["matches"] if m["citation"]["document_id"] == KCSIE)
    s, e = m["source_offsets"]
    assert text(KCSIE)[s:e] == m["text"]
    first, last = m["citation"]["pages"]
    assert hit["citation"]["pages"][0] <= first <= last <= hit["citation"]["pages"][1]
    assert f"#page={first}" in m["citation"]["url"]


def test_quote_marks_and_line_breaks_from_a_word_processor_are_folded(api, text):
    source = text(BRIEFING)
    i = source.index("children’s social care")
    original = source[i - 60 : i + 80].split(" ", 1)[1].rsplit(" ", 1)[0]
    pasted = original.replace("’", "'").replace(" ", "\n", 2)
    body = _verify(api, pasted)
    assert body["found"]
    m = body["matches"][0]
    assert m["text"] == original and m["identical"] is False
    assert source[m["source_offsets"][0] : m["source_offsets"][1]] == original


def test_an_altered_quote_gets_the_closest_passage_with_differences(api, text):
    body = _verify(api, "Poverty leads to extra complexity, stress and worry in families, which can heighten the risk of neglect or abuse.")
    assert body["found"] is False and body["matches"] == []
    c = body["closest"]
    s, e = c["source_offsets"]
    assert text(BRIEFING)[s:e] == c["text"]
    assert c["text"] == "Poverty leads to additional complexity, stress and anxiety in families, which can in turn heighten the risk of neglect or abuse."
    assert c["citation"]["section_path"] == ["Neglect", "Impact of poverty"]
    changes = [(d["op"], d["quote"], d["source"]) for d in c["differences"] if d["op"] != "equal"]
    assert changes == [("changed", "extra", "additional"), ("changed", "worry", "anxiety"), ("deleted", "", "in turn")]
    assert 0.6 < c["similarity"] < 1


def test_closest_passage_goes_on_to_the_quotes_last_words(api, text):
    """A slightly misquoted sentence whose last words are right ("…if a child
    is at risk"): the closest passage reaches them, not "…if a child" with
    "is at risk" marked as inserted; likewise its first word."""
    doc = "info-sharing-advice-content-may-2024"
    source = ("You do not need consent to share personal information about a child and/or members of their family "
              "if a child is at risk")
    for quote, rest in (("You do not need consent to share information about a child if a child is at risk", ""),
                        ("You do not need consent to share information about a child if a child is at risk or there is a "
                         "perceived risk of harm", " or there is a perceived risk of harm")):
        c = _verify(api, quote)["closest"]
        s, e = c["source_offsets"]
        assert c["citation"]["document_id"] == doc and text(doc)[s:e] == c["text"]
        assert c["text"] == source + rest, c["text"]
        ops = [(d["op"], d["quote"], d["source"]) for d in c["differences"] if d["op"] != "equal"]
        assert ops == [("deleted", "", "personal"), ("deleted", "", "and/or members of their family")], ops


def test_text_from_nowhere_has_no_closest_passage(api):
    body = _verify(api, "The quick brown fox jumps over the lazy dog while the band plays on.")
    assert body == {"quote": body["quote"], "found": False, "matches": [], "closest": None}


@pytest.mark.parametrize("payload", [{"quote": ""}, {"quote": "  \n\t"}, {"quote": "x" * 5001}, {}, {"quote": "a", "top_k": 3},
                                     {"quote": 42}])
def test_bad_requests_are_problem_json(api, payload):
    resp = api.post("/v1/verify", json=payload)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert {"type", "title", "status", "detail"} <= set(resp.json())


def test_widget_config_defaults_to_the_widgets_own(api):
    from briefing_qa.analysis import FOLD_MAP

    assert api.get("/v1/widget-config").json() == {"safety_notice": None, "danger_phrases": None, "fold": FOLD_MAP}


def test_widget_and_page_are_served(api):
    page = api.get("/")
    assert page.status_code == 200 and "<briefing-qa-chat" in page.text
    js = api.get("/widget.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "customElements.define(\"briefing-qa-chat\"" in js.text
    assert not re.search(r"(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write", js.text)  # text only as text nodes
    for path in ("/static/app.js", "/static/app.css", "/static/embed-demo.html"):
        assert api.get(path).status_code == 200
