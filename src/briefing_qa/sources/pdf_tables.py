"""Tables for the PDF reader, found from where their cells stand, and put in
place of the lines pypdf made of them."""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass

from .pdf_layout import Line
from .pdf_pen import SPACE_ABOVE, Piece

# A table is told by its cells: on each of several consecutive printed lines,
# strings stand apart by more than a few spaces at x positions the lines
# share. A list's bullet or number standing off its text is no cell.
_MARKER_CELL = re.compile(r"^(?:[•▪◦●■∙o\uf0a7\uf0b7\uf0d8\uf076\uf0fc-]|\(?[a-z0-9]{1,3}[.)])$")
CELL_GAP = 3.0  # spaces between two cells of a line, at least (justified text has 2)
COLUMN = 4.0  # page units within which cells start in one column


@dataclass(slots=True)
class Cell:
    x0: float
    x1: float
    text: str


@dataclass(slots=True)
class Row:
    y: float
    size: float
    cells: list[Cell]
    low: float = 0.0  # the lowest baseline, when cells print a little apart

    def __post_init__(self) -> None:
        self.low = self.low or self.y


@dataclass
class Table:
    top: float  # baseline of the first printed line
    bottom: float  # baseline of the last
    rows: list[list[str]]  # cells of each row

    @property
    def text(self) -> str:
        """Rows on lines of their own, cells separated by " | " as the HTML reader
    does (trailing empty cells left out)."""
        rows = [row[:max((k + 1 for k, c in enumerate(row) if c), default=0)] for row in self.rows]
        return "\n".join(" | ".join(row) for row in rows if row)


def printed_lines(pieces: list[Piece]) -> list[Row]:
    """The page's printed lines from top to bottom, each cut into cells where
    its strings stand apart; small raised numbers (footnote markers) dropped."""
    rows: list[Row] = []
    group: list[Piece] = []
    for p in sorted((p for p in pieces if p.text.strip()), key=lambda p: -p.y):
        if group and group[0].y - p.y > 0.5 * max(group[0].size, p.size):
            rows.append(_row(group))
            group = []
        group.append(p)
    if group:
        rows.append(_row(group))
    # Cells centred in their row print on baselines a little apart: one line.
    out: list[Row] = []
    for row in rows:
        last = out[-1] if out else None
        if last and last.y - row.y < 0.8 * max(last.size, row.size) and not any(
                a.x0 < b.x1 and b.x0 < a.x1 for a in last.cells for b in row.cells):
            last.cells, last.low = sorted(last.cells + row.cells, key=lambda c: c.x0), row.low
        else:
            out.append(row)
    return out


def _row(group: list[Piece]) -> Row:
    size = max(p.size for p in group)
    base = min((p for p in group if p.size == size), key=lambda p: p.y)
    cells: list[Cell] = []
    for p in sorted(group, key=lambda p: p.x0):
        last = cells[-1] if cells else None
        if p.size < 0.8 * size and p.text.strip().isdigit():
            if last:  # a footnote marker: it keeps the cell going
                last.x1 = max(last.x1, p.x1)
            continue
        gap = p.x0 - last.x1 if last else 0.0
        if last and gap < CELL_GAP * p.space:
            spaced = gap > SPACE_ABOVE * p.space and not last.text[-1:].isspace() and not p.text[:1].isspace()
            last.text += (" " if spaced else "") + p.text
            last.x1 = max(last.x1, p.x1)
        elif last and _MARKER_CELL.match(last.text.strip()):
            last.text, last.x1 = f"{last.text.strip()} {p.text.lstrip()}", p.x1
        else:
            cells.append(Cell(p.x0, p.x1, p.text))
    for c in cells:
        c.text = re.sub(r"\s+", " ", c.text).strip()
    return Row(base.y, size, [c for c in cells if c.text])


def find_tables(rows: list[Row], min_rows: int = 3) -> list[Table]:
    """Runs of printed lines whose cells start at shared x positions: at least
    `min_rows` lines with two cells or more, the others continuing a cell
    (starting at a column, or inside one past the first)."""
    tables: list[Table] = []
    i, done = 0, 0
    while i < len(rows):
        if len(rows[i].cells) < 2:
            i += 1
            continue
        cols = [c.x0 for c in rows[i].cells]
        j, multi = i + 1, 1
        while j < len(rows) and _near(rows[j - 1], rows[j]) and _fits(rows[j], cols):
            if len(rows[j].cells) >= 2:
                cols = sorted({*cols, *(c.x0 for c in rows[j].cells)})  # a column may start lower down
            multi += len(rows[j].cells) >= 2
            j += 1
        if multi >= min_rows:
            while i > done and _near(rows[i - 1], rows[i]) and _fits(rows[i - 1], cols):
                i -= 1  # the lines of a cell going on from the last page
            tables.append(_table(rows[i:j], cols))
            i = done = j
        else:
            i += 1
    return tables


def _near(a: Row, b: Row) -> bool:
    return a.y - b.y < 3 * b.size


def _fits(row: Row, cols: list[float]) -> bool:
    starts = [c.x0 for c in row.cells]
    if all(any(abs(x - c) < COLUMN for c in cols) for x in starts):
        return True
    if len(starts) == 1:  # indented inside a column other than the first
        return any(c - COLUMN < starts[0] for c in sorted(cols)[1:])
    return any(abs(x - c) < COLUMN for x in starts for c in cols)


def _table(lines: list[Row], cols: list[float]) -> Table:
    """Rows: lines no further apart than the lines of a cell hold together; a
    group of them without a first cell (a paragraph more in the cells of the
    row above) joins the row above. A first cell printed centred in its row
    starts lower than the others, but in the same group."""
    cols = sorted(cols)
    cols = [c for k, c in enumerate(cols) if not k or c - cols[k - 1] >= COLUMN]
    gaps = collections.Counter(round(a.y - b.y) for a, b in zip(lines, lines[1:]))
    size = max(line.size for line in lines)  # (a table of one-line rows has no line gap)
    line_gap = min(gaps.most_common(1)[0][0], 1.45 * size) if gaps else size
    rows: list[list[str]] = []
    group: list[str] = []
    for k, line in enumerate(lines):
        if k and lines[k - 1].y - line.y > line_gap + 1.5:
            _close(rows, group)
            group = []
        cells = [""] * len(cols)
        for c in line.cells:
            at = min(range(len(cols)), key=lambda n: abs(cols[n] - c.x0))
            cells[at] = f"{cells[at]} {c.text}".strip()
        group = [f"{a} {b}".strip() for a, b in zip(group, cells)] if group else cells
    _close(rows, group)
    return Table(lines[0].y, min(line.low for line in lines), rows)


def _close(rows: list[list[str]], group: list[str]) -> None:
    if rows and group and not group[0]:
        rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], group)]
    elif group:
        rows.append(group)



def table_lines(lines: list[Line], pieces: list[Piece], body: float) -> list[Line]:
    """Replace the lines of each table on the page by one line holding it.
    Only printed lines that survived the clean-up count (no contents page,
    running header or footnote makes a table)."""
    ys = sorted(l.y for l in lines if not l.blank)
    if len(ys) < 3 or not pieces:
        return lines
    rows = [r for r in printed_lines(pieces) if any(r.low - 1.2 * r.size < y < r.y + 1.2 * r.size for y in ys)]
    for table in find_tables(rows):
        inside = {i for i, l in enumerate(lines) if not l.blank and table.bottom - 2 < l.y < table.top + 2}
        if not inside:
            continue
        first = lines[min(inside)]
        line = Line(first.page, table.text, body, first.x, table.top, table=True)
        lines = [*lines[:min(inside)], line, *(l for i, l in enumerate(lines) if i > min(inside) and i not in inside)]
    return lines
