"""Covers in a PDF: the publisher's back cover is dropped, the title pages
kept in the text but marked so that they are never made passages."""

from __future__ import annotations

import re

from .pdf_layout import Line
from .pdf_paragraphs import render

_CROWN = re.compile(r"\s*©\s*crown copyright\b.*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;][\"'’”)]*(\s|$)")


def back_cover(pages: list[list[Line]]) -> list[list[Line]]:
    """Drop the publisher's back cover: from "© Crown copyright" on one of the
    last two pages to the end, when the Open Government Licence follows it
    (licence, enquiries, "Follow us on …", "Reference: DfE-…" is no guidance)."""
    for n in range(len(pages) - 1, max(-1, len(pages) - 3), -1):
        for i, line in enumerate(pages[n]):
            rest = " ".join(l.text for ls in [pages[n][i:], *pages[n + 1:]] for l in ls)
            if _CROWN.fullmatch(line.text) and re.search(r"open government licen[cs]e", rest, re.IGNORECASE):
                return [*pages[:n], pages[n][:i], *([] for _ in pages[n + 1:])]
    return pages


def title_pages(blocks: list, n_pages: int) -> set[int]:
    """Title pages among the first two: lines (title, subtitle, date) without
    a single sentence. Nothing on them answers a question, yet a question
    that names the document matches them best of all, so they are kept in
    the text but never made passages. A cover that says something ("comes
    into force in September 2025.") stays a passage."""
    if n_pages < 4:
        return set()
    seen: set[int] = set()
    prose: set[int] = set()
    for block in blocks:
        first, last = block.entries[0][0].page, block.entries[-1][-1].page
        if first > 2:
            break  # blocks come in page order
        seen.add(first)
        if first != last or _SENTENCE_END.search(render(block)[0]):
            prose.add(first)  # a paragraph running on to the next page is prose too
    return seen - prose
