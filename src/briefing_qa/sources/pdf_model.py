"""What the PDF reader's stages hand each other: headings placed on pages,
blocks of lines, the page's measures (body font size, left margin, a full
line's length) and the text tests and normalisation they share."""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field

from .pdf_layout import Line

CONTENTS = re.compile(r"\s*(table of )?contents\s*", re.IGNORECASE)
BULLET = re.compile(r"^\s*(?:[•▪◦●■∙\uf0a7\uf0b7\uf0d8\uf076\uf0fc]|o(?=\s))\s*")
ENDS = re.compile(r"[.?!:;][\"'’”)\]]*\s*$")
_HYPHEN_END = re.compile(r"[^\W\d_]-$")


@dataclass
class Heading:
    page: int
    title: str
    level: int


@dataclass
class Block:
    type: str  # "paragraph", "list" or "table"
    entries: list[list[Line]] = field(default_factory=list)  # a list's: lead-in, then items


@dataclass(frozen=True)
class Measures:
    body: float  # the body text's font size
    left: float  # left margin
    full: int  # characters in a full line

    @classmethod
    def of(cls, pages: list[list[Line]]) -> Measures:
        sizes = collections.Counter()
        for line in (l for ls in pages for l in ls):
            sizes[round(line.size)] += len(line.text.strip())
        body = sizes.most_common(1)[0][0]
        main = [l for ls in pages for l in ls if not l.blank and abs(l.size - body) < 1]
        left = collections.Counter(round(l.x) for l in main).most_common(1)[0][0]
        lengths = sorted(len(l.text.strip()) for l in main)
        return cls(body, left, lengths[int(0.9 * (len(lengths) - 1))])

    def styled(self, line: Line) -> bool:
        return line.bold or line.size >= self.body + 1.5

    def short(self, line: Line) -> bool:
        return len(line.text.strip()) < 0.75 * self.full


def norm(text: str, digits: bool = True) -> str:
    return re.sub(r"[^a-z0-9]" if digits else r"[^a-z]", "", text.casefold())


def glue(text: str, piece: str) -> str:
    """What joins two lines of a paragraph: a space, or nothing after a word
    hyphenated at the end of the line ("well-" / "being")."""
    return "" if _HYPHEN_END.search(text) and piece[:1].isalnum() else " "
