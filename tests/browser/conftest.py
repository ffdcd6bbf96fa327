"""Browser fixtures: Debian's Chromium, headless, driven by Playwright (never
`playwright install`: the browser comes from the system, installed by `make
setup-test`), and axe-core from npm (tests/browser/node_modules, installed by
`make setup-test`).

Screenshots go to a temporary folder, so running the tests never rewrites
tracked files; `make screenshots` sets BRIEFING_QA_SCREENSHOTS=docs/screenshots
to refresh the ones in the docs."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCREENSHOTS_ENV = "BRIEFING_QA_SCREENSHOTS"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update"]
WCAG22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def server(request):
    """The server under test: the session's `live_server` on the full corpus, or
    (for quick iteration on the front end) one already running at
    BRIEFING_QA_TEST_URL."""
    url = os.environ.get("BRIEFING_QA_TEST_URL")
    if url:
        return SimpleNamespace(url=url.rstrip("/"))
    return request.getfixturevalue("live_server")


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots are written: BRIEFING_QA_SCREENSHOTS (relative to the
    project) when set, as `make screenshots` does; else a temporary folder."""
    configured = os.environ.get(SCREENSHOTS_ENV)
    folder = (ROOT / configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make setup-test` installs Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def new_page(browser):
    """new_page(width=1280, height=900) -> a page in a fresh context that may use the clipboard."""
    contexts = []

    def make(width: int = 1280, height: int = 900, origin: str | None = None):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        if origin:
            ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.js_errors = errors
        # Console lines and failed requests, for the message of a test that times out.
        page.trail = trail = []
        page.on("console", lambda m: trail.append(f"console {m.type}: {m.text}"))
        page.on("requestfailed", lambda r: trail.append(f"failed {r.method} {r.url}: {r.failure}"))
        page.on("response", lambda r: trail.append(f"{r.status} {r.request.method} {r.url}"))
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def run_axe(page, context: str | None = None) -> list[dict]:
    """axe-core's WCAG 2.2 AA rules on the page (it looks inside open shadow roots)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make setup-test` (npm install in tests/browser)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    ctx = json.dumps(context) if context else "document"
    result = page.evaluate(
        f"""async () => {{
            const r = await axe.run({ctx}, {{ runOnly: {{ type: 'tag', values: {json.dumps(WCAG22_AA)} }}, resultTypes: ['violations'] }});
            return r.violations.map(v => ({{ id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({{ target: n.target, summary: n.failureSummary }})) }}));
        }}"""
    )
    return result


def format_violations(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n  " + "\n  ".join(f"{n['target']}: {n['summary']}" for n in v["nodes"][:5])
                     for v in violations)


def deep_active(page) -> dict:
    """The focused element, looking through shadow roots: tag, text, role and the host it is in."""
    return page.evaluate(
        """() => {
            let el = document.activeElement, host = null;
            while (el && el.shadowRoot && el.shadowRoot.activeElement) { host = el.tagName.toLowerCase(); el = el.shadowRoot.activeElement; }
            if (!el) return null;
            const cs = getComputedStyle(el);
            return { tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || el.value || '').trim().slice(0, 120),
                     type: el.getAttribute('type'), host, outline: cs.outlineStyle + ' ' + cs.outlineColor,
                     background: cs.backgroundColor, boxShadow: cs.boxShadow };
        }"""
    )


def tab_to(page, predicate, limit: int = 80, key: str = "Tab") -> dict:
    """Press Tab until the focused element satisfies predicate(info); fail after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press(key)
        info = deep_active(page)
        if info and predicate(info):
            return info
    pytest.fail(f"focus never reached the element after {limit} presses of {key}")


def accessed(before: dt.date) -> set[str]:
    """The access note of a copied reference, dated the day before the copy
    or today: the browser dates the copy, and a run may cross midnight."""
    return {f"(Accessed: {d.day} {d.strftime('%B %Y')})." for d in (before, dt.date.today())}
