"""HTML pages: h1–h6 give the section tree; p, li, table give blocks."""

from __future__ import annotations

from bs4 import BeautifulSoup, NavigableString, Tag

from ..structure import DocumentBuilder, clean_inline

_SKIP = {"script", "style", "nav", "header", "footer", "aside", "noscript", "form", "template", "svg"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}


def read_html(raw: str) -> DocumentBuilder:
    soup = BeautifulSoup(raw, "lxml")
    b = DocumentBuilder()
    if soup.title and soup.title.string:
        b.title = clean_inline(soup.title.string)
    root = soup.find("main") or soup.find("article") or soup.body or soup
    pending_lead: list[str] = []

    def flush_lead() -> None:
        for p in pending_lead:
            b.add("paragraph", p)
        pending_lead.clear()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString) or not isinstance(child, Tag):
                continue
            name = child.name
            if name in _SKIP:
                continue
            if name in _HEADINGS:
                flush_lead()
                title = clean_inline(child.get_text(" "))
                if title:
                    if b.title is None and _HEADINGS[name] == 1:
                        b.title = title
                    b.heading(title, _HEADINGS[name], child.get("id"))
            elif name == "p":
                flush_lead()
                text = clean_inline(child.get_text(" "))
                if text.endswith(":"):
                    pending_lead.append(text)  # lead-in of a list that may follow
                elif text:
                    b.add("paragraph", text)
            elif name in ("ul", "ol"):
                items = [clean_inline(li.get_text(" ")) for li in child.find_all("li", recursive=False)]
                bullets = [("• " if name == "ul" else f"{n}. ") + t for n, t in enumerate(items, 1) if t]
                b.add("list", "\n".join([*pending_lead, *bullets]))
                pending_lead.clear()
            elif name == "table":
                flush_lead()
                rows = []
                for tr in child.find_all("tr"):
                    cells = [clean_inline(c.get_text(" ")) for c in tr.find_all(["th", "td"])]
                    if any(cells):
                        rows.append(" | ".join(cells))
                cap = child.find("caption")
                if cap:
                    rows.append(clean_inline(cap.get_text(" ")))
                b.add("table", "\n".join(rows), kind="table")
            elif name in ("blockquote", "pre"):
                flush_lead()
                b.add("paragraph", clean_inline(child.get_text(" ")))
            else:
                walk(child)
        flush_lead()

    walk(root)
    return b
