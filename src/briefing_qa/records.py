"""Domain records. Frozen so a value read from the index can be shared safely
between requests and threads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Content kinds trainers filter by. "text" is everything else.
KINDS = ("text", "key_message", "learning_points", "reflective_questions", "example", "table")
# Layout types of a block. "cover": the lines of a title page (title,
# subtitle, date): kept in the canonical text, never a passage.
BLOCK_TYPES = ("heading", "paragraph", "list", "table", "cover")


@dataclass(frozen=True)
class Section:
    id: str  # stable within its document, e.g. "s12"
    title: str
    level: int  # 1 = top level
    parent_id: str | None
    path: tuple[str, ...]  # titles from the top level down to this one
    anchor: str | None = None  # URL fragment where the source has one
    start: int = 0  # offsets in the canonical text
    end: int = 0
    pages: tuple[int, int] | None = None


@dataclass(frozen=True)
class Block:
    """A paragraph, list (with its lead-in), table (with caption) or heading:
    an exact span of the document's canonical text."""

    type: str
    kind: str
    section_id: str
    start: int
    end: int
    pages: tuple[int, int] | None = None
    # Sentence ends (offsets relative to start) where a long block may be split.
    breaks: tuple[int, ...] = ()


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    path: str  # file name within the source folder
    sha256: str
    text: str  # the canonical text: every quote is a slice of it
    sections: tuple[Section, ...]
    blocks: tuple[Block, ...]
    format: str = "text"
    publisher: str | None = None
    year: str | None = None
    url: str | None = None
    licence: str | None = None
    pages: int | None = None
    # Page label -> offset where that page starts (PDF only), for citations.
    page_starts: tuple[int, ...] = ()

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def page_of(self, offset: int) -> int | None:
        """1-based page holding this offset, or None for sources without pages."""
        if not self.page_starts:
            return None
        import bisect

        return max(1, bisect.bisect_right(self.page_starts, offset))

    def pages_of(self, start: int, end: int) -> tuple[int, int] | None:
        if not self.page_starts:
            return None
        return (self.page_of(start), self.page_of(max(start, end - 1)))


@dataclass(frozen=True)
class Chunk:
    """The unit that is embedded and indexed: whole blocks of one section."""

    id: str  # content hash: the same text in the same place keeps its id
    document_id: str
    section_id: str
    section_path: tuple[str, ...]
    kind: str
    start: int
    end: int
    text: str  # == document.text[start:end]
    context: str  # what is embedded: "title › path: text"
    pages: tuple[int, int] | None = None
    ordinal: int = 0  # position in the document


@dataclass(frozen=True)
class Citation:
    document_id: str
    document_title: str
    section_path: tuple[str, ...]
    anchor: str | None
    pages: tuple[int, int] | None
    url: str | None
    reference: str


@dataclass(frozen=True)
class Passage:
    id: str
    rank: int
    score: float
    quote: str
    highlights: tuple[tuple[int, int], ...]  # within quote
    kind: str
    source_offsets: tuple[int, int]  # within the canonical text
    citation: Citation
    also_in: tuple[Citation, ...] = field(default=())  # near-duplicates elsewhere

    def to_json(self) -> dict:
        d = asdict(self)
        d["highlights"] = [list(h) for h in self.highlights]
        d["source_offsets"] = list(self.source_offsets)
        for c in [d["citation"], *d["also_in"]]:
            c["section_path"] = list(c["section_path"])
            c["pages"] = list(c["pages"]) if c["pages"] else None
        return d
