"""Page clean-up for the PDF reader: page numbers, running headers and
footers, stray footnote markers, footnotes, contents pages and the back cover
go; the printed page numbers and the contents entries are kept aside."""

from __future__ import annotations

import collections
import re

from .pdf_contents import Entry, contents
from .pdf_covers import back_cover
from .pdf_footnotes import Footnotes, unglue
from .pdf_layout import MARKER, Line
from .pdf_model import Heading

_PAGE_NO = re.compile(r"\s*(?:page\s+)?\d{1,4}(?:\s+of\s+\d{1,4})?\s*", re.IGNORECASE)


class PageCleaner:
    def __init__(self, pages: list[list[Line]], heights: list[float], outline: list[Heading], body: float):
        self.pages, self.heights, self.outline, self.body = pages, heights, outline, body
        self.labels: dict[int, int] = {}  # printed page number -> physical page
        self.toc: list[Entry] = []  # contents entries (first line, last line, page, title, x)

    def _margin(self, line: Line) -> bool:
        return not 0.1 < line.y / self.heights[line.page - 1] < 0.9

    def clean(self) -> list[list[Line]]:
        # Running headers and footers: the same text (numbers aside) in the margin of many pages.
        key = lambda line: re.sub(r"\d+", "#", line.text.strip())  # noqa: E731
        seen = collections.Counter(k for ls in self.pages for k in {key(l) for l in ls if not l.blank and self._margin(l)})
        running = {k for k, n in seen.items() if n >= max(3, 0.3 * len(self.pages))}
        footnotes = Footnotes(self.body)
        cleaned = []
        for lines in self.pages:
            visible = [id(l) for l in lines if not l.blank]
            kept = []
            for line in lines:
                if line.blank:
                    kept.append(line)
                elif _PAGE_NO.fullmatch(line.text) and (id(line) in visible[:1] + visible[-1:] or self._margin(line)):
                    self.labels.setdefault(int(re.findall(r"\d+", line.text)[0]), line.page)
                elif MARKER.fullmatch(line.text.rstrip()) and line.size < 0.8 * self.body:
                    pass  # a superscript marker that pypdf put on a line of its own
                elif key(line) not in running or not self._margin(line):
                    kept.append(line)
            kept, notes = footnotes.split(kept)
            cleaned.append(contents([unglue(l, notes) for l in kept], len(self.pages), self.outline, self.toc))
        return back_cover(cleaned)
