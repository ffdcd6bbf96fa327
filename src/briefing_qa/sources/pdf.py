"""PDF reader: turns a PDF into sections and blocks through DocumentBuilder.

pypdf's text extraction with a visitor gives the font size, position and font
of each text run, and (pdf_pen.Pen) where each string is printed. With that
we space words as printed, drop page numbers, running headers, contents pages,
footnotes and the publisher's back cover, strip superscript footnote markers,
rebuild paragraphs, lists (nested ones indented, bulletless ones kept with
their lead-in) and tables (a row a line, cells between " | "), also across
page breaks, and open sections where the outline's bookmarks (or, without an
outline, the contents pages) put the headings. A page pypdf cannot read is
skipped with a warning."""

from __future__ import annotations

import collections
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pypdf

from ..errors import SourceError
from ..structure import DocumentBuilder, clean_inline
from .pdf_layout import MARKER, Line, page_lines, page_runs
from .pdf_pen import Piece, junctions
from .pdf_tables import find_tables, printed_lines

log = logging.getLogger(__name__)

# Footnote markers pypdf glued to the text: after a word or punctuation
# ("framework1", "child2and", "amended).3") but not inside numbers ("1.2",
# "400,000") or codes ("S2S", "COVID-19"); set off by a space after a clause
# ("will: 111"); or after a year ("Act 199823").
_GLUED = re.compile(r"(?:(?<=[A-Za-z]{2})|(?<=[).,;:’”'\"\]]))(?<!\d[.,])(\d{1,3})(?!\d)")
_SPACED = re.compile(r"(?<=[.:;)’”] )(\d{1,3})(?=\s|$)")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(\d{1,3})(?!\d)")
_PAGE_NO = re.compile(r"\s*(?:page\s+)?\d{1,4}(?:\s+of\s+\d{1,4})?\s*", re.IGNORECASE)
_TOC = re.compile(r"\s*(?:(?P<title>.*?\S)[\s.…·_]+)?(?P<num>\d{1,3})\s*")
_CONTENTS = re.compile(r"\s*(table of )?contents\s*", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[•▪◦●■∙\uf0a7\uf0b7\uf0d8\uf076\uf0fc]|o(?=\s))\s*")
_LETTERED = re.compile(r"^\s*(?:\(?[a-z]{1,2}\)|[a-z]\.|\(?[ivx]{1,4}[.)]|\(\d{1,2}\))\s")
_PARA_NO = re.compile(r"^\s*\d{1,3}\.\s")
_ENDS = re.compile(r"[.?!:;][\"'’”)\]]*\s*$")
_HYPHEN_END = re.compile(r"[^\W\d_]-$")
_CROWN = re.compile(r"\s*©\s*crown copyright\b.*", re.IGNORECASE)
_CAPTION = re.compile(r"^\s*(?:table|figure|chart)\b", re.IGNORECASE)


@dataclass
class _Heading:
    page: int
    title: str
    level: int


@dataclass
class _Block:
    type: str  # "paragraph", "list" or "table"
    entries: list[list[Line]] = field(default_factory=list)  # a list's: lead-in, then items


def read_pdf(path: Path) -> DocumentBuilder:
    """Read one PDF. Raises SourceError if it cannot be read or has no text."""
    path = Path(path)
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not _decrypt(reader):
            raise SourceError(str(path), "encrypted PDF")
        count = len(reader.pages)
    except SourceError:
        raise
    except Exception as exc:  # pypdf raises many types (and some plain ones) for damaged files
        raise SourceError(str(path), f"not a readable PDF: {exc}") from exc
    pages, pieces, heights, skipped, error, cache = [], [], [], [], None, {}
    for n in range(1, count + 1):
        try:  # a damaged page is skipped, the rest of the document still read
            page = reader.pages[n - 1]
            runs, printed = page_runs(page, cache)
            lines, height = page_lines(runs, junctions(printed), n), float(page.mediabox.height)
        except Exception as exc:
            lines, printed, height, error = [], [], 842.0, exc
            skipped.append(n)
        pages.append(lines)
        pieces.append(printed)
        heights.append(height)
    if len(skipped) == count:
        raise SourceError(str(path), f"not a readable PDF: {error}")
    if skipped:
        log.warning("%s: skipped unreadable page(s) %s (%s)", path.name, ", ".join(map(str, skipped)), error)
    try:
        outline, title = _outline(reader), _meta_title(reader)
    except Exception:
        outline, title = [], None
    if sum(len(line.text.strip()) for lines in pages for line in lines) < 20:
        raise SourceError(str(path), "no extractable text (scanned?)")
    return _Reader(pages, heights, outline, title, pieces).build()


def _decrypt(reader: pypdf.PdfReader) -> bool:
    """An encrypted PDF with an empty user password is still readable."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the cryptography package
        return False


def _meta_title(reader: pypdf.PdfReader) -> str | None:
    try:
        title = clean_inline(str((reader.metadata or {}).get("/Title") or ""))
    except Exception:
        return None
    # Word often leaves "Microsoft Word - file.docx" here, which is no title.
    return None if not title or re.search(r"^microsoft word|\.docx?$", title, re.IGNORECASE) else title


def _outline(reader: pypdf.PdfReader) -> list[_Heading]:
    """Bookmarks in order, their level from the nesting."""
    found: list[_Heading] = []

    def walk(items: list, level: int) -> None:
        lifted = False
        for k, item in enumerate(items):
            if isinstance(item, list):
                walk(item, level if lifted else level + 1)
                lifted = False
                continue
            # Word appends footnote anchors to bookmark titles: "Contractors94F".
            title = clean_inline(re.sub(r"(\s*\d+F)+\s*$", "", str(item.title or "")))
            if _CONTENTS.fullmatch(title) and k + 1 < len(items) and isinstance(items[k + 1], list):
                # A "Table of contents" bookmark holding an annex's sections
                # (KCSIE Annex B) is no section: "Annex B › Table of contents ›
                # Cybercrime" would cite a contents list. Its children move up.
                lifted = True
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a bookmark to nowhere
                continue
            if title and page is not None and page >= 0:
                found.append(_Heading(page + 1, title, level))

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline leaves the text readable
        pass
    return found


def _norm(text: str, digits: bool = True) -> str:
    return re.sub(r"[^a-z0-9]" if digits else r"[^a-z]", "", text.casefold())


def _glue(text: str, piece: str) -> str:
    """What joins two lines of a paragraph: a space, or nothing after a word
    hyphenated at the end of the line ("well-" / "being")."""
    return "" if _HYPHEN_END.search(text) and piece[:1].isalnum() else " "


class _Reader:
    def __init__(self, pages: list[list[Line]], heights: list[float], outline: list[_Heading], title: str | None,
                 pieces: list[list[Piece]]):
        self.pages, self.heights, self.outline, self.title, self.pieces = pages, heights, outline, title, pieces
        self.tables = 0
        sizes = collections.Counter()
        for line in (l for ls in pages for l in ls):
            sizes[round(line.size)] += len(line.text.strip())
        self.body = sizes.most_common(1)[0][0]  # the body text's font size
        main = [l for ls in pages for l in ls if not l.blank and abs(l.size - self.body) < 1]
        self.left = collections.Counter(round(l.x) for l in main).most_common(1)[0][0]  # left margin
        lengths = sorted(len(l.text.strip()) for l in main)
        self.full = lengths[int(0.9 * (len(lengths) - 1))]  # characters in a full line
        self.labels: dict[int, int] = {}  # printed page number -> physical page
        self.toc: list[tuple] = []  # contents entries (first line, last line, page, title, x)
        self.carry = False  # the last page had footnotes

    # -- page clean-up ------------------------------------------------------
    def _margin(self, line: Line) -> bool:
        return not 0.1 < line.y / self.heights[line.page - 1] < 0.9

    def _clean(self) -> list[list[Line]]:
        # Running headers and footers: the same text (numbers aside) in the margin of many pages.
        key = lambda line: re.sub(r"\d+", "#", line.text.strip())  # noqa: E731
        seen = collections.Counter(k for ls in self.pages for k in {key(l) for l in ls if not l.blank and self._margin(l)})
        running = {k for k, n in seen.items() if n >= max(3, 0.3 * len(self.pages))}
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
            kept, notes = self._footnotes(kept)
            cleaned.append(self._contents([self._unglue(l, notes) for l in kept]))
        return self._back_cover(cleaned)

    @staticmethod
    def _back_cover(pages: list[list[Line]]) -> list[list[Line]]:
        """Drop the publisher's back cover: from "© Crown copyright" on one of the
        last two pages to the end, when the Open Government Licence follows it
        (licence, enquiries, "Follow us on …", "Reference: DfE-…" is no guidance)."""
        for n in range(len(pages) - 1, max(-1, len(pages) - 3), -1):
            for i, line in enumerate(pages[n]):
                rest = " ".join(l.text for ls in [pages[n][i:], *pages[n + 1:]] for l in ls)
                if _CROWN.fullmatch(line.text) and re.search(r"open government licen[cs]e", rest, re.IGNORECASE):
                    return [*pages[:n], pages[n][:i], *([] for _ in pages[n + 1:])]
        return pages

    def _footnotes(self, lines: list[Line]) -> tuple[list[Line], set[int]]:
        """Footnotes: small-font lines at the foot of the page, one of them at
        least starting with a (smaller still) number. Returns those numbers."""
        zone, numbers, above = [], set(), None
        for line in sorted((l for l in lines if not l.blank), key=lambda l: l.y):
            # (a bullet's run may be small too: pypdf reports one size for the run)
            if line.size >= 0.92 * self.body or _BULLET.match(line.text) or (
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

    @staticmethod
    def _unglue(line: Line, notes: set[int]) -> Line:
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

    def _contents(self, lines: list[Line]) -> list[Line]:
        """Drop contents lines: 4+ entries "Title  12" in a row whose page
        numbers never go back (an entry may wrap onto a second line). The
        entries are kept in self.toc: they are the outline when there is none."""
        page = lines[0].page if lines else 0
        runs, run, wrap = [], [], None
        for i, line in enumerate(lines):
            if line.blank:
                continue
            m = _TOC.fullmatch(line.text)
            num = int(m["num"]) if m else -1
            if m and page - 5 <= num <= len(self.pages) + 5 and (not run or num >= run[-1][2]):
                first = i if wrap is None else wrap
                title = " ".join(l.text.strip() for l in lines[first:i] if not l.blank)
                run.append((first, i, num, clean_inline(f"{title} {m['title'] or ''}"), lines[first].x))
                wrap = None
            elif m is None and run and wrap is None:
                wrap = i
            else:
                runs.append(run)
                run, wrap = [], None
                if m and page - 5 <= num <= len(self.pages) + 5:
                    run.append((i, i, num, clean_inline(m["title"] or ""), line.x))
        drop: set[int] = set()
        heads = {_norm(h.title) for h in self.outline if h.page == page}
        for entries in (r for r in [*runs, run] if len(r) >= 4):
            drop.update(range(entries[0][0], entries[-1][1] + 1))
            before = [i for i in range(entries[0][0]) if not lines[i].blank][-1:]
            if before and _CONTENTS.fullmatch(lines[before[0]].text) and _norm(lines[before[0]].text) not in heads:
                drop.add(before[0])  # the "Contents" title, unless a bookmark
            self.toc.extend(entries)
        return [l for i, l in enumerate(lines) if i not in drop]

    # -- tables -------------------------------------------------------------
    def _tables(self, lines: list[Line], pieces: list[Piece]) -> list[Line]:
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
            line = Line(first.page, table.text, self.body, first.x, table.top, table=True)
            lines = [*lines[:min(inside)], line, *(l for i, l in enumerate(lines) if i > min(inside) and i not in inside)]
            self.tables += 1
        return lines

    # -- headings -----------------------------------------------------------
    def _styled(self, line: Line) -> bool:
        return line.bold or line.size >= self.body + 1.5

    def _headings(self) -> list[_Heading]:
        if self.outline:
            return self.outline
        if self.toc:  # levels from the indentation of the contents entries
            xs = sorted({round(e[4] / 6) for e in self.toc})
            return [_Heading(self.labels.get(num, num), title, min(3, xs.index(round(x / 6)) + 1))
                    for _, _, num, title, x in self.toc if title]
        # Neither: lines in a larger font are headings, the larger the higher;
        # a heading's second line has the same size.
        big = sorted({round(l.size) for ls in self.pages for l in ls if l.size >= 1.2 * self.body}, reverse=True)[:3]
        heads, prev = [], None
        for line in (l for ls in self.pages for l in ls if not l.blank):
            if round(line.size) not in big:
                prev = None
            elif prev and prev.page == line.page and round(prev.size) == round(line.size):
                heads[-1].title += " " + line.text.strip()
            else:
                heads.append(_Heading(line.page, line.text.strip(), big.index(round(line.size)) + 1))
                prev = line
        return heads

    def _find(self, lines: list[Line], start: int, title: str) -> tuple[int, int, bool] | None:
        """Lines i..j showing this title: styled lines first, then any; exact
        characters first, then ignoring digits (footnote markers, numbering)."""
        for digits in (True, False):
            target = _norm(title, digits)
            for styled in (True, False):
                for i in range(start, len(lines)):
                    if lines[i].blank or _BULLET.match(lines[i].text) or (styled and not self._styled(lines[i])):
                        continue
                    acc = ""
                    for j in range(i, min(i + 4, len(lines))):
                        acc += _norm(lines[j].text, digits)
                        if acc == target and acc:
                            return i, j, digits
                        if not target.startswith(acc):
                            break
        return None

    def _place(self, lines: list[Line], heads: list[_Heading]) -> list:
        """Put this page's headings before the lines showing them (those lines
        become the heading); a heading not found opens where the search is."""
        out, cursor = [], 0
        for head in heads:
            hit = self._find(lines, cursor, head.title)
            if not hit:
                out.append(head)
                continue
            out.extend(lines[cursor:hit[0]])
            text = ""  # as printed, unless it differs in digits (a marker the bookmark lacks)
            for line in lines[hit[0]:hit[1] + 1] if hit[2] else ():
                piece = clean_inline(line.text)
                text += (_glue(text, piece) if text else "") + piece
            out.append(_Heading(head.page, text or head.title, head.level))
            cursor = hit[1] + 1
        return out + lines[cursor:]

    # -- paragraphs and lists -------------------------------------------------
    def _gap(self, lines: list[Line]) -> float:
        """Usual distance between the lines of a paragraph on this page."""
        body = [l for l in lines if not l.blank and abs(l.size - self.body) < 1]
        gaps = collections.Counter(round(a.y - b.y) for a, b in zip(body, body[1:]) if 0 < a.y - b.y < 3 * self.body)
        return gaps.most_common(1)[0][0] if gaps else 1.5 * self.body

    def _is_item(self, line: Line, prev: Line | None, block: _Block | None, blank: bool) -> bool:
        if _BULLET.match(line.text):  # ("o" is a bullet only when indented)
            return not line.text.lstrip().startswith("o") or line.x > self.left + 5
        return bool(_LETTERED.match(line.text)) and (
            blank or prev is None or (block is not None and block.type == "list") or bool(_ENDS.search(prev.text)))

    def _short(self, line: Line) -> bool:
        return len(line.text.strip()) < 0.75 * self.full

    def _relation(self, block: _Block, a: Line, b: Line, blank: bool, gap: float) -> str:
        """How line b follows line a: "same" entry, new "item" of the list, or "new" block."""
        if self._is_item(b, a, block, blank):
            return "item" if block.type == "list" else "new"
        ends, lower = bool(_ENDS.search(a.text)), b.text.lstrip()[:1].islower()
        broken = blank or a.y - b.y > 1.3 * gap * max(1.0, a.size / self.body) or b.y > a.y + 1
        if block.type == "list":  # the item goes on if indented like its text (or past its
            item = block.entries[-1]  # bullet), or level with the bullet while its sentence goes on
            same = abs(b.x - item[1].x) < 3 if len(item) > 1 else b.x > item[0].x + 3
            same = same or (abs(b.x - item[0].x) < 2 and not ends and (a.page != b.page or not broken))
            return "same" if same else "new"
        if a.page != b.page:  # a paragraph running on to the next page
            if _PARA_NO.match(b.text) or self._styled(a) != self._styled(b):
                return "new"
            return "same" if (not ends and not self._short(a)) or lower else "new"
        if abs(a.size - b.size) >= 1.5 or a.bold != b.bold and self._short(a if a.bold else b) and not lower:
            return "new"  # a heading-like line of its own
        if broken and (blank or b.y > a.y or ends or self._short(a) or _PARA_NO.match(b.text)):
            return "new"  # (a wider gap after a full line that ends mid-sentence is no break)
        return "new" if ends and (self._short(a) or _PARA_NO.match(b.text)) else "same"

    def _blocks(self, items: list) -> list:
        out: list = []
        block, prev, blank, gap, page = None, None, False, 0.0, 0
        for item in items:
            if isinstance(item, _Heading):
                out.append(item)
                block, prev, blank = None, None, False
                continue
            if item.page != page:
                page, gap = item.page, self._gap(self.pages[item.page - 1])
            if item.blank:
                blank = True
                continue
            if item.table:
                self._table(out, item, prev)
                block, prev, blank = None, item, False
                continue
            how = self._relation(block, prev, item, blank, gap) if block else "new"
            if how == "same":
                block.entries[-1].append(item)
            elif how == "item":
                block.entries.append([item])
            elif self._is_item(item, prev, block, blank):
                lead = out[-1] if out and isinstance(out[-1], _Block) else None
                if lead and lead.type == "paragraph" and lead.entries[0][-1].text.rstrip().endswith(":"):
                    lead.type = "list"  # the lead-in goes with its items
                    lead.entries.append([item])
                    block = lead
                else:
                    block = _Block("list", [[item]])
                    out.append(block)
            else:
                block = _Block("paragraph", [[item]])
                out.append(block)
            prev, blank = item, False
        return self._plain_lists(out)

    def _plain_lists(self, out: list) -> list:
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
            if not (isinstance(lead, _Block) and lead.type == "paragraph"
                    and lead.entries[-1][-1].text.rstrip().endswith(":")):
                continue
            items, j = [], i
            while j < len(out) and isinstance(out[j], _Block) and out[j].type == "paragraph":
                x = out[j].entries[0][0].x
                if x < lead.entries[0][0].x + 10 or items and abs(x - items[0][0].x) > 2:
                    break
                items += out[j].entries
                j += 1
            nxt = out[i] if i < len(out) and isinstance(out[i], _Block) and out[i].type == "paragraph" else None
            lines = nxt.entries[0] if nxt else []
            if len(items) >= 2:
                lead.type, i = "list", j
                lead.entries += items
            elif len(lines) >= 2 and not any(_ENDS.search(l.text) for l in lines[:-1]) and all(
                    len(l.text.strip()) < 0.6 * self.full and abs(l.x - lines[0].x) < 2 for l in lines):
                lead.type, i = "list", i + 1
                lead.entries += [[l] for l in lines]
        return result

    @staticmethod
    def _table(out: list, line: Line, prev: Line | None) -> None:
        """A table goes on from the last page's, or takes the paragraph before it
        as its caption ("Table 2: …", or a single line ending in ":")."""
        lead = out[-1] if out and isinstance(out[-1], _Block) else None
        if lead and lead.type == "table" and prev is not None and prev.table and prev.page != line.page:
            lead.entries.append([line])
        elif lead and lead.type == "paragraph" and len(lead.entries[0]) <= 2 and (
                _CAPTION.match(lead.entries[0][0].text) or len(lead.entries[0]) == 1
                and lead.entries[0][0].text.rstrip().endswith(":")):
            lead.type = "table"
            lead.entries.append([line])
        else:
            out.append(_Block("table", [[line]]))

    # -- output ---------------------------------------------------------------
    def build(self) -> DocumentBuilder:
        pages = [self._tables(lines, pieces) for lines, pieces in zip(self._clean(), self.pieces)]
        by_page = collections.defaultdict(list)
        for head in self._headings():
            by_page[head.page].append(head)
        blocks = self._blocks([x for n, lines in enumerate(pages, 1) for x in self._place(lines, by_page[n])])
        b = DocumentBuilder()
        b.title = self.title or next((x.title for x in blocks if isinstance(x, _Heading)), None)
        started = 0

        def start(page: int) -> None:
            nonlocal started
            if started < page:
                b.start_page(page)
                started = page

        covers = _title_pages([x for x in blocks if not isinstance(x, _Heading)], len(self.pages))
        for block in blocks:
            if isinstance(block, _Heading):
                start(block.page)
                b.heading(block.title, block.level)
                continue
            text, marks = _render(block)
            start(block.entries[0][0].page)
            kind = "cover" if block.entries[0][0].page in covers and not marks else block.type
            # A paragraph running on to later pages starts them inside itself.
            if b.add(kind, text, page_breaks=marks) is not None and marks:
                started = max(started, marks[-1][0])
        start(len(self.pages))
        return b


def _title_pages(blocks: list, n_pages: int) -> set[int]:
    """Title pages among the first two: lines (title, subtitle, date) without
    a single sentence. Nothing on them answers a question, yet a question
    that names the document matches them best of all, so they are kept in
    the text but never made passages. A cover that says something ("comes
    into force in September 2025.") stays a passage."""
    if n_pages < 4:
        return set()
    seen: set[int] = set()
    prose: set[int] = set()
    for block in blocks:
        first, last = block.entries[0][0].page, block.entries[-1][-1].page
        if first > 2:
            break  # blocks come in page order
        seen.add(first)
        if first != last or _SENTENCE_END.search(_render(block)[0]):
            prose.add(first)  # a paragraph running on to the next page is prose too
    return seen - prose


_SENTENCE_END = re.compile(r"[.!?:;][\"'’”)]*(\s|$)")


def _render(block: _Block) -> tuple[str, list[tuple[int, int]]]:
    """The block's text and, for each later page it runs on to, where that page starts in it."""
    text, marks, page = "", [], block.entries[0][0].page
    bullets = [e[0].x for e in block.entries if block.type == "list" and _BULLET.match(e[0].text)]
    for k, entry in enumerate(block.entries):
        text += "\n" if k else ""
        for n, line in enumerate(entry):
            piece = "\n".join(map(clean_inline, line.text.split("\n"))) if line.table else clean_inline(line.text)
            if n == 0 and block.type == "list" and _BULLET.match(line.text):
                # a second-level item (its bullet further in) is indented by two spaces
                piece = ("  " if line.x > min(bullets) + 8 else "") + _BULLET.sub("• ", piece, count=1)
            text += _glue(text, piece) if n and piece else ""
            if line.page != page:
                marks.append((line.page, len(text)))
                page = line.page
            text += piece
    return text, marks
