"""The chat widget in a real browser, against a real server on the full
corpus: cited quotes, abstention, the safety notice, loading and error
states, copy with reference, Shadow DOM isolation, 320 px, keyboard only,
axe-core, and the answer-view screenshots linked from the docs."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import LiveServer

from .conftest import accessed, deep_active, format_violations, run_axe, tab_to

POVERTY_Q = "What is the impact of poverty on neglect?"
OUT_OF_SCOPE_Q = "What is the capital of France?"
DANGER_Q = "A pupil says her stepfather is going to kill her tonight and she is scared to go home. What should I do?"
DEFAULT_NOTICE = ("If a child is in immediate danger, call 999. Otherwise, contact your local children’s social care team "
                  "or your designated safeguarding lead.")
BRIEFING_ID = "triennial-analysis-briefing-local-safeguarding-partnerships"


@pytest.fixture(scope="module")
def texts(server):
    cache: dict[str, str] = {}

    def get(doc_id: str) -> str:
        if doc_id not in cache:
            cache[doc_id] = httpx.get(f"{server.url}/v1/documents/{doc_id}/text", timeout=30).json()["text"]
        return cache[doc_id]

    return get


def open_widget(new_page, server, width=1280, path="/", height=900):
    page = new_page(width, height, origin=server.url)
    page.goto(server.url + path)
    page.wait_for_function("customElements.get('briefing-qa-chat') !== undefined")
    return page, page.locator("briefing-qa-chat").first


def ask(chat, question):
    chat.locator("input[name=question]").fill(question)
    chat.locator("button[type=submit]").click()
    turn = chat.locator("li.turn").first
    turn.locator(".passage, [data-abstained], [data-error]").first.wait_for()
    return turn


def test_question_gets_cited_verbatim_quotes(new_page, server, texts):
    page, chat = open_widget(new_page, server)
    turn = ask(chat, POVERTY_Q)
    assert turn.locator("[data-abstained]").count() == 0
    passages = turn.locator(".passage")
    assert 1 <= passages.count() <= 3  # passages="3" on the demo page
    first = passages.first
    quote = first.locator("blockquote").inner_text()
    # What the reader sees is word for word from the document.
    assert " ".join(quote.split()) in " ".join(texts(BRIEFING_ID).split())
    best = first.locator("mark").first.inner_text()
    assert "poverty" in best.lower() and best in quote
    crumb = first.locator(".crumb").inner_text()
    assert "Neglect › Impact of poverty" in crumb and "Triennial Analysis" in crumb
    link = first.locator("a[data-source-link]")
    href = link.get_attribute("href")
    assert href.startswith("https://rip-micro4-live.digitalconnect.co.uk/safeguarding-partnerships/#lscb_neglect:~:text=")
    assert link.get_attribute("target") == "_blank"
    assert first.locator("button[data-copy]").inner_text().startswith("Copy quote with reference")
    # Screen readers hear the answer: the live region names the source and the best sentence.
    status = chat.locator("[role=status]")
    expect(status).to_contain_text("Answer:")
    expect(status).to_contain_text("Neglect › Impact of poverty")
    assert page.js_errors == []


def test_pdf_answers_show_the_page(new_page, server, texts):
    page, chat = open_widget(new_page, server)
    turn = ask(chat, "What should schools do when a child is missing from education?")
    first = turn.locator(".passage").first
    assert re.search(r"Pages? \d+", first.locator(".meta").inner_text())
    href = first.locator("a[data-source-link]").get_attribute("href")
    assert re.search(r"/v1/documents/[\w-]+/file#page=\d+$", href)


def test_out_of_scope_question_is_plainly_not_answered(new_page, server):
    page, chat = open_widget(new_page, server)
    turn = ask(chat, OUT_OF_SCOPE_Q)
    box = turn.locator("[data-abstained]")
    assert "The documents do not answer this question." in box.inner_text()
    assert turn.locator("blockquote").count() == 0  # no quote pretends to answer
    sections = box.locator("li")
    assert sections.count() >= 1  # the closest sections are offered
    assert ":~:" not in (sections.first.locator("a").get_attribute("href") or "")
    expect(chat.locator("[role=status]")).to_contain_text("The documents do not answer this question.")


@pytest.mark.parametrize("question, asked", [
    ("how much is the weekly fostering allowance?", "an amount of money"),
    ("AGE OF CRIMINAL RESPONSIBILITY IN SCOTLAND", "what applies in Scotland"),
])
def test_what_is_asked_for_that_the_guidance_never_gives_is_named(new_page, server, question, asked):
    page, chat = open_widget(new_page, server)
    turn = ask(chat, question)
    box = turn.locator("[data-abstained]")
    assert "The documents do not answer this question." in box.inner_text()
    assert f"It asks for {asked}, and the guidance gives none" in box.inner_text()
    assert turn.locator("blockquote").count() == 0


def test_safety_notice_comes_first(new_page, server):
    page, chat = open_widget(new_page, server)
    chat.locator("input[name=question]").fill(DANGER_Q)
    chat.locator("input[name=question]").press("Enter")
    turn = chat.locator("li.turn").first
    notice = turn.locator("[data-safety-notice]")
    notice.wait_for()
    assert notice.get_attribute("role") == "alert"
    assert notice.inner_text().strip().endswith(DEFAULT_NOTICE)
    turn.locator(".passage, [data-abstained]").first.wait_for()
    # Shown before the answer, in document order.
    order = turn.evaluate("t => [...t.children].map(c => c.className)")
    assert order.index("notice") < order.index("body")
    # An ordinary question shows no notice.
    turn2 = ask(chat, POVERTY_Q)
    assert turn2.locator("[data-safety-notice]").count() == 0


def test_safety_notice_and_phrases_are_configurable(new_page, server):
    page, _ = open_widget(new_page, server)
    page.evaluate("""() => {
        const w = document.createElement('briefing-qa-chat');
        w.id = 'custom';
        w.setAttribute('safety-notice', 'Call the Anytown children’s services duty desk on 01234 567890.');
        w.setAttribute('danger-phrases', 'red flag; code word');
        document.querySelector('#ask').append(w);
    }""")
    chat = page.locator("#custom")
    turn = ask(chat, "Is a code word something schools use?")
    assert "Anytown children’s services duty desk" in turn.locator("[data-safety-notice]").inner_text()
    turn = ask(chat, "What is immediate danger?")  # the defaults are replaced, not added to
    assert turn.locator("[data-safety-notice]").count() == 0


@pytest.fixture()
def intranet(tmp_path):
    """A stand-in intranet: static pages on another origin (another port)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_embedded_cross_origin_with_key_and_server_safety_settings(new_page, request, intranet):
    """The real embedding: an intranet page on another origin, one script tag,
    CORS and API keys on, and the safety notice set by the server."""
    folder, origin = intranet
    corpus_index = request.getfixturevalue("corpus_index")
    server = LiveServer(corpus_index.index, env={
        "BRIEFING_QA_SAFETY_NOTICE": "Phone the Multi-Agency Safeguarding Hub now.",
        "BRIEFING_QA_DANGER_PHRASES": "urgent help,right now;tonight",
        "BRIEFING_QA_CORS_ORIGINS": origin,
        "BRIEFING_QA_API_KEYS": "intranet-read-key",
    }).wait_ready(path="/healthz")
    try:
        cfg = httpx.get(server.url + "/v1/widget-config", headers={"X-API-Key": "intranet-read-key"}).json()
        assert {k: cfg[k] for k in ("safety_notice", "danger_phrases")} == {
            "safety_notice": "Phone the Multi-Agency Safeguarding Hub now.", "danger_phrases": ["urgent help", "right now", "tonight"]}
        (folder / "index.html").write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Intranet</title>
            <script src="{server.url}/widget.js" defer></script></head><body><main><h1>Staff intranet</h1>
            <briefing-qa-chat id="keyed" api-key="intranet-read-key"></briefing-qa-chat>
            <briefing-qa-chat id="unkeyed" heading="Without a key"></briefing-qa-chat></main></body></html>""", encoding="utf-8")
        page = new_page(1280, 900)
        page.goto(origin + "/index.html")
        page.wait_for_function("customElements.get('briefing-qa-chat') !== undefined")
        page.wait_for_timeout(500)  # the widget reads its configuration once, on connect
        turn = ask(page.locator("#keyed"), "I need urgent help with a neglect case")
        assert "Multi-Agency Safeguarding Hub" in turn.locator("[data-safety-notice]").inner_text()
        assert turn.locator(".passage").count() >= 1
        assert turn.locator(".crumb").first.inner_text()  # cited, across origins
        turn = ask(page.locator("#unkeyed"), "What is neglect?")
        assert "API key is required" in turn.locator("[data-error]").inner_text()
    finally:
        server.stop()


def test_cross_origin_without_cors_names_the_likely_cause(new_page, server, intranet):
    """The widget on another origin while the service has no
    BRIEFING_QA_CORS_ORIGINS (the safe default): the browser blocks the
    answer and hides why; the widget names this page's origin and the setting."""
    folder, origin = intranet
    (folder / "index.html").write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Intranet</title>
        <script src="{server.url}/widget.js" defer></script></head><body><main><h1>Staff intranet</h1>
        <briefing-qa-chat></briefing-qa-chat></main></body></html>""", encoding="utf-8")
    page = new_page(1280, 900)
    page.goto(origin + "/index.html")
    page.wait_for_function("customElements.get('briefing-qa-chat') !== undefined")
    turn = ask(page.locator("briefing-qa-chat"), "What is neglect?")
    message = turn.locator("[data-error]").inner_text()
    assert "could not be loaded" in message
    assert f"this page's origin ({origin}) may not be allowed" in message, message
    assert "BRIEFING_QA_CORS_ORIGINS" in message and server.url in message


def test_relative_citation_links_point_at_the_service(new_page, server):
    """A service reached by a host it does not vouch for sends relative deep
    links; the widget puts its API base before them."""
    page, chat = open_widget(new_page, server)

    def relative(route):
        resp = route.fetch()
        body = resp.json()
        for p in body["passages"]:
            p["citation"]["url"] = f"/v1/documents/{p['citation']['document_id']}/file#page=2"
        route.fulfill(response=resp, json=body)

    page.route("**/v1/ask", relative)
    turn = ask(chat, "What does a designated safeguarding lead do?")
    href = turn.locator("a[data-source-link]").first.get_attribute("href")
    assert re.fullmatch(re.escape(server.url) + r"/v1/documents/[\w-]+/file#page=2", href), href


def test_loading_and_error_states(new_page, server):
    page, chat = open_widget(new_page, server)
    release = []

    def slow(route):
        release.append(route)

    page.route("**/v1/ask", slow)
    chat.locator("input[name=question]").fill(POVERTY_Q)
    chat.locator("input[name=question]").press("Enter")
    turn = chat.locator("li.turn").first
    loading = turn.locator(".loading")
    loading.wait_for()
    assert "Searching the guidance" in loading.inner_text()
    assert turn.get_attribute("aria-busy") == "true"
    page.wait_for_function("() => true")
    release[0].fulfill(status=503, content_type="application/problem+json",
                       body='{"type":"x","title":"Index unavailable","status":503,"detail":"no index loaded"}')
    err = turn.locator("[data-error]")
    err.wait_for()
    assert "could not be loaded" in err.inner_text() and "Index unavailable" in err.inner_text()
    assert turn.get_attribute("aria-busy") is None
    # Try again works once the service is back.
    page.unroute("**/v1/ask")
    err.locator("button").click()
    chat.locator("li.turn .passage").first.wait_for()


def test_copy_quote_with_reference(new_page, server, texts):
    page, chat = open_widget(new_page, server)
    turn = ask(chat, POVERTY_Q)
    first = turn.locator(".passage").first
    before = dt.date.today()
    first.locator("button[data-copy]").click()
    page.wait_for_function("el => el.dataset.copied", arg=first.locator("button[data-copy]").element_handle())
    copied = page.evaluate("navigator.clipboard.readText()")
    head, ref = copied.rsplit("\n\n", 1)
    assert head.startswith("“") and head.endswith("”\n(Research in Practice, n.d.)")
    body = head[1 : head.rindex("”\n(")]
    assert body == first.locator("blockquote").text_content()  # the quote itself, exactly
    assert body in texts(BRIEFING_ID)
    assert ref in {(
        "Research in Practice (n.d.) Triennial Analysis of SCRs: Briefing for Local Safeguarding Partnerships. "
        "Section: Neglect › Impact of poverty. Available at: https://rip-micro4-live.digitalconnect.co.uk/safeguarding-partnerships/ "
        f"{note}"
    ) for note in accessed(before)}, ref
    expect(chat.locator("[role=status]")).to_have_text("Quote and reference copied.")


def test_intranet_css_cannot_break_the_widget(new_page, server):
    page, chat = open_widget(new_page, server, path="/static/embed-demo.html")
    turn = ask(chat, POVERTY_Q)
    page.mouse.move(0, 0)
    bq = turn.locator("blockquote").first
    assert bq.is_visible()  # the page hides every blockquote; not this one
    styles = page.evaluate("""() => {
        const root = document.querySelector('briefing-qa-chat').shadowRoot;
        const cs = (sel) => getComputedStyle(root.querySelector(sel));
        return { button: cs('button[type=submit]').backgroundColor, input: root.querySelector('input').getBoundingClientRect().width,
                 font: cs('.box').fontSize, transform: cs('blockquote').textTransform, align: cs('.box').textAlign,
                 mark: cs('mark').backgroundColor };
    }""")
    assert styles["button"] == "rgb(0, 112, 60)"
    assert styles["input"] > 200 and styles["font"] == "16px"
    assert styles["transform"] == "none" and styles["align"] == "left"
    assert styles["mark"] == "rgb(255, 242, 168)"
    violations = run_axe(page)
    assert violations == [], format_violations(violations)


@pytest.mark.parametrize("path", ["/", "/static/embed-demo.html"])
def test_works_at_320px(new_page, server, path):
    page, chat = open_widget(new_page, server, width=320, path=path)
    ask(chat, DANGER_Q)
    ask(chat, POVERTY_Q)
    overflow = page.evaluate("""() => {
        const root = document.querySelector('briefing-qa-chat').shadowRoot;
        const wide = [...root.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5);
        return { page: document.documentElement.scrollWidth, wide: wide.map(e => e.tagName + '.' + e.className) };
    }""")
    assert overflow["page"] <= 320 and overflow["wide"] == [], overflow


def test_keyboard_only(new_page, server):
    page, chat = open_widget(new_page, server, path="/static/embed-demo.html")
    page.locator("body").click(position={"x": 1, "y": 1})  # start from the top of the page, as a keyboard user would
    info = tab_to(page, lambda i: i["tag"] == "input" and i["host"] == "briefing-qa-chat")
    assert "255, 221, 0" in info["outline"]  # a visible yellow focus outline
    page.keyboard.type(POVERTY_Q)
    page.keyboard.press("Enter")
    chat.locator("li.turn .passage").first.wait_for()
    active = deep_active(page)
    assert active["tag"] == "input" and active["text"] == ""  # focus stays in the (cleared) question box for a follow-up
    # Tab on: Ask, then into the newest answer: its source link, then its copy button.
    link = tab_to(page, lambda i: i["tag"] == "a", limit=5)
    assert link["text"].startswith("Open in the source") and "255, 221, 0" in link["background"]
    button = tab_to(page, lambda i: i["tag"] == "button" and i["text"].startswith("Copy quote"), limit=3)
    assert "255, 221, 0" in button["background"]
    page.keyboard.press("Enter")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('Available at:'))")
    # An empty question is refused with a message, by keyboard too.
    tab_to(page, lambda i: i["tag"] == "input", key="Shift+Tab", limit=20)
    page.keyboard.press("Enter")
    assert "Enter a question." in chat.locator(".field-error").inner_text()
    assert chat.locator("input[name=question]").get_attribute("aria-invalid") == "true"


@pytest.mark.parametrize("width", [1280, 375])
def test_answer_view_screenshots_and_axe(new_page, server, width, screenshots):
    """Writes answer-{width}.png (linked from docs/widget.md; into docs/screenshots with `make screenshots`) and
    runs axe-core on the page with an answer, an abstention and a safety notice."""
    page, chat = open_widget(new_page, server, width=width, height=1000 if width > 500 else 812)
    ask(chat, OUT_OF_SCOPE_Q)
    ask(chat, DANGER_Q)
    turn = ask(chat, POVERTY_Q)
    violations = run_axe(page)
    assert violations == [], format_violations(violations)
    page.evaluate("document.querySelector('briefing-qa-chat').shadowRoot.querySelector('input').blur()")
    # Wide: the question box and the answer; narrow: the answer from its top.
    target = chat.element_handle() if width > 500 else turn.element_handle()
    page.evaluate("el => el.scrollIntoView({block: 'start'})", target)
    page.screenshot(path=str(screenshots / f"answer-{width}.png"))
    assert turn.locator(".passage").count() >= 1


def test_follow_up_questions_are_answered_in_context(new_page, server):
    page, chat = open_widget(new_page, server)
    sent = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/v1/ask") else None)
    first = ask(chat, "What are the signs of neglect?")
    assert first.locator("[data-context-note]").count() == 0
    assert chat.locator("button.new-conversation").is_visible()
    follow = ask(chat, "what about babies?")
    note = follow.locator("[data-context-note]")
    assert note.is_visible() and "What are the signs of neglect?" in note.inner_text()
    assert sent[0].get("context") is None and sent[1]["context"] == ["What are the signs of neglect?"]
    # A question that stands alone is answered alone, even mid-conversation.
    alone = ask(chat, "Who are the three safeguarding partners under the new arrangements?")
    assert alone.locator("[data-context-note]").count() == 0
    chat.locator("button.new-conversation").click()
    assert chat.locator("li.turn").count() == 0 and not chat.locator("button.new-conversation").is_visible()
    ask(chat, "what about babies?")
    assert "context" not in sent[-1]


def test_words_read_as_typos_are_shown(new_page, server):
    page, chat = open_widget(new_page, server)
    turn = ask(chat, "signs of negelct in babbies")
    note = turn.locator("[data-read-as]")
    assert note.is_visible(), turn.inner_text()[:300]
    assert note.locator("q").all_inner_texts() == ["negelct", "neglect", "babbies", "babies"]
    assert note.inner_text().startswith("Read ") and " as " in note.inner_text()
    assert turn.locator(".passage").count() >= 1
    assert ask(chat, "signs of neglect in babies").locator("[data-read-as]").count() == 0


def test_widget_fold_mirrors_the_server_analysis(new_page, server):
    vectors = json.loads((Path(__file__).resolve().parents[1] / "data" / "analysis_vectors.json").read_text(encoding="utf-8"))
    page, _ = open_widget(new_page, server)
    page.wait_for_function("window.BriefingQA.foldLoaded()")  # the table comes from /v1/widget-config
    got = page.evaluate("(texts) => texts.map((t) => window.BriefingQA.fold(t))", [c["text"] for c in vectors["fold"]])
    assert got == [c["fold"] for c in vectors["fold"]]
