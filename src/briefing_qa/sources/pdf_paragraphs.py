"""Paragraph assembly for the PDF reader: the cleaned lines, with the headings
placed among them, made into paragraphs, lists and tables (also across page
breaks), and each block's text."""

from __future__ import annotations

import collections
import re

from ..structure import clean_inline
from .pdf_layout import Line
from .pdf_model import BULLET, ENDS, Block, Heading, Measures, glue

_LETTERED = re.compile(r"^\s*(?:\(?[a-z]{1,2}\)|[a-z]\.|\(?[ivx]{1,4}[.)]|\(\d{1,2}\))\s")
_PARA_NO = re.compile(r"^\s*\d{1,3}\.\s")
_CAPTION = re.compile(r"^\s*(?:table|figure|chart)\b", re.IGNORECASE)


class Paragraphs:
    def __init__(self, pages: list[list[Line]], measures: Measures):
        self.pages, self.m = pages, measures

    def _gap(self, lines: list[Line]) -> float:
        """Usual distance between the lines of a paragraph on this page."""
        body = [l for l in lines if not l.blank and abs(l.size - self.m.body) < 1]
        gaps = collections.Counter(round(a.y - b.y) for a, b in zip(body, body[1:]) if 0 < a.y - b.y < 3 * self.m.body)
        return gaps.most_common(1)[0][0] if gaps else 1.5 * self.m.body

    def _is_item(self, line: Line, prev: Line | None, block: Block | None, blank: bool) -> bool:
        if BULLET.match(line.text):  # ("o" is a bullet only when indented)
            return not line.text.lstrip().startswith("o") or line.x > self.m.left + 5
        return bool(_LETTERED.match(line.text)) and (
            blank or prev is None or (block is not None and block.type == "list") or bool(ENDS.search(prev.text)))

    def _relation(self, block: Block, a: Line, b: Line, blank: bool, gap: float) -> str:
        """How line b follows line a: "same" entry, new "item" of the list, or "new" block."""
        if self._is_item(b, a, block, blank):
            return "item" if block.type == "list" else "new"
        ends, lower = bool(ENDS.search(a.text)), b.text.lstrip()[:1].islower()
        broken = blank or a.y - b.y > 1.3 * gap * max(1.0, a.size / self.m.body) or b.y > a.y + 1
        if block.type == "list":  # the item goes on if indented like its text (or past its
            item = block.entries[-1]  # bullet), or level with the bullet while its sentence goes on
            same = abs(b.x - item[1].x) < 3 if len(item) > 1 else b.x > item[0].x + 3
            same = same or (abs(b.x - item[0].x) < 2 and not ends and (a.page != b.page or not broken))
            return "same" if same else "new"
        short, styled = self.m.short, self.m.styled
        if a.page != b.page:  # a paragraph running on to the next page
            if _PARA_NO.match(b.text) or styled(a) != styled(b):
                return "new"
            return "same" if (not ends and not short(a)) or lower else "new"
        if abs(a.size - b.size) >= 1.5 or a.bold != b.bold and short(a if a.bold else b) and not lower:
            return "new"  # a heading-like line of its own
        if broken and (blank or b.y > a.y or ends or short(a) or _PARA_NO.match(b.text)):
            return "new"  # (a wider gap after a full line that ends mid-sentence is no break)
        return "new" if ends and (short(a) or _PARA_NO.match(b.text)) else "same"

    def blocks(self, items: list) -> list:
        out: list = []
        block, prev, blank, gap, page = None, None, False, 0.0, 0
        for item in items:
            if isinstance(item, Heading):
                out.append(item)
                block, prev, blank = None, None, False
                continue
            if item.page != page:
                page, gap = item.page, self._gap(self.pages[item.page - 1])
            if item.blank:
                blank = True
                continue
            if item.table:
                _table(out, item, prev)
                block, prev, blank = None, item, False
                continue
            how = self._relation(block, prev, item, blank, gap) if block else "new"
            if how == "same":
                block.entries[-1].append(item)
            elif how == "item":
                block.entries.append([item])
            elif self._is_item(item, prev, block, blank):
                lead = out[-1] if out and isinstance(out[-1], Block) else None
                if lead and lead.type == "paragraph" and lead.entries[0][-1].text.rstrip().endswith(":"):
                    lead.type = "list"  # the lead-in goes with its items
                    lead.entries.append([item])
                    block = lead
                else:
                    block = Block("list", [[item]])
                    out.append(block)
            else:
                block = Block("paragraph", [[item]])
                out.append(block)
            prev, blank = item, False
        return _plain_lists(out, self.m.full)


def _plain_lists(out: list, full: int) -> list:
    """Items without bullets after a lead-in ending in ":" join it as one list:
    two or more paragraphs indented past the lead-in, all at one x
    ("content: being exposed …" / "contact: …"), or a paragraph of short
    lines at one x, none ending a sentence but the last."""
    result: list = []
    i = 0
    while i < len(out):
        lead = out[i]
        result.append(lead)
        i += 1
        if not (isinstance(lead, Block) and lead.type == "paragraph"
                and lead.entries[-1][-1].text.rstrip().endswith(":")):
            continue
        items, j = [], i
        while j < len(out) and isinstance(out[j], Block) and out[j].type == "paragraph":
            x = out[j].entries[0][0].x
            if x < lead.entries[0][0].x + 10 or items and abs(x - items[0][0].x) > 2:
                break
            items += out[j].entries
            j += 1
        nxt = out[i] if i < len(out) and isinstance(out[i], Block) and out[i].type == "paragraph" else None
        lines = nxt.entries[0] if nxt else []
        if len(items) >= 2:
            lead.type, i = "list", j
            lead.entries += items
        elif len(lines) >= 2 and not any(ENDS.search(l.text) for l in lines[:-1]) and all(
                len(l.text.strip()) < 0.6 * full and abs(l.x - lines[0].x) < 2 for l in lines):
            lead.type, i = "list", i + 1
            lead.entries += [[l] for l in lines]
    return result


def _table(out: list, line: Line, prev: Line | None) -> None:
    """A table goes on from the last page's, or takes the paragraph before it
    as its caption ("Table 2: …", or a single line ending in ":")."""
    lead = out[-1] if out and isinstance(out[-1], Block) else None
    if lead and lead.type == "table" and prev is not None and prev.table and prev.page != line.page:
        lead.entries.append([line])
    elif lead and lead.type == "paragraph" and len(lead.entries[0]) <= 2 and (
            _CAPTION.match(lead.entries[0][0].text) or len(lead.entries[0]) == 1
            and lead.entries[0][0].text.rstrip().endswith(":")):
        lead.type = "table"
        lead.entries.append([line])
    else:
        out.append(Block("table", [[line]]))


def render(block: Block) -> tuple[str, list[tuple[int, int]]]:
    """The block's text and, for each later page it runs on to, where that page starts in it."""
    text, marks, page = "", [], block.entries[0][0].page
    bullets = [e[0].x for e in block.entries if block.type == "list" and BULLET.match(e[0].text)]
    for k, entry in enumerate(block.entries):
        text += "\n" if k else ""
        for n, line in enumerate(entry):
            piece = "\n".join(map(clean_inline, line.text.split("\n"))) if line.table else clean_inline(line.text)
            if n == 0 and block.type == "list" and BULLET.match(line.text):
                # a second-level item (its bullet further in) is indented by two spaces
                piece = ("  " if line.x > min(bullets) + 8 else "") + BULLET.sub("• ", piece, count=1)
            text += glue(text, piece) if n and piece else ""
            if line.page != page:
                marks.append((line.page, len(text)))
                page = line.page
            text += piece
    return text, marks
