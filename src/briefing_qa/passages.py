"""Ranked chunks into passages: adjacent chunks of one section are merged
into one exact slice of the canonical text; the same or nearly the same text
standing elsewhere (Keeping children safe in education repeats Part one in
Annex A; summaries restate chapters) is shown once, at its first occurrence,
with the other places kept for `also_in`."""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import analysis
from .records import Chunk

# Share of the shorter passage's word 4-grams found in the other: near-duplicates.
NEAR_DUPLICATE = 0.8
MAX_CHARS = 2400  # a merged passage stops growing here


@dataclass(frozen=True)
class PassageDraft:
    """A passage before highlights and citations: where it stands."""

    document_id: str
    section_id: str
    first: int  # ordinals of its first and last chunk
    last: int
    start: int  # offsets in the canonical text
    end: int
    kind: str
    chunk: int  # the chunk number it was found by (its best ranked)
    also: tuple[tuple[str, str, int, int], ...] = ()  # (document, section, start, end) of the same text elsewhere

    def adjacent(self, c: Chunk) -> bool:
        return (self.document_id == c.document_id and self.section_id == c.section_id
                and (abs(self.first - c.ordinal) <= 1 or abs(self.last - c.ordinal) <= 1)
                and not (self.first <= c.ordinal <= self.last))

    def merged(self, c: Chunk) -> PassageDraft:
        return replace(self, first=min(self.first, c.ordinal), last=max(self.last, c.ordinal),
                       start=min(self.start, c.start), end=max(self.end, c.end))

    def cited_too(self, where: tuple[str, str, int, int]) -> PassageDraft:
        return replace(self, also=self.also + (where,))


class Shingles:
    """Word 4-grams and folded text of chunks, cached: the same chunks recur
    across questions, and every answer looks at some 40 of them."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self._cache: dict[int, frozenset] = {}
        self._keys: dict[int, str] = {}
        self._pairs: dict[tuple[int, int], bool] = {}

    def key(self, i: int) -> str:
        """The chunk's text folded: the same text in another place has the same key."""
        got = self._keys.get(i)
        if got is None:
            if len(self._keys) > 50_000:
                self._keys.clear()
            got = self._keys[i] = analysis.fold(self.chunks[i].text)
        return got

    def of(self, i: int) -> frozenset:
        got = self._cache.get(i)
        if got is None:
            ws = [w.lower() for w in analysis.words(self.chunks[i].text)]
            # Hashes of the 4-grams: a tuple's hash is not cached, so sets of
            # tuples re-hash every member at each intersection.
            got = frozenset(hash(tuple(ws[k : k + 4])) for k in range(max(1, len(ws) - 3)))
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[i] = got
        return got

    def near_duplicate(self, i: int, draft: PassageDraft) -> bool:
        """Most of the shorter one's word 4-grams are in the other."""
        c = self.chunks[i]
        if draft.document_id == c.document_id and draft.section_id == c.section_id:
            return False
        pair = (i, draft.chunk) if i < draft.chunk else (draft.chunk, i)
        got = self._pairs.get(pair)
        if got is None:  # cached: an answer compares some 200 pairs, and popular chunks recur
            a, b = self.of(draft.chunk), self.of(i)
            small = min(len(a), len(b))
            got = small >= 6 and len(a & b) >= NEAR_DUPLICATE * small
            if len(self._pairs) > 500_000:
                self._pairs.clear()
            self._pairs[pair] = got
        return got


def assemble(order: list[int], chunks: list[Chunk], limit: int, shingles: Shingles | None = None,
             merge: bool = True) -> list[PassageDraft]:
    """Up to `limit` passages from chunk numbers best first. Callers ask for
    a fixed `limit` and cut it, so the first passages never depend on how
    many are wanted. `shingles`: fold near-duplicates (None: only exact ones)."""
    picked: list[PassageDraft] = []
    seen_text: dict[str, int] = {}  # folded text -> position in picked
    for i in order:
        c = chunks[i]
        where = (c.document_id, c.section_id, c.start, c.end)
        if merge:
            k = next((k for k, p in enumerate(picked) if p.adjacent(c)), None)
            if k is not None and picked[k].end - picked[k].start + len(c.text) < MAX_CHARS:
                picked[k] = picked[k].merged(c)
                continue
        key = shingles.key(i) if shingles is not None else analysis.fold(c.text)
        if key in seen_text:
            picked[seen_text[key]] = picked[seen_text[key]].cited_too(where)
            continue
        if merge and shingles is not None:
            k = next((k for k, p in enumerate(picked) if shingles.near_duplicate(i, p)), None)
            if k is not None:
                dup = picked[k]
                if c.document_id == dup.document_id and c.start < dup.start and dup.first == dup.last:
                    # Show the first occurrence; cite the repeat.
                    picked[k] = replace(dup.cited_too((dup.document_id, dup.section_id, dup.start, dup.end)),
                                        section_id=c.section_id, first=c.ordinal, last=c.ordinal,
                                        start=c.start, end=c.end, kind=c.kind, chunk=i)
                else:
                    picked[k] = dup.cited_too(where)
                continue
        seen_text[key] = len(picked)
        picked.append(PassageDraft(c.document_id, c.section_id, c.ordinal, c.ordinal, c.start, c.end, c.kind, i))
        if len(picked) >= limit:
            break
    return picked


def chunk_run(draft: PassageDraft, chunks: list[Chunk]) -> tuple[int, int] | None:
    """Chunk numbers of the passage's first and last chunk. A document's
    chunks are stored in order (ordinal = position), so they are one run."""
    base = draft.chunk - chunks[draft.chunk].ordinal
    a, b = base + draft.first, base + draft.last
    if not (0 <= a <= b < len(chunks)) or chunks[a].document_id != draft.document_id or chunks[b].document_id != draft.document_id:
        return None
    return a, b
