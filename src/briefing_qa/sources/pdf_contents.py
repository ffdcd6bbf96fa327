"""Contents pages in a PDF: their entries are dropped from the text, and kept
as the outline of a PDF without bookmarks (their printed page numbers mapped
to physical pages)."""

from __future__ import annotations

import re

from ..structure import clean_inline
from .pdf_layout import Line
from .pdf_model import CONTENTS, Heading, norm

_TOC = re.compile(r"\s*(?:(?P<title>.*?\S)[\s.…·_]+)?(?P<num>\d{1,3})\s*")

Entry = tuple  # a contents entry: (first line, last line, page, title, x)


def contents(lines: list[Line], n_pages: int, outline: list[Heading], toc: list[Entry]) -> list[Line]:
    """Drop contents lines: 4+ entries "Title  12" in a row whose page
    numbers never go back (an entry may wrap onto a second line). The
    entries are added to toc: they are the outline when there is none."""
    page = lines[0].page if lines else 0
    runs, run, wrap = [], [], None
    for i, line in enumerate(lines):
        if line.blank:
            continue
        m = _TOC.fullmatch(line.text)
        num = int(m["num"]) if m else -1
        if m and page - 5 <= num <= n_pages + 5 and (not run or num >= run[-1][2]):
            first = i if wrap is None else wrap
            title = " ".join(l.text.strip() for l in lines[first:i] if not l.blank)
            run.append((first, i, num, clean_inline(f"{title} {m['title'] or ''}"), lines[first].x))
            wrap = None
        elif m is None and run and wrap is None:
            wrap = i
        else:
            runs.append(run)
            run, wrap = [], None
            if m and page - 5 <= num <= n_pages + 5:
                run.append((i, i, num, clean_inline(m["title"] or ""), line.x))
    drop: set[int] = set()
    heads = {norm(h.title) for h in outline if h.page == page}
    for entries in (r for r in [*runs, run] if len(r) >= 4):
        drop.update(range(entries[0][0], entries[-1][1] + 1))
        before = [i for i in range(entries[0][0]) if not lines[i].blank][-1:]
        if before and CONTENTS.fullmatch(lines[before[0]].text) and norm(lines[before[0]].text) not in heads:
            drop.add(before[0])  # the "Contents" title, unless a bookmark
        toc.extend(entries)
    return [l for i, l in enumerate(lines) if i not in drop]


def toc_headings(toc: list[Entry], labels: dict[int, int]) -> list[Heading]:
    """The contents entries as headings, on the physical page their printed
    page number (labels) names; levels from the indentation of the entries."""
    xs = sorted({round(e[4] / 6) for e in toc})
    return [Heading(labels.get(num, num), title, min(3, xs.index(round(x / 6)) + 1))
            for _, _, num, title, x in toc if title]
