"""Geometry for the PDF reader: pypdf's runs made into lines, where each shown
string starts and ends, and tables found from where their cells stand.

pypdf's extractor reports one position per run of text, and decides the spaces
between strings itself: a repositioned string ("St" | Tm | "able") can come out
as "St able", and a gap made by a text position move can come out with no
space ("section128"). Here we follow the pen through the same content stream
(pypdf's visitor_operand_before hands us every operator with the current text
and transformation matrices) and measure the gap between consecutive strings
on one baseline against the font's space width.

This leans on two pypdf internals (Font.from_font_resource, get_text_operands):
if they are missing or fail, no geometry is collected and the text is left as
pypdf extracted it."""

from __future__ import annotations

import collections
import math
import re
from dataclasses import dataclass

try:  # pypdf internals, present in pypdf >= 5
    from pypdf._text_extraction import get_text_operands
    from pypdf.generic._font import Font
except ImportError:  # pragma: no cover - the text is then left as pypdf gives it
    Font = get_text_operands = None  # type: ignore[assignment,misc]

_LETTERS_END = re.compile(r"[^\W\d_]+$")
_LETTERS_START = re.compile(r"^[^\W\d_]+")
_DIGITS_START = re.compile(r"^\d+")
JOIN_BELOW = 0.3  # a gap under this share of a space is no space
SPACE_ABOVE = 0.8  # a gap over this share of a space is one


@dataclass(slots=True)
class Piece:
    text: str
    x0: float
    x1: float
    y: float
    size: float
    space: float  # width of a space in this font, page units
    moved: bool = False  # placed by a positioning operator or a large TJ offset


@dataclass(frozen=True)
class Junction:
    """Two strings printed one after the other on a baseline: `tail` is the
    word ending the first, `head` the letters (or digits) starting the second."""

    tail: str
    head: str
    space: bool  # whether the print shows a space between them
    y: float = 0.0  # the baseline


class Pen:
    """visitor_operand_before for one page: collects a Piece per shown string.
    `cache`, shared by the pages of one document, holds fonts by object number
    and decoded strings by (font, string)."""

    def __init__(self, page, cache: dict | None = None) -> None:
        self.pieces: list[Piece] = []
        self._cache = {} if cache is None else cache
        self.ok = Font is not None
        try:
            self.resources = page["/Resources"].get_object()["/Font"].get_object()
        except Exception:
            self.resources, self.ok = {}, False
        self.font, self.size, self.tc, self.tw, self.tz = None, 0.0, 0.0, 0.0, 1.0
        self.stack: list[tuple] = []
        self.adv = 0.0  # text space advance since the last positioning operator
        self.moved = False

    def _font(self, name):
        try:
            ref = self.resources.raw_get(name)
            key = getattr(ref, "idnum", None) or id(ref)
            if key not in self._cache:
                self._cache[key] = Font.from_font_resource(ref.get_object())
            return self._cache[key]
        except Exception:
            return None

    def __call__(self, op: bytes, args: list, cm: list, tm: list) -> None:
        if not self.ok:
            return
        try:
            self._op(op, args, cm, tm)
        except Exception:  # geometry is a help, never a reason to fail
            self.ok, self.pieces = False, []

    def _op(self, op: bytes, args: list, cm: list, tm: list) -> None:
        if op == b"TJ" and args:  # (the commonest first)
            for item in args[0]:
                if isinstance(item, (int, float)):
                    self.adv -= float(item) / 1000 * self.size * self.tz
                    self.moved = self.moved or abs(item) >= 100
                else:
                    self._show(item, cm, tm)
        elif op == b"Tj" and args:
            self._show(args[0], cm, tm)
        elif op in (b"BT", b"Tm", b"Td", b"TD", b"T*"):
            self.adv, self.moved = 0.0, True
        elif op == b"q":
            self.stack.append((self.font, self.size, self.tc, self.tw, self.tz))
        elif op == b"Q" and self.stack:
            self.font, self.size, self.tc, self.tw, self.tz = self.stack.pop()
        elif op == b"Tf" and len(args) >= 2:
            self.font, self.size = self._font(args[0]), float(args[1])
        elif op == b"Tc" and args:
            self.tc = float(args[0])
        elif op == b"Tw" and args:
            self.tw = float(args[0])
        elif op == b"Tz" and args:
            self.tz = float(args[0]) / 100
        elif op in (b"'", b'"'):
            self.adv, self.font = 0.0, None  # (position after the implied T* unknown: skip)

    def _show(self, operand, cm: list, tm: list) -> None:
        font = self.font
        if font is None or not self.size or tm[1] or tm[2] or cm[1] or cm[2]:  # (rotated: skip)
            return
        key = (id(font), operand)
        shown = self._cache.get(key)
        if shown is None:
            raw, _, widths = get_text_operands([operand], cm, tm, font, (0,))
            text = "".join(font.character_map.get(c, c) for c in raw)
            shown = self._cache[key] = (text, widths / 1000, len(raw), raw.count(" "))
        text, width, count, spaces = shown
        if not text:
            return
        start = self.adv
        self.adv += (width * self.size + self.tc * count + self.tw * spaces) * self.tz
        # (not rotated: x = (adv·tm0 + tm4)·cm0 + cm4, y = tm5·cm3 + cm5)
        x0, x1 = (start * tm[0] + tm[4]) * cm[0] + cm[4], (self.adv * tm[0] + tm[4]) * cm[0] + cm[4]
        size = abs(self.size * tm[3] * cm[3])
        space = font.space_width / 1000 * size if font.space_width else 0.25 * size
        self.pieces.append(Piece(text, x0, x1, tm[5] * cm[3] + cm[5], size, space, self.moved))
        self.moved = False


def junctions(pieces: list[Piece]) -> list[Junction]:
    """Where consecutive strings on one baseline meet inside letters (or a word
    and a number): whether the print shows a space there. `tail` and `head`
    are the whole words either side, so the junction names one place."""
    found: list[Junction] = []
    line = ""
    for k, (a, b) in enumerate(zip(pieces, pieces[1:])):
        line += a.text
        if not _same_line(a, b):
            line = ""
            continue
        if not a.text or not b.text or a.text[-1].isspace() or b.text[0].isspace():
            continue
        gap = (b.x0 - a.x1) / (a.space or 1)
        if JOIN_BELOW <= gap <= SPACE_ABOVE or (gap < JOIN_BELOW and not b.moved):
            continue  # (pypdf adds a space only where a string was moved)
        tail = _LETTERS_END.search(line[-40:])
        head = _LETTERS_START.match(b.text) or _DIGITS_START.match(b.text)
        if not tail or not head:
            continue
        rest, c = b.text, b  # the head word may go on in the next strings
        for d in pieces[k + 2:k + 12]:
            if head.end() < len(rest) or not _same_line(c, d) or d.text[:1].isspace():
                break
            rest, c = rest + d.text, d
            head = _LETTERS_START.match(rest) or _DIGITS_START.match(rest)
        found.append(Junction(tail.group(), head.group(), gap > SPACE_ABOVE, b.y))
    return found


def _same_line(a: Piece, b: Piece) -> bool:
    return abs(a.y - b.y) < 0.5 and abs(a.size - b.size) < 0.1 * a.size and b.x0 > a.x0


def respace(text: str, found: list[Junction]) -> str:
    """Apply the junctions to a line of pypdf's text: drop a space pypdf put
    where the print has none ("St able" -> "Stable"), add one it left out
    ("section128" -> "section 128")."""
    for j in found:
        if (j.tail + j.head if j.space else f"{j.tail} {j.head}") not in text:
            continue
        tail, head = re.escape(j.tail), re.escape(j.head)
        if j.space:
            text = re.sub(rf"(?<![^\W_]){tail}(?={head}(?![^\W_]))", rf"{j.tail} ", text, count=1)
        else:
            text = re.sub(rf"(?<![^\W\d_]){tail} (?={head}(?![^\W\d_]))", j.tail, text, count=1)
    return text


# -- tables ---------------------------------------------------------------------
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


# -- pypdf's runs and lines ---------------------------------------------------

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
