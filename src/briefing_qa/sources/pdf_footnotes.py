"""Footnotes in a PDF: the notes at the foot of a page are dropped, and their
markers taken out of the text they were glued to."""

from __future__ import annotations

import re

from .pdf_layout import Line
from .pdf_model import BULLET

# Footnote markers pypdf glued to the text: after a word or punctuation
# ("framework1", "child2and", "amended).3") but not inside numbers ("1.2",
# "400,000") or codes ("S2S", "COVID-19"); set off by a space after a clause
# ("will: 111"); or after a year ("Act 199823").
_GLUED = re.compile(r"(?:(?<=[A-Za-z]{2})|(?<=[).,;:’”'\"\]]))(?<!\d[.,])(\d{1,3})(?!\d)")
_SPACED = re.compile(r"(?<=[.:;)’”] )(\d{1,3})(?=\s|$)")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(\d{1,3})(?!\d)")


class Footnotes:
    """Finds each page's footnotes, the pages taken in order."""

    def __init__(self, body: float):
        self.body = body  # the body text's font size
        self.carry = False  # the last page had footnotes

    def split(self, lines: list[Line]) -> tuple[list[Line], set[int]]:
        """Footnotes: small-font lines at the foot of the page, one of them at
        least starting with a (smaller still) number. Returns those numbers."""
        zone, numbers, above = [], set(), None
        for line in sorted((l for l in lines if not l.blank), key=lambda l: l.y):
            # (a bullet's run may be small too: pypdf reports one size for the run)
            if line.size >= 0.92 * self.body or BULLET.match(line.text) or (
                    above is not None and line.y - above > 3 * self.body):
                break
            zone.append(line)
            above = line.y
            m = re.match(r"\s*(\d{1,3}|[ivx]{1,5}\.)\D", line.text)
            if m and line.lead <= 0.8 * self.body:
                numbers.add(int(m.group(1)) if m.group(1).isdigit() else 0)
        # A page's foot without a numbered note may hold the rest of the last page's.
        self.carry, carried = bool(numbers), self.carry and bool(zone)
        if not numbers and not carried:
            return lines, set()
        return [l for l in lines if all(l is not z for z in zone)], numbers


def unglue(line: Line, notes: set[int]) -> Line:
    """Remove the markers of this page's footnotes that pypdf glued to the text."""
    if not notes or line.blank:
        return line

    def cut(m: re.Match) -> str:
        digits = m.group(1)
        for k in range(len(digits), 0, -1):  # "amended).316-19": note 3, then "16-19"
            if int(digits[:k]) in notes:
                rest = digits[k:] + m.string[m.end():m.end() + 1]
                return (" " if rest[:1].isalnum() else "") + digits[k:]
        return digits

    text = _GLUED.sub(cut, line.text)
    text = _SPACED.sub(lambda m: "" if int(m.group(1)) in notes else m.group(1), text)
    line.text = _YEAR.sub(lambda m: m.group(1) if int(m.group(2)) in notes else m.group(0), text)
    return line
