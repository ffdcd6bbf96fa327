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
        return toc_headings(toc, labels)
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
