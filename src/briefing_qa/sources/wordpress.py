"""The briefing: a text export of a WordPress page whose sections are
Shortcodes Ultimate accordions ([su_spoiler anchor=… title=…] … [/su_spoiler])."""

from __future__ import annotations

import re

from ..structure import DocumentBuilder, clean_inline, kind_of_heading

_TAG = re.compile(r"\[(/?)su_(spoiler|accordion)([^\]]*)\]")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_BULLET = re.compile(r"^\s*[•●▪◦\-–]\s+")
_CAPTION = re.compile(r"^(Table|Figure)\s+\d+[:.]")
# Lines that are page chrome, not content.
_CHROME = {"back to contents", "&nsbp;", "&nbsp;"}
# Headings under which the briefing nests "Strategic"/"Practice" groups.
_GROUP_HEADINGS = {"strategic", "practice"}


def looks_like_wordpress(text: str) -> bool:
    return "[su_spoiler" in text


def _is_heading(line: str) -> bool:
    """Sub-headings are short lines with no closing punctuation."""
    words = line.split()
    return (
        0 < len(words) <= 12
        and len(line) <= 90
        and line[0].isupper()
        and not re.search(r"[.,;:!…]$", line)
        and not (line.endswith("?") and len(words) > 8)
        and not re.search(r"\d\)?$", line)  # table rows end with figures
        and not _CAPTION.match(line)
    )


def _split_caption(line: str) -> tuple[str, str]:
    """A caption can run straight into the next paragraph on the same line
    ("Table 5: SCR methodology The report identifies …"): split where a
    lower-case word is followed by a capitalised ordinary word."""
    m = re.match(r"^((?:Table|Figure)\s+\d+[:.][^()]*?\b[a-z][a-z]+)\s+((?:The|This|These|In|As|It|A)\s.*)$", line)
    return (m.group(1), m.group(2)) if m else (line, "")


def read_wordpress(raw: str) -> DocumentBuilder:
    b = DocumentBuilder()
    head = raw[: raw.find("[su_accordion")] if "[su_accordion" in raw else ""
    head_lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
    # First line is the site breadcrumb; the next is the page title.
    if len(head_lines) >= 2:
        b.title = clean_inline(head_lines[1]).replace("\u00a0", " ")  # metadata, not a quote
    elif head_lines:
        b.title = clean_inline(head_lines[0])
    body = raw[raw.find("[su_accordion") :] if "[su_accordion" in raw else raw
    end = body.rfind("[/su_accordion]")
    if end != -1:
        body = body[:end]  # what follows is the membership advert

    sections: list[tuple[dict, str]] = []
    pos, current = 0, None
    for m in _TAG.finditer(body):
        if current is not None:
            sections.append((current, body[pos : m.start()]))
            current = None
        if m.group(2) == "spoiler" and not m.group(1):
            current = dict(_ATTR.findall(m.group(3)))
        pos = m.end()
    titles = [a.get("title", "") for a, _ in sections]
    for attrs, content in sections:
        _read_section(b, attrs, content, titles)
    return b


def _read_section(b: DocumentBuilder, attrs: dict, content: str, all_titles: list[str]) -> None:
    title = clean_inline(attrs.get("title", "Untitled"))
    anchor = (attrs.get("anchor") or "").lstrip("#") or None
    b.heading(title, 1, anchor)
    lines = [ln.replace("\u00a0", " ").strip() if not ln.strip("\u00a0 \t") else ln.strip(" \t") for ln in content.splitlines()]
    lines = [ln for ln in lines if ln.strip(" \u00a0") and ln.strip().lower() not in _CHROME]
    level2_kind: str | None = None
    i = 0
    first = True
    while i < len(lines):
        line = lines[i]
        if first and clean_inline(line) == title:
            i += 1  # the section repeats its own title as a first line
            first = False
            continue
        first = False
        if _is_contents_line(clean_inline(line), all_titles):  # the flattened contents links
            i += 1
            continue
        if _BULLET.match(line):
            items = []
            while i < len(lines) and _BULLET.match(lines[i]):
                items.append(lines[i])
                i += 1
            _add_list(b, items, lead_in=None)
            continue
        extent = None if _CAPTION.match(line) else _table_extent(lines, i)
        if _CAPTION.match(line) or extent:
            i = _add_table(b, lines, i, extent)
            continue
        if _is_heading(line):
            text = clean_inline(line)
            k = kind_of_heading(text)
            if text.lower() in _GROUP_HEADINGS and level2_kind == "reflective_questions":
                b.heading(text, 4)
            elif k:
                b.heading(text, 3)
                level2_kind = k
            else:
                b.heading(text, 2)
                level2_kind = None
            i += 1
            continue
        # A paragraph; if it ends with ":" and bullets follow, it is their lead-in.
        text = clean_inline(line)
        if text.endswith(":") and i + 1 < len(lines) and _BULLET.match(lines[i + 1]):
            j = i + 1
            items = []
            while j < len(lines) and _BULLET.match(lines[j]):
                items.append(lines[j])
                j += 1
            _add_list(b, items, lead_in=text)
            i = j
            continue
        kind = "example" if re.match(r"^Example\b", text) else None
        b.add("paragraph", text, kind=kind)
        i += 1


def _is_contents_line(line: str, titles: list[str]) -> bool:
    """True for a line made only of three or more section titles."""
    count = 0
    for t in sorted(titles, key=len, reverse=True):
        if t and t in line:
            line = line.replace(t, " ", 1)
            count += 1
    return count >= 3 and not line.strip()


def _add_list(b: DocumentBuilder, items: list[str], lead_in: str | None) -> None:
    out = [lead_in] if lead_in else []
    for item in items:
        indent = len(item) - len(item.lstrip(" \t"))
        body = clean_inline(_BULLET.sub("", item))
        out.append(("  " if indent > 4 else "") + "• " + body)
    b.add("list", "\n".join(out))


_ROW = re.compile(r"(\d+%?\)?|\(\d+%\)|-)\s*$")


def _table_extent(lines: list[str], i: int) -> tuple[int, bool] | None:
    """Tables are flattened into short rows ending in figures, closed by a
    "Table N:" caption (or, without one, by their "*" footnotes).
    Returns (index after the rows, whether a caption follows) or None."""
    j, rows = i, 0
    while j < len(lines) and j - i < 40:
        ln = lines[j].strip()
        if re.match(r"^Table\s+\d+[:.]", ln):
            return (j, True) if j > i else None
        if _BULLET.match(ln) or (len(ln) > 120 and not _ROW.search(ln)) or ln.startswith("*"):
            break
        rows += bool(_ROW.search(ln))
        j += 1
    return (j, False) if rows >= 3 else None


def _add_table(b: DocumentBuilder, lines: list[str], i: int, extent: tuple[int, bool] | None) -> int:
    end, has_caption = extent or (i, True)
    rows = [clean_inline(ln) for ln in lines[i:end] if clean_inline(ln)]
    i = end
    if not has_caption:
        while i < len(lines) and lines[i].strip().startswith("*"):  # the table's footnotes
            rows.append(clean_inline(lines[i]))
            i += 1
        b.add("table", "\n".join(rows), kind="table")
        return i
    caption, rest = _split_caption(clean_inline(lines[i]))
    if caption.startswith("Figure") and not rows:
        b.add("paragraph", caption)  # figures survive only as captions
    else:
        b.add("table", "\n".join([*rows, caption]), kind="table")
    i += 1
    if rest:
        lines.insert(i, rest)
    return i
