"""Geometry for the PDF reader: pypdf's runs made into lines, with the spaces
and words as printed (where each string is printed comes from pdf_pen).
Tables are found in pdf_tables."""

from __future__ import annotations

import collections
import math
import re
from dataclasses import dataclass

from .pdf_pen import Junction, Pen, Piece, respace

BOLD = re.compile(r"bold|black|heavy|semibold", re.IGNORECASE)
MARKER = re.compile(r"\s*\d{1,3}(?:[,–-]\d{1,3})*")  # "3", "4,5"


@dataclass
class Line:
    page: int
    text: str
    size: float = 0.0  # the font size most of its characters have
    lead: float = 0.0  # size of its first run: a footnote starts with a small number
    x: float = 0.0
    y: float = 0.0
    bold: bool = False
    table: bool = False  # a whole table: rows on lines, cells between " | "

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def page_runs(page, cache: dict | None = None) -> tuple[list[tuple], list[Piece]]:
    """(text, font size, x, y, bold) of each run pypdf's extractor emits (the
    texts joined are exactly extract_text()'s output, lines ending in "\\n"),
    and where each string is printed."""
    runs: list[tuple] = []

    def visit(text, cm, tm, font, size) -> None:
        if text:  # position and vertical scale of tm × cm
            x, y = tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
            bold = bool(BOLD.search(str((font or {}).get("/BaseFont", ""))))
            runs.append((text, abs(size or 0) * scale, x, y, bold))

    pen = Pen(page, cache)
    page.extract_text(visitor_text=visit, visitor_operand_before=pen)
    return runs, pen.pieces


def page_lines(runs: list[tuple], found: list[Junction], page: int) -> list[Line]:
    rows, row = [], []
    for run in runs:
        for i, part in enumerate(run[0].split("\n")):
            if i:
                rows.append(row)
                row = []
            if part:
                row.append((part, *run[1:]))
    by_y = collections.defaultdict(list)  # junctions by baseline
    for j in found:
        by_y[round(j.y)].append(j)
    rows = rejoin_words([*rows, row], by_y)
    lines = [_line(r, page) for r in rows]
    for r, line in zip(rows, lines):  # spaces as printed: a junction is on its baseline
        here = [j for y in {round(run[3]) for run in r} for j in by_y.get(y, ())]
        if here and not line.blank:
            line.text = respace(line.text, here)
    return lines


def rejoin_words(rows: list[list[tuple]], by_y: dict[int, list[Junction]]) -> list[list[tuple]]:
    """Put back together a word pypdf broke over two lines ("A c" / "hild or"):
    the print shows its two halves touching on one baseline."""
    out: list[list[tuple]] = []
    for row in rows:
        prev = out[-1] if out else None
        if prev and row and row[0][0][:1].isalpha():
            text = "".join(r[0] for r in prev).rstrip()
            here = [j for y in {round(r[3]) for r in prev + row} for j in by_y.get(y, ()) if not j.space]
            if text[-1:].isalpha() and any(
                    text.endswith(j.tail) and not text[-len(j.tail) - 1:-len(j.tail)].isalpha()
                    and re.match(rf"{re.escape(j.head)}(?![^\W\d_])", row[0][0]) for j in here):
                out[-1] = [*prev[:-1], (prev[-1][0].rstrip(), *prev[-1][1:]), *row]
                continue
        out.append(row)
    return out


def _line(runs: list[tuple], page: int) -> Line:
    visible = [r for r in runs if r[0].strip()]
    if not visible:
        return Line(page, "")
    first = visible[0]
    base = max(r[1] for r in visible if abs(r[3] - first[3]) < 1)  # font size on the baseline
    fixed, weight = [], collections.Counter()
    for run in runs:
        text, size, _, y, bold = run
        m = MARKER.match(text)
        # A superscript footnote marker: pypdf hands it over as its own small
        # run, or as the start of a small raised run holding the text after it
        # (pypdf reports one size and position per run).
        if run is not first and m and size < 0.8 * base and (m.end() == len(text.rstrip()) or y > first[3] + 1):
            text, size = "\0" + text[m.end():], base
        fixed.append((text, bold))
        weight[round(size, 1)] += len(text.strip("\0 \t"))
    text = re.sub(r"(?<=\w)\0+(?=\w)", " ", "".join(r[0] for r in fixed)).replace("\0", "")
    bold = sum(len(t.strip("\0 ")) for t, b in fixed if b) >= 0.85 * sum(weight.values())
    return Line(page, text, weight.most_common(1)[0][0], first[1], first[2], first[3], bold)
