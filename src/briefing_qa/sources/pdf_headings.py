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
    return [Heading(n, title, big.index(round(line.size)) + 1)
            for n, _, line, title in _font_runs(pages, lambda l: round(l.size) in big)]


def _font_runs(pages: list[list[Line]], keep) -> list[tuple[int, int, Line, str]]:
    """Runs of lines that `keep` accepts, one after another (blank lines
    aside) on one page in one font size, as (page, index of the first line,
    first line, their text joined): a heading and its second line."""
    runs: list[list] = []
    prev = None
    for n, lines in enumerate(pages, 1):
        for i, line in enumerate(lines):
            if line.blank:
                continue
            if not keep(line):
                prev = None
            elif prev and prev.page == line.page and round(prev.size) == round(line.size):
                runs[-1][3] += " " + line.text.strip()
            else:
                runs.append([n, i, line, line.text.strip()])
                prev = line
    return [tuple(r) for r in runs]


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

    def unlisted(line: Line) -> bool:
        return (round(line.size) < smallest and line.size >= measures.body + 1.5 and measures.short(line)
                and not BULLET.match(line.text) and not line.text.rstrip().endswith("."))

    at += [(n, i, Heading(n, title, 0)) for n, i, _, title in _font_runs(pages, unlisted)]
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
