"""Quote check: does a quote stand word for word in one of the documents?

A trainer pastes a quote from a slide. If it stands in a document exactly
(white space, quote marks, dashes, ellipses and list bullets folded, since
word processors change those), we say where: document, section, page and
the offsets of the exact slice of the canonical text. If it does not, we
find the closest passage (candidates from the retriever, then a word-level
alignment with difflib) and mark the differences word by word.

Nothing here writes text: every `text` and `source` string returned is a
slice of a document's canonical text; every `quote` string is the caller's.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import groupby

from .analysis import fold_quote, fold_with_map
from .citations import cite
from .records import Citation, Document
from .retrieval import Retriever

MAX_MATCHES = 20
CANDIDATES = 6
# A quote with words left out ("…", "[...]") matches when its parts stand in
# order in one document, each within this many characters of the one before:
# trainers elide inside a paragraph or two, not across chapters.
MAX_ELISION = 1500
_ELLIPSIS = re.compile(r"\s*(?:\[\s*\.\.\.\s*\]|\(\s*\.\.\.\s*\)|\.\.\.)\s*")
# Below this word-level similarity the "closest passage" is not shown: it
# would not help anyone correct their quote.
MIN_SIMILARITY = 0.3
# ... and the quote must share at least this many consecutive words with it.
MIN_RUN = 3

@dataclass(frozen=True)
class Difference:
    """One run of words: `equal`, `changed` (the quote has `quote` where the
    source has `source`), `inserted` (words in the quote the source does not
    have) or `deleted` (source words the quote leaves out)."""

    op: str
    quote: str
    source: str


@dataclass(frozen=True)
class Match:
    text: str  # == document.text[start:end]
    source_offsets: tuple[int, int]
    identical: bool  # character for character, without any folding
    citation: Citation
    # For a quote with words left out: the span of each part it quotes, in
    # order, within the canonical text (`text` runs from the first to the last).
    parts: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Closest:
    text: str  # == document.text[start:end]
    source_offsets: tuple[int, int]
    similarity: float  # word-level, 0..1
    differences: tuple[Difference, ...]
    citation: Citation


@dataclass(frozen=True)
class Verdict:
    quote: str
    found: bool
    matches: tuple[Match, ...] = ()
    closest: Closest | None = None

    def to_json(self) -> dict:
        def cit(c: Citation) -> dict:
            return {"document_id": c.document_id, "document_title": c.document_title, "section_path": list(c.section_path),
                    "anchor": c.anchor, "pages": list(c.pages) if c.pages else None, "url": c.url, "reference": c.reference}

        closest = None
        if self.closest is not None:
            c = self.closest
            closest = {"text": c.text, "source_offsets": list(c.source_offsets), "similarity": c.similarity,
                       "differences": [{"op": d.op, "quote": d.quote, "source": d.source} for d in c.differences],
                       "citation": cit(c.citation)}
        return {
            "quote": self.quote, "found": self.found,
            "matches": [{"text": m.text, "source_offsets": list(m.source_offsets), "identical": m.identical,
                         "parts": [list(p) for p in m.parts], "citation": cit(m.citation)} for m in self.matches],
            "closest": closest,
        }


@dataclass
class _Folded:
    text: str
    where: list[int]
    tokens: list[tuple[int, int]] = field(default_factory=list)  # word spans in the folded text

    def original(self, a: int, b: int) -> tuple[int, int]:
        """Folded span [a, b) -> span in the canonical text."""
        return self.where[a], self.where[b - 1] + 1

    def folded_pos(self, offset: int) -> int:
        return bisect.bisect_left(self.where, offset)


_cache: dict[tuple[str, str], _Folded] = {}
_cache_lock = threading.Lock()


def _folded(doc: Document) -> _Folded:
    key = (doc.id, doc.sha256)
    f = _cache.get(key)
    if f is None:
        text, where = fold_with_map(doc.text)
        f = _Folded(text, where, [m.span() for m in re.finditer(r"\S+", text)])
        with _cache_lock:
            if len(_cache) > 64:
                _cache.clear()
            _cache[key] = f
    return f


def _citation(doc: Document, start: int, end: int, base_url: str) -> Citation:
    """Cite the deepest section that holds the start of the span."""
    holding = [s for s in doc.sections if s.start <= start < max(s.end, s.start + 1)]
    if not holding:
        before = [s for s in doc.sections if s.start <= start]
        holding = before[-1:] or list(doc.sections[:1])
    if not holding:
        from .citations import deep_link, reference

        return Citation(doc.id, doc.title, (), None, doc.pages_of(start, end),
                        deep_link(doc, None, doc.text[start:end], doc.pages_of(start, end), base_url), reference(doc, (), doc.pages_of(start, end)))
    section = max(holding, key=lambda s: (s.level, s.start))
    return cite(doc, section.id, start, end, base_url)


def _word_char(c: str) -> bool:
    return c.isalnum()


def _occurrences(f: _Folded, q: str, start: int = 0, stop: int | None = None):
    """Folded start positions of `q` in f.text within [start, stop), on word
    boundaries: "overty leads" is not a quote of "Poverty leads"."""
    limit = len(f.text) if stop is None else min(stop, len(f.text))
    pos = f.text.find(q, start)
    while pos != -1 and pos + len(q) <= limit:
        end = pos + len(q)
        ok_start = pos == 0 or not (_word_char(q[0]) and _word_char(f.text[pos - 1]))
        ok_end = end == len(f.text) or not (_word_char(q[-1]) and _word_char(f.text[end]))
        if ok_start and ok_end:
            yield pos
        pos = f.text.find(q, pos + 1)


def find_exact(documents: dict[str, Document], quote: str, base_url: str = "") -> list[Match]:
    q = fold_quote(quote)
    if not q:
        return []
    raw = quote.strip()
    matches: list[Match] = []
    for doc in documents.values():
        f = _folded(doc)
        for pos in _occurrences(f, q):
            if len(matches) >= MAX_MATCHES:
                break
            s, e = f.original(pos, pos + len(q))
            text = doc.text[s:e]
            matches.append(Match(text, (s, e), text == raw, _citation(doc, s, e, base_url)))
    return matches


def quote_parts(folded: str) -> list[str]:
    """The parts of a folded quote between its ellipses ("…", "...", "[...]")."""
    return [p for p in (x.strip() for x in _ELLIPSIS.split(folded)) if p]


def find_elided(documents: dict[str, Document], quote: str, base_url: str = "") -> list[Match]:
    """A quote with words left out: every part stands word for word, in order,
    in one document, each within MAX_ELISION characters of the last. A
    leading or trailing ellipsis only marks a quote cut mid-sentence."""
    folded = fold_quote(quote)
    parts = quote_parts(folded)
    if not parts or parts == [folded]:
        return []
    matches: list[Match] = []
    for doc in documents.values():
        f = _folded(doc)
        for pos in _occurrences(f, parts[0]):
            if len(matches) >= MAX_MATCHES:
                break
            spans = [(pos, pos + len(parts[0]))]
            for part in parts[1:]:
                nxt = next(_occurrences(f, part, spans[-1][1], spans[-1][1] + MAX_ELISION + len(part)), None)
                if nxt is None:
                    break
                spans.append((nxt, nxt + len(part)))
            if len(spans) < len(parts):
                continue
            originals = tuple(f.original(a, b) for a, b in spans)
            s, e = originals[0][0], originals[-1][1]
            matches.append(Match(doc.text[s:e], (s, e), False, _citation(doc, s, e, base_url), originals))
    return matches


def _trim_edges(blocks: list) -> list:
    """Drop stray one- or two-word matches at either end that sit further
    from the rest in the source than in the quote (a "the" found in the next
    sentence must not stretch the closest passage)."""
    while len(blocks) > 1:
        a, b = blocks[0], blocks[1]
        if a.size <= 2 and (b.b - (a.b + a.size)) > (b.a - (a.a + a.size)) + 2:
            blocks = blocks[1:]
        else:
            break
    while len(blocks) > 1:
        a, b = blocks[-2], blocks[-1]
        if b.size <= 2 and (b.b - (a.b + a.size)) > (b.a - (a.a + a.size)) + 2:
            blocks = blocks[:-1]
        else:
            break
    return blocks


def _align(f: _Folded, qwords: list[str], start: int, end: int) -> tuple[float, int, int, list] | None:
    """Best alignment of the quote's words near folded span [start, end):
    (similarity, first token, last token + 1, opcodes)."""
    qlen = sum(len(w) + 1 for w in qwords)
    lo_c, hi_c = max(0, start - qlen - 200), min(len(f.text), end + qlen + 200)
    t0 = bisect.bisect_left(f.tokens, (lo_c, -1))
    t1 = bisect.bisect_left(f.tokens, (hi_c, -1))
    cased = [f.text[a:b] for a, b in f.tokens[t0:t1]]
    if not cased:
        return None
    # Words are matched blind to case, so that a quote typed in capitals (a
    # slide's heading) still finds its passage; a case that differs is then
    # marked as a change (_cased).
    qcased, qwords, wwords = qwords, [w.lower() for w in qwords], [w.lower() for w in cased]
    sm = SequenceMatcher(None, qwords, wwords, autojunk=False)
    m = sm.find_longest_match(0, len(qwords), 0, len(wwords))
    if m.size == 0:
        return None
    slack = max(3, len(qwords) // 5)
    lo = max(0, m.b - m.a - slack)
    hi = min(len(wwords), m.b + (len(qwords) - m.a) + slack)
    sub = wwords[lo:hi]
    blocks = [b for b in SequenceMatcher(None, qwords, sub, autojunk=False).get_matching_blocks() if b.size]
    blocks = _trim_edges(blocks)
    if max(b.size for b in blocks) < min(MIN_RUN, len(qwords)):
        return None  # only scattered common words in common: not the same passage
    # The quote's words before its first matching word and after its last are
    # compared with as many source words just before and just after, so a
    # changed first word shows as changed, and words the source goes on with
    # count as equal. Those source words are taken from the whole window, not
    # `sub`: when the quote leaves words out, its edges fall outside `sub`,
    # and cutting there reported words the source does have as inserted.
    first = lo + blocks[0].b - blocks[0].a
    last = lo + blocks[-1].b + blocks[-1].size + (len(qwords) - (blocks[-1].a + blocks[-1].size))
    first, last = max(0, first), min(len(wwords), last)
    sm3 = SequenceMatcher(None, qwords, wwords[first:last], autojunk=False)
    return sm3.ratio(), t0 + first, t0 + last, _cased(sm3.get_opcodes(), qcased, cased[first:last])


def _cased(opcodes: list, qwords: list[str], swords: list[str]) -> list:
    """Opcodes of a case-blind alignment, with the words whose case differs
    ("CONTEXTUAL" for "Contextual") split out of the equal runs as changed."""
    out = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "equal":
            out.append((tag, i1, i2, j1, j2))
            continue
        k = 0
        for same, run in groupby(range(i2 - i1), key=lambda n: qwords[i1 + n] == swords[j1 + n]):
            size = len(list(run))
            out.append(("equal" if same else "replace", i1 + k, i1 + k + size, j1 + k, j1 + k + size))
            k += size
    return out


def find_closest(retriever: Retriever, quote: str, base_url: str = "") -> Closest | None:
    q = fold_quote(quote)
    qwords = q.split()
    if not qwords:
        return None
    result = retriever.ask(quote[:2000], CANDIDATES)
    best = None
    seen = set()
    for p in result.passages:
        doc = retriever.documents[p.citation.document_id]
        f = _folded(doc)
        s, e = p.source_offsets
        key = (doc.id, s, e)
        if key in seen:
            continue
        seen.add(key)
        aligned = _align(f, qwords, f.folded_pos(s), f.folded_pos(e))
        if aligned and (best is None or aligned[0] > best[0]):
            best = (aligned[0], doc, f, aligned[1], aligned[2], aligned[3])
    if best is None or best[0] < MIN_SIMILARITY:
        return None
    ratio, doc, f, t_first, t_last, opcodes = best
    tokens = [f.tokens[t] for t in range(t_first, t_last)]
    names = {"equal": "equal", "replace": "changed", "delete": "inserted", "insert": "deleted"}
    # Runs as [op, quote words, folded start, folded end] of the source.
    runs = [[names[tag], qwords[i1:i2], tokens[j1][0] if j1 < j2 else None, tokens[j2 - 1][1] if j1 < j2 else None]
            for tag, i1, i2, j1, j2 in opcodes]
    _absorb_edge_punctuation(runs, f.text)
    spans = [(r[2], r[3]) for r in runs if r[2] is not None]
    s, e = f.original(spans[0][0], spans[-1][1])

    def source(run) -> str:
        if run[2] is None or run[2] >= run[3]:
            return ""
        a, b = f.original(run[2], run[3])
        return doc.text[a:b]

    diffs = tuple(Difference(r[0], " ".join(r[1]), source(r)) for r in runs)
    return Closest(doc.text[s:e], (s, e), round(ratio, 3), diffs, _citation(doc, s, e, base_url))


_PUNCT = set(".,;:!?'\"()[]-")


def _absorb_edge_punctuation(runs: list, text: str) -> None:
    """A quote that ends at "families" where the source has "families," (or
    starts at "The" where it has "'The") is not misquoted: the closest
    passage is cut at the word, not marked as changed."""
    last = runs[-1]
    if last[0] == "changed" and last[1] and last[2] is not None:
        word = last[1][-1]
        tail_start = text.rfind(" ", last[2], last[3]) + 1 or last[2]
        sword = text[max(tail_start, last[2]) : last[3]]
        if sword != word and sword.startswith(word) and set(sword[len(word):]) <= _PUNCT:
            cut = max(tail_start, last[2]) + len(word)
            if len(last[1]) == 1 and tail_start <= last[2]:
                runs[-1] = ["equal", last[1], last[2], cut]
            else:
                runs[-1] = ["changed", last[1][:-1], last[2], max(last[2], tail_start - 1)]
                runs.append(["equal", [word], max(tail_start, last[2]), cut])
                if not runs[-2][1]:
                    runs[-2][0] = "deleted"
    first = runs[0]
    if first[0] == "changed" and first[1] and first[2] is not None:
        word = first[1][0]
        head_end = text.find(" ", first[2], first[3])
        head_end = first[3] if head_end == -1 else head_end
        sword = text[first[2] : head_end]
        if sword != word and sword.endswith(word) and set(sword[: -len(word)]) <= _PUNCT:
            start = head_end - len(word)
            if len(first[1]) == 1 and head_end >= first[3]:
                runs[0] = ["equal", first[1], start, first[3]]
            else:
                rest = ["changed", first[1][1:], head_end + 1, first[3]]
                if not rest[1]:
                    rest[0] = "deleted"
                runs[0:1] = [["equal", [word], start, head_end], rest]


def verify(retriever: Retriever, quote: str, base_url: str = "") -> Verdict:
    matches = find_exact(retriever.documents, quote, base_url) or find_elided(retriever.documents, quote, base_url)
    if matches:
        return Verdict(quote, True, tuple(matches))
    return Verdict(quote, False, (), find_closest(retriever, quote, base_url))
