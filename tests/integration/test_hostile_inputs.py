"""Hostile input: whatever a user types is data, never syntax. Every input
below goes to POST /v1/ask, POST /v1/verify and GET /v1/search on a real
server over the real corpus; every answer must be 200 (JSON) or a 4xx
application/problem+json, never a 5xx. Capitals are no different from lower
case: an upper-case question ranks exactly as its lower-case form.

The inputs: capitals, every character and keyword of tantivy's query
language (AND OR NOT IN TO, + - ^ : ( ) [ ] { } " ' ~ * \\ / ! && ||, field:value,
ranges, boosts, unbalanced quotes and brackets), unicode (accents, scripts,
right-to-left and bidi controls, emoji, combining marks, full-width and
mathematical letters), control characters and NUL, lone surrogates,
2,000-character questions, invalid UTF-8 in the query string, and
property-based cases from hypothesis."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROBLEM = "application/problem+json"

CAPITALS = [
    "WHAT SHOULD I DO IF A CHILD IS IN DANGER",
    "WHAT IS NEGLECT?",
    "WHO SHOULD I TELL OR ASK FOR HELP",
    "WHAT IS CONTEXTUAL SAFEGUARDING AND HOW DOES IT WORK",
    "WHEN TO SHARE INFORMATION WITHOUT CONSENT",
    "IS IT NOT NEGLECT IF THE FAMILY IS POOR",
]

SYNTAX = [
    # keywords, alone, leading, trailing and doubled
    "AND", "OR", "NOT", "IN", "TO", "AND OR NOT", "neglect AND", "OR neglect", "NOT neglect", "neglect NOT",
    "neglect AND AND poverty", "neglect OR OR", "IN [neglect poverty]", "title: IN [a b]", "a TO b", "TO TO TO",
    "what to do IN an emergency", "neglect AND (poverty OR", "NOT NOT NOT",
    # every special character, alone and in words
    "+", "-", "^", ":", "(", ")", "[", "]", "{", "}", '"', "'", "~", "*", "\\", "/", "!", "&&", "||", "?", "<", ">", "=",
    "+neglect -poverty", "-neglect", "--", "++", "neglect^2", "neglect^", "^2", "neglect^-1", "neglect^1e309",
    "neglect~", "neglect~2", '"neglect poverty"~3', "negl*", "*glect", "*", "**", "neg?ect", "!neglect", "neglect!",
    "neglect && poverty", "neglect || poverty", "a\\b", "neglect\\", "\\\\", "/neglect/", "/[a-z+/", "a/b/c",
    # fields and ranges
    "text:neglect", "a:b", "title:", ":neglect", "section:Neglect", "document_id:x", "kind:table", "idx:1",
    "text:[a TO z]", "[a TO b]", "{a TO b}", "[* TO *]", "idx:[0 TO 10]", "idx:>5", "[a TO", "a TO b]",
    "text:neglect^3 OR title:poverty", "nonexistent_field:value", "text:", "text:\"neglect\"", "$text:neglect",
    # unbalanced and nested
    '"unbalanced', 'neglect "and poverty', '"', '""', '"""', "(((", ")))", "((neglect)", "(neglect))", "[[[", "]]]",
    "{{{", "}}}", "([{", "'neglect", "neglect's", "child's ''safety''", "\"'\"'", "( )", "[ ]", "{ }", "()",
    "(" * 300, '"' * 301, "a:b:c:d", "::", "a^b^c", "~~~", "!(a)", "-(-(-a))",
]

UNICODE = [
    "niño maltratado", "Kinderschutz und Vernachlässigung", "儿童保护", "حماية الطفل", "защита детей",
    "\u200fright-to-left mark\u200f neglect", "\u202eneglect\u202c", "\u2066isolate\u2069 neglect", "\u061cneglect",
    "neglect 😢 child 👶", "👨‍👩‍👧‍👦 family", "🏳️‍🌈", "e\u0301\u0301\u0301", "ＮＥＧＬＥＣＴ", "𝐧𝐞𝐠𝐥𝐞𝐜𝐭",
    "İSTANBUL ıi", "STRASSE straße", "ﬁle ﬂow", "neglect\u200bpoverty", "\ufeffneglect", "neglect\u00a0poverty",
    "Z̴̡̛a̷l̸g̶o̵ text", "\u2028line\u2029separators", "\uffff\ufffe", "\U0010ffff", "½ ² ⅓", "—–‐",
    "«neglect»", "„poverty“", "ニグレクト", "😀" * 200,
]

CONTROL = [
    "\x00", "neglect\x00poverty", "\x00" * 50, "\x01\x02\x03", "\x07bell", "\x1b[31mred\x1b[0m", "\x08\x08",
    "tab\tseparated", "line\nbreak", "carriage\rreturn", "\r\n\r\n", "\x7f", "\x85next line", "\x0b\x0c",
    " \t\n ", ".", "?", "…", "0", "-1", "1e309", "NaN", "null", "true", "[]", "{}", "<script>alert(1)</script>",
    "'; DROP TABLE chunks; --", "../../etc/passwd", "%00", "%s%s%n", "${jndi:ldap://x}", "{{7*7}}",
]

LONG = [
    ("neglect " * 250)[:2000], "a" * 2000, ("(" * 1000 + ")" * 1000), '"' * 2000, ("AND " * 500)[:2000],
    ("text:neglect^2 " * 134)[:2000], ("😢" * 2000), ("é" * 2000), "\x00" * 2000, ("[a TO b] " * 223)[:2000],
    "x" * 2001, "neglect " * 700,
]

SURROGATES = ["\ud800", "neglect \udfff poverty", "\udbff\udc00\ud800"]

INPUTS = CAPITALS + SYNTAX + UNICODE + CONTROL + LONG + SURROGATES
assert len(INPUTS) >= 100


def _id(i: int, text: str) -> str:
    short = text[:24].encode("unicode_escape").decode("ascii")
    return f"{i:03d}-{short}"


IDS = [_id(i, t) for i, t in enumerate(INPUTS)]


@pytest.fixture(scope="module")
def api(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def _post(api, path: str, body: dict) -> httpx.Response:
    # json.dumps escapes lone surrogates (\\ud800), so even they reach the server.
    return api.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


def send(api, endpoint: str, text: str) -> httpx.Response:
    if endpoint == "ask":
        return _post(api, "/v1/ask", {"question": text})
    if endpoint == "verify":
        return _post(api, "/v1/verify", {"quote": text})
    # A lone surrogate has no UTF-8 form: send what a browser would, U+FFFD.
    return api.get("/v1/search", params={"q": text.encode("utf-8", "replace").decode("utf-8")})


def check(resp: httpx.Response, what: str) -> None:
    ctype = resp.headers.get("content-type", "")
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"
    if resp.status_code == 200:
        assert ctype.startswith("application/json"), f"{what}: {ctype}"
        resp.json()
    else:
        assert 400 <= resp.status_code < 500 and ctype.startswith(PROBLEM), f"{what}: {resp.status_code} {ctype}"
        body = resp.json()
        assert body["status"] == resp.status_code and body["title"] and body["detail"], what


@pytest.mark.parametrize("endpoint", ["ask", "verify", "search"])
@pytest.mark.parametrize("text", INPUTS, ids=IDS)
def test_hostile_input_is_never_a_server_error(api, endpoint, text):
    check(send(api, endpoint, text), f"{endpoint} {text[:60]!r}")


@pytest.mark.parametrize("raw", ["q=%FF", "q=%C0%AF", "q=%ED%A0%80", "q=neglect%00", "q=%", "q=%%", "q=%E2%82",
                                 "q=a&q=b", "q=" + "%28" * 500, "q=text%3Aneglect"])
def test_raw_query_strings_are_never_a_server_error(api, raw):
    check(api.get(f"/v1/search?{raw}"), raw)


@pytest.mark.parametrize("question", CAPITALS, ids=[_id(i, q) for i, q in enumerate(CAPITALS)])
def test_capitals_rank_exactly_as_lower_case(api, question):
    upper = _post(api, "/v1/ask", {"question": question})
    lower = _post(api, "/v1/ask", {"question": question.lower()})
    check(upper, question)
    check(lower, question.lower())
    up, low = upper.json(), lower.json()
    assert up["abstained"] == low["abstained"]
    assert [p["id"] for p in up["passages"]] == [p["id"] for p in low["passages"]]


# -- property-based ----------------------------------------------------------
_SYNTAX_WORDS = ["AND", "OR", "NOT", "IN", "TO", "neglect", "poverty", "child", "text", "title", "a", "b", "*", "2"]
_SYNTAX_CHARS = list("+-^:()[]{}\"'~*\\/!&|?<>= \t") + ["&&", "||", " TO ", " IN "]
syntax_soup = st.lists(st.sampled_from(_SYNTAX_WORDS + _SYNTAX_CHARS), min_size=1, max_size=40).map("".join)
any_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=300)
BOUNDED = settings(max_examples=60, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@BOUNDED
@given(text=syntax_soup)
def test_query_syntax_soup_is_never_a_server_error(api, text):
    for endpoint in ("ask", "verify", "search"):
        check(send(api, endpoint, text), f"{endpoint} {text!r}")


@BOUNDED
@given(text=any_text)
def test_any_text_is_never_a_server_error(api, text):
    for endpoint in ("ask", "verify", "search"):
        check(send(api, endpoint, text), f"{endpoint} {text!r}")
