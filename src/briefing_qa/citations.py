"""Citations: where a quote stands, as data, as a deep link and as one line
a reader can paste into a handout."""

from __future__ import annotations

from urllib.parse import quote as urlquote

from .records import Citation, Document, Section

SEP = " › "


def _fragment_words(text: str, n: int) -> str:
    return " ".join(text.split()[:n])


def text_fragment(quote: str) -> str:
    """A URL text fragment (#:~:text=start,end) that finds the quote in a browser."""
    words = quote.split()
    enc = lambda s: urlquote(s, safe="")
    if len(words) <= 8:
        return "text=" + enc(" ".join(words))
    return "text=" + enc(" ".join(words[:4])) + "," + enc(" ".join(words[-4:]))


def deep_link(doc: Document, section: Section | None, quote: str, pages: tuple[int, int] | None, base_url: str = "") -> str | None:
    if doc.format == "pdf":
        # The service serves the exact file it indexed, so the page is always right.
        page = f"#page={pages[0]}" if pages else ""
        return f"{base_url.rstrip('/')}/v1/documents/{urlquote(doc.id)}/file{page}"
    if not doc.url:
        return None
    anchor = section.anchor if section else None
    return f"{doc.url}#{anchor or ''}:~:{text_fragment(quote)}"


def _sentence(text: str) -> str:
    """`text` ended by one full stop: a title that ends in ":" or ";" (a
    heading introducing a list) loses it, one that ends in ".", "?" or "!"
    keeps its own rather than gaining a second."""
    text = text.rstrip()
    stripped = text.rstrip(":;,").rstrip()
    if stripped.endswith((".", "?", "!", "…")):
        return stripped
    return stripped + "."


def reference(doc: Document, path: tuple[str, ...], pages: tuple[int, int] | None) -> str:
    """Harvard-like: Publisher (year) Title. Section. p. N. Available at: URL."""
    parts = []
    who = doc.publisher or "Unknown publisher"
    parts.append(_sentence(f"{who} ({doc.year or 'n.d.'}) {doc.title}"))
    if path:
        parts.append(_sentence(f"Section: {SEP.join(path)}"))
    if pages:
        parts.append(f"p. {pages[0]}." if pages[0] == pages[1] else f"pp. {pages[0]}–{pages[1]}.")
    if doc.url:
        parts.append(f"Available at: {doc.url}")
    return " ".join(parts)


def cite(doc: Document, section_id: str, start: int, end: int, base_url: str = "") -> Citation:
    section = doc.section(section_id)
    pages = doc.pages_of(start, end)
    path = section.path
    return Citation(
        document_id=doc.id, document_title=doc.title, section_path=path, anchor=section.anchor, pages=pages,
        url=deep_link(doc, section, doc.text[start:end], pages, base_url), reference=reference(doc, path, pages),
    )
