"""Structure: turns what a source reader finds (headings, paragraphs, lists,
tables) into one canonical text with a section tree and blocks on it.

Readers never hand out offsets of their own: they call the builder, which
appends cleaned text to the canonical text and records where it landed, so a
quote is always an exact slice of what is stored."""

from __future__ import annotations

import bisect
import re
import unicodedata

from .records import Block, Document, Section

BLOCK_SEP = "\n\n"

_KIND_HEADINGS = (
    (re.compile(r"^key messages?\b", re.IGNORECASE), "key_message"),
    (re.compile(r"^learning points?\b", re.IGNORECASE), "learning_points"),
    (re.compile(r"^(reflective|reflection) questions?\b|^questions for reflection\b", re.IGNORECASE), "reflective_questions"),
    (re.compile(r"^(case )?examples?\b", re.IGNORECASE), "example"),
)


def kind_of_heading(title: str) -> str | None:
    for pattern, kind in _KIND_HEADINGS:
        if pattern.search(title.strip()):
            return kind
    return None


# A sentence ends at . ? ! (optionally followed by closing quotes or brackets)
# before white space and a character that can start a sentence.
_SENTENCE_END = re.compile(r"(?<=[.?!])[\"'’”)\]]*(?=\s+[\"'‘“(\[]?[A-Z0-9•])")
_NUMBER_ONLY = re.compile(r"^(?:•\s*)?\(?[0-9]{1,3}[.)]$|^\(?[a-z]{1,4}[.)]$")
_NO_BREAK_BEFORE = re.compile(r"(?:\b(?:e\.g|i\.e|etc|Dr|Mr|Mrs|Ms|No|para|paras|cf|vs|St)\.|\b[A-Z]\.)$")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in text[start:end], trimmed of white space.
    Line breaks inside a block (list items, table rows) also end a sentence."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    cuts = []
    for m in _SENTENCE_END.finditer(text, start, end):
        if _NO_BREAK_BEFORE.search(text, max(start, m.start() - 6), m.start()):
            continue
        cuts.append(m.end())
    for m in re.finditer(r"\n", text[start:end]):
        cuts.append(start + m.start())
    for cut in sorted(set(cuts)) + [end]:
        if cut < end and text[cut - 1] != "\n" and _NUMBER_ONLY.match(text[pos:cut].strip()):
            continue  # "23. In all cases …": a paragraph number, not a sentence
        s, e = pos, cut
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
        pos = cut
    return spans


def clean_inline(text: str) -> str:
    """Join the lines of one paragraph and fold runs of ordinary spaces.
    Non-breaking spaces, curly quotes and dashes are real text and are kept."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[ \t]*\n[ \t]*", " ", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip(" \t\n")


class DocumentBuilder:
    """Accumulates the canonical text, sections and blocks of one document."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pos = 0
        self._sections: list[dict] = []
        self._stack: list[dict] = []
        self._blocks: list[dict] = []
        self._page_starts: list[int] = []
        self._current_page: int | None = None
        self.title: str | None = None

    # -- pages (PDF) -------------------------------------------------------
    def start_page(self, number: int, at: int | None = None) -> None:
        """Mark that text from offset `at` (default: the next block) is on page
        `number` (1-based); pages skipped on the way start there too."""
        while len(self._page_starts) < number:
            self._page_starts.append(self._next_start() if at is None else at)
        self._current_page = number

    @property
    def page_count(self) -> int | None:
        return len(self._page_starts) or None

    # -- sections ----------------------------------------------------------
    def open_section(self, title: str, level: int, anchor: str | None = None) -> str:
        title = clean_inline(title)
        while self._stack and self._stack[-1]["level"] >= level:
            self._close(self._stack.pop())
        parent = self._stack[-1] if self._stack else None
        sec = {
            "id": f"s{len(self._sections) + 1}",
            "title": title,
            "level": level,
            "parent_id": parent["id"] if parent else None,
            "path": (*(parent["path"] if parent else ()), title),
            "anchor": anchor or (parent["anchor"] if parent else None),
            "start": self._next_start(),
            "end": None,
        }
        self._sections.append(sec)
        self._stack.append(sec)
        return sec["id"]

    def _close(self, sec: dict) -> None:
        sec["end"] = max(sec["start"], self._pos)

    def current_section_id(self) -> str:
        if not self._stack:
            self.open_section(self.title or "Document", 1)
        return self._stack[-1]["id"]

    # -- blocks ------------------------------------------------------------
    def _next_start(self) -> int:
        return self._pos + (len(BLOCK_SEP) if self._parts else 0)

    def add(self, type_: str, text: str, kind: str | None = None,
            page_breaks: tuple[tuple[int, int], ...] | list = ()) -> int | None:
        """Append one block; return its start offset (None if empty). `text` is
        final canonical text. `page_breaks` are (page, offset in text) where a
        block running across pages reaches the next one."""
        lead = len(text) - len(text.lstrip())
        text = text.strip()
        if not text:
            return None
        section_id = self.current_section_id()
        if self._parts:
            self._parts.append(BLOCK_SEP)
            self._pos += len(BLOCK_SEP)
        start = self._pos
        self._parts.append(text)
        self._pos += len(text)
        self._blocks.append({"type": type_, "kind": kind, "section_id": section_id, "start": start, "end": self._pos})
        for page, offset in page_breaks:
            self.start_page(page, start + min(max(0, offset - lead), len(text)))
        return start

    def heading(self, title: str, level: int, anchor: str | None = None) -> None:
        """A heading opens a section and is also a block of its own."""
        self.open_section(title, level, anchor)
        self.add("heading", clean_inline(title))

    # -- result ------------------------------------------------------------
    def build(self, **meta) -> Document:
        while self._stack:
            self._close(self._stack.pop())
        text = "".join(self._parts)
        page_starts = tuple(self._page_starts)

        def pages(s: int, e: int):
            if not page_starts:
                return None
            first = max(1, bisect.bisect_right(page_starts, s))
            last = max(first, bisect.bisect_right(page_starts, max(s, e - 1)))
            return (first, last)

        by_id = {s["id"]: s for s in self._sections}

        def kind_of_section(sid: str) -> str:
            sec = by_id[sid]
            while sec:
                k = kind_of_heading(sec["title"])
                if k:
                    return k
                sec = by_id.get(sec["parent_id"]) if sec["parent_id"] else None
            return "text"

        sections = tuple(
            Section(
                id=s["id"], title=s["title"], level=s["level"], parent_id=s["parent_id"],
                path=s["path"], anchor=s["anchor"], start=s["start"], end=s["end"],
                pages=pages(s["start"], s["end"]),
            )
            for s in self._sections
        )
        blocks = []
        for b in self._blocks:
            kind = b["kind"] or ("table" if b["type"] == "table" else kind_of_section(b["section_id"]))
            spans = sentence_spans(text, b["start"], b["end"])
            blocks.append(Block(
                type=b["type"], kind=kind, section_id=b["section_id"], start=b["start"], end=b["end"],
                pages=pages(b["start"], b["end"]),
                breaks=tuple(e - b["start"] for _, e in spans[:-1]),
            ))
        return Document(text=text, sections=sections, blocks=tuple(blocks), page_starts=page_starts, **meta)
