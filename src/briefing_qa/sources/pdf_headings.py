"""Headings for the PDF reader: where they come from (bookmarks, else the
contents pages, else larger fonts) and the lines on the page that show them."""

from __future__ import annotations

from ..structure import clean_inline
from .pdf_contents import Entry, toc_headings
from .pdf_layout import Line
from .pdf_model import BULLET, Heading, Measures, glue, norm


def headings(outline: list[Heading], toc: list[Entry], labels: dict[int, int], pages: list[list[Line]],
             measures: Measures) -> list[Heading]:
    if outline:
        return outline
    if toc:  # levels from the indentation of the contents entries
        return _with_unlisted(toc_headings(toc, labels), pages, measures)
    # Neither: lines in a larger font are headings, the larger the higher;
    # a heading's second line has the same size.
    big = sorted({round(l.size) for ls in pages for l in ls if l.size >= 1.2 * measures.body}, reverse=True)[:3]
    heads, prev = [], None
    for line in (l for ls in pages for l in ls if not l.blank):
        if round(line.size) not in big:
            prev = None
        elif prev and prev.page == line.page and round(prev.size) == round(line.size):
            heads[-1].title += " " + line.text.strip()
        else:
            heads.append(Heading(line.page, line.text.strip(), big.index(round(line.size)) + 1))
            prev = line
    return heads


def _with_unlisted(heads: list[Heading], pages: list[list[Line]], measures: Measures) -> list[Heading]:
    """The contents pages list two levels; the body prints a third ("Who
    should carry out the health assessment?") in a heading font smaller than
    any listed heading's. Those lines become headings one level below the
    listed heading before them, in page order."""
    at: list[tuple[int, int, Heading]] = []
    sizes = []
    for head in heads:
        lines = pages[head.page - 1] if 0 < head.page <= len(pages) else []
        hit = _find(lines, 0, head.title, measures)
        if hit:
            sizes.append(round(lines[hit[0]].size))
        at.append((head.page, hit[0] if hit else -1, head))
    if not sizes:
        return heads
    smallest = min(sizes)
    prev = None
    for n, lines in enumerate(pages, 1):
        for i, line in enumerate(lines):
            unlisted = (not line.blank and measures.styled(line) and round(line.size) < smallest
                        and line.size >= measures.body + 1.5 and measures.short(line)
                        and not BULLET.match(line.text) and not line.text.rstrip().endswith("."))
            if not unlisted:
                prev = None
            elif prev and prev[0] == n and prev[1] == i - 1 and round(prev[2].size) == round(line.size):
                prev[3].title += " " + line.text.strip()  # a heading's second line
                prev = (n, i, line, prev[3])
            else:
                head = Heading(n, line.text.strip(), 0)
                at.append((n, i, head))
                prev = (n, i, line, head)
    at.sort(key=lambda x: (x[0], x[1]))
    level = 1
    for _, _, head in at:
        if head.level:
            level = head.level
        else:
            head.level = level + 1
    return [h for _, _, h in at]


def _find(lines: list[Line], start: int, title: str, measures: Measures) -> tuple[int, int, bool] | None:
    """Lines i..j showing this title: styled lines first, then any; exact
    characters first, then ignoring digits (footnote markers, numbering)."""
    for digits in (True, False):
        target = norm(title, digits)
        for styled in (True, False):
            for i in range(start, len(lines)):
                if lines[i].blank or BULLET.match(lines[i].text) or (styled and not measures.styled(lines[i])):
                    continue
                acc = ""
                for j in range(i, min(i + 4, len(lines))):
                    acc += norm(lines[j].text, digits)
                    if acc == target and acc:
                        return i, j, digits
                    if not target.startswith(acc):
                        break
    return None


def place(lines: list[Line], heads: list[Heading], measures: Measures) -> list:
    """Put this page's headings before the lines showing them (those lines
    become the heading); a heading not found opens where the search is."""
    out, cursor = [], 0
    for head in heads:
        hit = _find(lines, cursor, head.title, measures)
        if not hit:
            out.append(head)
            continue
        out.extend(lines[cursor:hit[0]])
        text = ""  # as printed, unless it differs in digits (a marker the bookmark lacks)
        for line in lines[hit[0]:hit[1] + 1] if hit[2] else ():
            piece = clean_inline(line.text)
            text += (glue(text, piece) if text else "") + piece
        out.append(Heading(head.page, text or head.title, head.level))
        cursor = hit[1] + 1
    return out + lines[cursor:]
