"""Where each shown string starts and ends, for the PDF reader's lines
(pdf_layout) and tables (pdf_tables).

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

