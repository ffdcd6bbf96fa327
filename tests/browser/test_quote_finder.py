"""The quote finder page (/) in a real browser against a real server on the
full corpus: phrase search with filters, highlights, pagination, copy with
a reference or as plain text, export as Markdown and CSV, the quote check
panel, keyboard-only use, axe-core and screenshots."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import LiveServer

from .conftest import accessed, deep_active, format_violations, run_axe, tab_to

KCSIE = "keeping-children-safe-in-education-2025"
BRIEFING = "triennial-analysis-briefing-local-safeguarding-partnerships"


@pytest.fixture(scope="module")
def texts(server):
    cache: dict[str, str] = {}

    def get(doc_id: str) -> str:
        if doc_id not in cache:
            cache[doc_id] = httpx.get(f"{server.url}/v1/documents/{doc_id}/text", timeout=30).json()["text"]
        return cache[doc_id]

    return get


def open_finder(new_page, server, width=1280, height=900, query=""):
    page = new_page(width, height, origin=server.url)
    page.goto(server.url + "/" + query)
    page.wait_for_function("document.querySelectorAll('#doc option').length > 1")
    return page


def search(page, q, document=None, section=None, kind=None):
    page.fill("#q", q)
    if document is not None:
        page.select_option("#doc", document)
        page.wait_for_function("d => document.querySelector('#section').disabled === !d", arg=document)
    if section is not None:
        page.select_option("#section", section)
    if kind is not None:
        page.select_option("#kind", kind)
    page.click("#search-form button[type=submit]")
    page.wait_for_function("document.querySelector('#results-area').getAttribute('aria-busy') === null "
                           "&& !document.querySelector('#results-title').textContent.startsWith('Searching')")
    return page.locator("#results > li.result")


def section_of(result) -> str:
    """The section path a result's heading shows (without its hidden "Result N:" and the document title)."""
    return result.locator("h4").evaluate("h => h.childNodes[1].textContent")


def test_phrase_search_with_a_document_filter(new_page, server, texts):
    page = open_finder(new_page, server)
    results = search(page, '"professional curiosity"', document=KCSIE)
    n = results.count()
    assert n >= 1
    expect(page.locator("#results-title")).to_have_text(re.compile(r"^\d+ quotes? found"))
    for i in range(n):
        r = results.nth(i)
        quote = r.locator("blockquote").text_content()
        assert "professional curiosity" in " ".join(quote.lower().split())
        assert quote in texts(KCSIE)  # verbatim
        assert r.locator(".doc-title").inner_text() == "Keeping children safe in education 2025"
        assert [m.lower() for m in r.locator("mark").all_inner_texts()][:1] == ["professional curiosity"]
        assert re.match(r"Pages? \d+", r.locator(".meta").inner_text())
    # The same search without the filter finds more, from another document too.
    results = search(page, '"professional curiosity"', document="")
    assert results.count() > n
    # The state is in the address bar, so the search can be shared and reloaded.
    assert "q=%22professional+curiosity%22" in page.url


def test_a_mistyped_search_offers_the_documents_spelling(new_page, server):
    page = open_finder(new_page, server)
    results = search(page, '"negelct"')
    assert page.locator("#results-title").inner_text() == "No quotes found"
    assert not page.locator("#did-you-mean").is_visible()  # an exact phrase is searched as typed, and offered as typed
    search(page, "negelct of teenagers")  # "of" and "teenagers" are found; "negelct" is not a word of the documents
    offer = page.locator("#did-you-mean a")
    assert offer.is_visible() and offer.inner_text() == "neglect of teenagers"
    offer.click()
    page.wait_for_function("document.querySelector('#q').value === 'neglect of teenagers' "
                           "&& document.querySelector('#results-area').getAttribute('aria-busy') === null")
    assert "q=neglect+of+teenagers" in page.url and not page.locator("#did-you-mean").is_visible()
    assert results.count() >= 1 and "neglect" in results.first.inner_text().lower()


def test_section_and_kind_filters(new_page, server):
    page = open_finder(new_page, server)
    results = search(page, "neglect", document=BRIEFING, section="Neglect")
    assert results.count() >= 1
    for i in range(results.count()):
        # The section and those inside it, not its namesake "Introduction › Neglect".
        assert section_of(results.nth(i)).split(" › ")[0] == "Neglect"
    results = search(page, "", document=BRIEFING, section="", kind="key_message")
    assert results.count() >= 3
    assert set(results.locator(".tag").all_inner_texts()) == {"Key message"}


def test_pagination(new_page, server):
    page = open_finder(new_page, server)
    results = search(page, "neglect")
    assert results.count() == 10
    first_page = results.first.locator("blockquote").text_content()
    total = int(page.locator("#results-title").inner_text().split()[0])
    assert total > 10
    page.locator("#pagination a[rel=next]").click()
    expect(page.locator("#results-title")).to_contain_text("showing 11 to 20")
    assert "page=2" in page.url
    assert page.locator("#pagination [aria-current=page]").inner_text().endswith("2")
    assert results.first.locator("blockquote").text_content() != first_page
    assert deep_active(page)["id"] == "results-title"  # focus moves to the new results
    page.go_back()
    expect(page.locator("#results-title")).not_to_contain_text("showing 11")


def test_copy_as_referenced_quotation_or_plain_text(new_page, server, texts):
    page = open_finder(new_page, server)
    result = search(page, '"professional curiosity"', document=KCSIE).first
    quote = result.locator("blockquote").text_content()
    pages = re.search(r"Pages? (\d+)(?:–(\d+))?", result.locator(".meta").inner_text())
    p_label = f"p. {pages[1]}" if not pages[2] else f"pp. {pages[1]}–{pages[2]}"
    section = section_of(result)
    before = dt.date.today()
    result.locator("button[data-copy=reference]").click()
    expect(result.locator("button[data-copy=reference]")).to_contain_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied in {(
        f"“{quote}”\n(Department for Education, 2025, {p_label})\n\n"
        f"Department for Education (2025) Keeping children safe in education 2025. Section: {section}. {p_label}. "
        f"Available at: https://www.gov.uk/government/publications/keeping-children-safe-in-education--2 {note}"
    ) for note in accessed(before)}, copied
    result.locator("button[data-copy=plain]").click()
    expect(result.locator("button[data-copy=plain]")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == quote
    assert quote in texts(KCSIE)
    expect(page.locator("#search-status")).to_have_text("Quote copied as plain text.")


def test_export_selected_quotes_as_markdown_and_csv(new_page, server):
    page = open_finder(new_page, server)
    results = search(page, "", document=BRIEFING, kind="key_message")
    chosen = [results.nth(0), results.nth(2)]
    quotes = [r.locator("blockquote").text_content() for r in chosen]
    for r in chosen:
        r.locator("input[type=checkbox]").check()
    expect(page.locator("#selection-count")).to_have_text("2 quotes selected")
    # The selection survives another search.
    search(page, '"professional curiosity"', document="", kind="")
    page.locator("#results > li.result").first.locator("input[type=checkbox]").check()
    extra = page.locator("#results > li.result").first.locator("blockquote").text_content()
    expect(page.locator("#selection-count")).to_have_text("3 quotes selected")

    with page.expect_download() as dl:
        page.click("#export-csv")
    assert dl.value.suggested_filename == "quotes.csv"
    raw = open(dl.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [r["quote"] for r in rows] == [*quotes, extra]
    assert rows[0]["publisher"] == "Research in Practice" and rows[0]["year"] == "n.d."
    assert rows[0]["kind"] == "Key message" and rows[0]["section"].startswith(rows[0]["section"].split(" › ")[0])
    assert rows[0]["reference"].startswith("Research in Practice (n.d.) Triennial Analysis of SCRs")
    assert rows[0]["link"].startswith("https://rip-micro4-live.digitalconnect.co.uk/safeguarding-partnerships/#")
    assert rows[2]["pages"] and rows[2]["year"] in {"2024", "2025"}

    with page.expect_download() as dl:
        page.click("#export-md")
    assert dl.value.suggested_filename == "quotes.md"
    md = open(dl.value.path(), encoding="utf-8").read()
    assert md.startswith("# Quotes from safeguarding guidance")
    first_line = quotes[0].split("\n")[0]
    assert "> " + first_line.replace("*", "\\*").replace("_", "\\_") in md
    assert "Research in Practice (n.d.) *Triennial Analysis of SCRs: Briefing for Local Safeguarding Partnerships*." in md
    assert md.count("(Accessed: ") == 3

    page.click("#clear-selection")
    expect(page.locator("#selection-count")).to_have_text("No quotes selected")
    assert page.locator("#export-csv").is_disabled()


def test_quote_check_finds_a_real_quote_and_flags_an_altered_one(new_page, server, texts):
    page = open_finder(new_page, server)
    text = texts(BRIEFING)
    real = "Poverty leads to additional complexity, stress and anxiety in families, which can in turn heighten the risk of neglect or abuse."
    assert real in text
    page.fill("#verify-quote", real.replace(" in turn", "\n in turn"))  # pasted with a line break
    page.click("#verify-form button[type=submit]")
    verdict = page.locator("[data-verdict]")
    expect(verdict).to_have_attribute("data-verdict", "found")
    start = text.index(real)
    assert f"characters {start}–{start + len(real)}" in verdict.inner_text()
    assert "Neglect › Impact of poverty" in verdict.inner_text()

    altered = real.replace("additional", "extra").replace(" in turn", "")
    page.fill("#verify-quote", altered)
    page.click("#verify-form button[type=submit]")
    expect(verdict).to_have_attribute("data-verdict", "closest")
    assert verdict.locator("h3").inner_text() == "Not found word for word"
    assert verdict.locator("[data-diff] del").all_text_contents() == ["[your quote has: extra]"]
    assert verdict.locator("[data-diff] ins").all_text_contents() == ["[the source has: additional]", "[the source has: in turn]"]
    assert verdict.locator("[data-source-text]").text_content() == real
    assert "Neglect › Impact of poverty" in verdict.inner_text()

    # Typed in capitals, as on a slide: the same passage, the capitals marked.
    page.fill("#verify-quote", real.upper())
    page.click("#verify-form button[type=submit]")
    expect(verdict.locator("[data-case-only]")).to_contain_text("The same words are in")
    assert verdict.locator("[data-source-text]").text_content() == real
    assert verdict.locator("[data-diff] del").all_text_contents() == [f"[your quote has: {real.upper()}]"]

    page.fill("#verify-quote", "The capital of France is Paris and it is lovely in the spring.")
    page.click("#verify-form button[type=submit]")
    expect(verdict).to_have_attribute("data-verdict", "not-found")

    # Words left out with an ellipsis: found part by part, the kept parts marked in the full source.
    page.fill("#verify-quote", "Poverty leads to additional complexity … which can in turn heighten the risk of neglect or abuse.")
    page.click("#verify-form button[type=submit]")
    expect(verdict).to_have_attribute("data-verdict", "found-elided")
    assert verdict.locator("h3").inner_text() == "Found, with words left out"
    assert verdict.locator("[data-source-text]").text_content() == real
    assert verdict.locator("[data-source-text] mark").all_text_contents() == [
        "Poverty leads to additional complexity", "which can in turn heighten the risk of neglect or abuse."]

    page.fill("#verify-quote", "   ")
    page.click("#verify-form button[type=submit]")
    expect(page.locator("#verify-error")).to_have_text("Error: Paste a quote to check.")


def test_keyboard_only(new_page, server):
    page = open_finder(new_page, server)
    page.locator("body").click(position={"x": 1, "y": 300})
    page.keyboard.press("Shift+Tab")  # nothing above: focus wraps to the browser; start again from the top
    page.goto(server.url + "/")
    page.wait_for_function("document.querySelectorAll('#doc option').length > 1")
    page.keyboard.press("Tab")
    skip = deep_active(page)
    assert skip["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    assert deep_active(page)["id"] == "main"
    tab_to(page, lambda i: i["id"] == "q")
    page.keyboard.type('"professional curiosity"')
    page.keyboard.press("Enter")
    expect(page.locator("#results-title")).to_have_text(re.compile(r"^\d+ quotes found"))
    assert deep_active(page)["id"] == "results-title"
    box = tab_to(page, lambda i: i["tag"] == "input" and i["type"] == "checkbox", limit=10)
    assert "255, 221, 0" in box["outline"]
    page.keyboard.press("Space")
    expect(page.locator("#selection-count")).to_have_text("1 quote selected")
    button = tab_to(page, lambda i: i["tag"] == "button" and i["text"].startswith("Copy with reference"), limit=3)
    assert "255, 221, 0" in button["background"]  # visible focus
    page.keyboard.press("Enter")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('Available at:'))")
    # Back up to the export buttons (Shift+Tab) and export with the keyboard.
    tab_to(page, lambda i: i["text"] == "Export selected as Markdown", key="Shift+Tab", limit=10)
    with page.expect_download() as dl:
        page.keyboard.press("Enter")
    assert dl.value.suggested_filename == "quotes.md"
    # The quote check panel.
    tab_to(page, lambda i: i["id"] == "verify-quote", limit=80)
    page.keyboard.type("Poverty leads to additional complexity, stress and anxiety in families")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "found")


@pytest.mark.parametrize("width", [1280, 375])
def test_page_axe_and_screenshots(new_page, server, width, screenshots):
    """axe-core on the page in each state it can be in; writes quote-finder-{width}.png
    and quote-check-{width}.png (into docs/screenshots with `make screenshots`)."""
    page = open_finder(new_page, server, width=width, height=1000 if width > 500 else 812)
    violations = run_axe(page)
    assert violations == [], format_violations(violations)
    results = search(page, '"professional curiosity"')
    results.first.locator("input[type=checkbox]").check()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)
    top = "#find" if width > 500 else "#results-title"  # narrow: from the results down
    page.evaluate("el => el.scrollIntoView({block: 'start'})", page.locator(top).element_handle())
    page.screenshot(path=str(screenshots / f"quote-finder-{width}.png"))
    search(page, "zzzz-not-a-word")  # the empty state
    violations = run_axe(page)
    assert violations == [], format_violations(violations)
    search(page, '"professional curiosity"')
    page.fill("#verify-quote", "Poverty leads to extra complexity, stress and anxiety in families, which can heighten the risk of neglect or abuse.")
    page.click("#verify-form button[type=submit]")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "closest")
    page.fill("#q", "x")  # move the mouse and focus off the result
    page.locator("#verify-quote").evaluate("el => el.blur()")
    page.evaluate("el => el.scrollIntoView({block: 'start'})", page.locator("#check").element_handle())
    page.screenshot(path=str(screenshots / f"quote-check-{width}.png"))
    chat = page.locator("briefing-qa-chat")
    chat.locator("input[name=question]").fill("What is the impact of poverty on neglect?")
    chat.locator("input[name=question]").press("Enter")
    chat.locator(".passage").first.wait_for()
    violations = run_axe(page)
    assert violations == [], format_violations(violations)
    assert page.js_errors == []


READ_KEY = "reader-key-for-the-page-test"


@pytest.fixture(scope="module")
def keyed_server(corpus_index):
    server = LiveServer(corpus_index.index, env={"BRIEFING_QA_API_KEYS": f"{READ_KEY},ops-key-for-tests:admin"})
    yield server.wait_ready()
    server.stop()


def test_page_on_a_service_with_keys_asks_for_one_and_uses_it(new_page, keyed_server):
    page = new_page(1280, 900, origin=keyed_server.url)
    page.goto(keyed_server.url + "/")
    form = page.locator("#key-form")
    expect(form).to_be_visible()
    expect(page.locator("#api-key")).to_be_focused()
    page.fill("#api-key", "not-a-key")
    page.click("#key-form button[type=submit]")
    expect(page.locator("#key-error")).to_have_text("Error: That key was not accepted. Check it and try again.")
    expect(page.locator("#api-key")).to_have_attribute("aria-invalid", "true")

    page.fill("#api-key", READ_KEY)
    page.click("#key-form button[type=submit]")
    expect(form).to_be_hidden()
    page.wait_for_function("document.querySelectorAll('#doc option').length > 1")
    results = search(page, '"professional curiosity"')
    assert results.count() >= 1
    # The chat widget on the page was given the key: it answers too.
    chat = page.locator("briefing-qa-chat")
    assert chat.get_attribute("api-key") == READ_KEY
    chat.locator("input[name=question]").fill("What is the impact of poverty on neglect?")
    chat.locator("button[type=submit]").click()
    chat.locator("li.turn .passage").first.wait_for()
    # The key is kept for the tab: a reload does not ask again.
    page.reload()
    page.wait_for_function("document.querySelectorAll('#doc option').length > 1")
    expect(form).to_be_hidden()

    fresh = new_page(375, 800, origin=keyed_server.url)
    fresh.goto(keyed_server.url + "/")
    expect(fresh.locator("#key-form")).to_be_visible()
    violations = run_axe(fresh)
    assert violations == [], format_violations(violations)
    assert page.js_errors == [] and fresh.js_errors == []
