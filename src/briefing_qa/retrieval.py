"""Retrieval: hybrid dense (FAISS) + lexical (tantivy BM25) search, fused by
reciprocal rank; passages are exact slices of the canonical text, merged when
adjacent, de-duplicated when the same text stands in several places, with the
sentence(s) that best answer the question highlighted."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .citations import cite
from .embedding import Embedder
from .lexical import LexicalIndex, phrases, words
from .records import Chunk, Passage
from .store import StoredIndex
from .structure import sentence_spans

RRF_K = 60
CANDIDATES = 100
# Below this cosine similarity of the best chunk, the documents are taken not
# to answer the question (calibrated on the dev questions; see docs/evaluation.md).
ABSTAIN_COSINE = 0.30

_STOP = set(
    ["a", "an", "and", "are", "as", "at", "be", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "may", "might", "must", "of", "on", "or", "our", "should", "so", "than", "that", "the", "their", "them", "there", "these", "they", "this", "those", "to", "was", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your", "about", "after", "all", "also", "any", "been", "being", "between", "both", "each", "more", "most", "other", "over", "such", "through", "under", "up", "very"]
)


@dataclass(frozen=True)
class AskResult:
    abstained: bool
    passages: list[Passage]
    best_cosine: float


def fold(text: str) -> str:
    """Case, quote style and white space folded, for exact-phrase checks."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).lower()


def _stem(w: str) -> str:
    w = w.lower().replace("’", "'")
    for suf in ("'s", "ing", "ies", "ed", "es", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[: -len(suf)]
    return w


def query_terms(text: str) -> set[str]:
    return {_stem(w) for w in words(text) if w.lower() not in _STOP}


class Retriever:
    def __init__(self, stored: StoredIndex, embedder: Embedder, lexical: LexicalIndex,
                 abstain_cosine: float = ABSTAIN_COSINE) -> None:
        self.stored = stored
        self.embedder = embedder
        self.lexical = lexical
        self.chunks = stored.chunks
        self.documents = stored.documents
        self.abstain_cosine = abstain_cosine
        self._vectors = stored.vector_array()
        # Document frequency of stems over chunks, for highlight weights.
        df: dict[str, int] = {}
        for c in self.chunks:
            for t in query_terms(c.text):
                df[t] = df.get(t, 0) + 1
        n = max(1, len(self.chunks))
        self._idf = {t: math.log(1 + n / f) for t, f in df.items()}
        self._default_idf = math.log(1 + n)

    # -- ask ---------------------------------------------------------------
    def ask(self, question: str, top_k: int = 5, document_ids: list[str] | None = None, base_url: str = "") -> AskResult:
        allowed = self._allowed(document_ids)
        if not self.chunks or (allowed is not None and not allowed):
            return AskResult(True, [], 0.0)
        qv = self.embedder.embed([question])[0]
        cos = self._vectors @ qv
        if allowed is not None:
            mask = np.full(len(cos), -np.inf, dtype="float32")
            idx = np.fromiter(allowed, dtype=np.int64)
            mask[idx] = cos[idx]
            cos = mask
        dense = np.argsort(-cos)[:CANDIDATES]
        dense = [int(i) for i in dense if np.isfinite(cos[i])]
        lex = [i for i, _ in self.lexical.search(question.replace('"', " "), CANDIDATES * 3) if allowed is None or i in allowed][:CANDIDATES]
        fused: dict[int, float] = {}
        for rank, i in enumerate(dense):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, i in enumerate(lex):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        order = sorted(fused, key=lambda i: -fused[i])
        best = float(cos[dense[0]]) if dense else 0.0
        passages = self._passages(order, fused, top_k, question, base_url, mode="sentence")
        return AskResult(best < self.abstain_cosine, passages, best)

    # -- search ------------------------------------------------------------
    def search(self, q: str, document_id: str | None = None, section: str | None = None, kind: str | None = None,
               limit: int = 10, offset: int = 0, base_url: str = "") -> tuple[int, list[Passage]]:
        allowed = self._allowed([document_id] if document_id else None)
        ok = lambda c: (kind is None or c.kind == kind) and (section is None or _in_section(c, section))
        q = q.strip()
        if q:
            hits = [i for i, _ in self.lexical.search(q, len(self.chunks) or 1)]
            need = [fold(p) for p in phrases(q)]
            hits = [i for i in hits if all(p in fold(self.chunks[i].text) for p in need)]
        else:  # browsing: everything that passes the filters, in document order
            hits = list(range(len(self.chunks)))
        hits = [i for i in hits if (allowed is None or i in allowed) and ok(self.chunks[i])]
        page = hits[offset : offset + limit]
        scores = {i: 1.0 / (r + 1) for r, i in enumerate(hits)}
        passages = self._passages(page, scores, len(page), q, base_url, mode="terms", merge=False, rank0=offset)
        return len(hits), passages

    # -- helpers -----------------------------------------------------------
    def _allowed(self, document_ids: list[str] | None) -> set[int] | None:
        if not document_ids:
            return None
        ids = set(document_ids)
        return {i for i, c in enumerate(self.chunks) if c.document_id in ids}

    def _passages(self, order: list[int], scores: dict[int, float], top_k: int, query: str, base_url: str,
                  mode: str, merge: bool = True, rank0: int = 0) -> list[Passage]:
        """Turn ranked chunks into passages: adjacent chunks of one section are
        merged; the same text found again is attached as `also_in`."""
        picked: list[dict] = []
        seen_text: dict[str, dict] = {}
        for i in order:
            c = self.chunks[i]
            if merge:
                hit = next((p for p in picked if p["doc"] == c.document_id and p["section"] == c.section_id
                            and (abs(p["first"] - c.ordinal) <= 1 or abs(p["last"] - c.ordinal) <= 1)
                            and not (p["first"] <= c.ordinal <= p["last"])), None)
                if hit is not None and hit["end"] - hit["start"] + len(c.text) < 2400:
                    hit["first"], hit["last"] = min(hit["first"], c.ordinal), max(hit["last"], c.ordinal)
                    hit["start"], hit["end"] = min(hit["start"], c.start), max(hit["end"], c.end)
                    continue
            key = fold(c.text)
            if key in seen_text:
                seen_text[key]["also"].append(c)
                continue
            entry = {"doc": c.document_id, "section": c.section_id, "first": c.ordinal, "last": c.ordinal,
                     "start": c.start, "end": c.end, "score": scores[i], "kind": c.kind, "also": []}
            seen_text[key] = entry
            picked.append(entry)
            if len(picked) >= top_k:
                break
        terms = query_terms(_strip_quotes(query))
        out = []
        for rank, p in enumerate(picked, start=rank0 + 1):
            doc = self.documents[p["doc"]]
            quote = doc.text[p["start"] : p["end"]]
            hl = self._sentence_highlights(quote, terms) if mode == "sentence" else self._term_highlights(quote, query, terms)
            also = tuple(cite(self.documents[a.document_id], a.section_id, a.start, a.end, base_url) for a in p["also"])
            out.append(Passage(
                id=f"{doc.id}:{p['start']}-{p['end']}", rank=rank, score=round(float(p["score"]), 6), quote=quote,
                highlights=tuple(hl), kind=p["kind"], source_offsets=(p["start"], p["end"]),
                citation=cite(doc, p["section"], p["start"], p["end"], base_url), also_in=also,
            ))
        return out

    def _weight(self, term: str) -> float:
        return self._idf.get(term, self._default_idf)

    def _sentence_highlights(self, quote: str, terms: set[str]) -> list[tuple[int, int]]:
        spans = sentence_spans(quote)
        if not spans:
            return []
        scored = []
        for s, e in spans:
            st = query_terms(quote[s:e])
            score = sum(self._weight(t) for t in terms & st) / math.sqrt(len(st) + 4)
            scored.append((score, s, e))
        top = max(scored)
        if top[0] <= 0:
            return [spans[0]]
        # Also mark a runner-up that is nearly as good (answers often span two sentences).
        chosen = [(s, e) for score, s, e in scored if score >= 0.8 * top[0]][:2]
        return sorted(chosen)

    def _term_highlights(self, quote: str, query: str, terms: set[str]) -> list[tuple[int, int]]:
        fq = fold(quote)
        out = []
        for p in phrases(query):
            fp = fold(p)
            pos = fq.find(fp)
            while pos != -1 and fp:
                out.append((pos, pos + len(fp)))
                pos = fq.find(fp, pos + len(fp))
        if not out:
            for m in re.finditer(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?", quote):
                if _stem(m.group()) in terms:
                    out.append((m.start(), m.end()))
        return _fold_offsets(quote, out) if phrases(query) else out


def _fold_offsets(quote: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Map offsets in fold(quote) back to offsets in quote (white space runs
    fold to one character, so positions can shift)."""
    mapping = []
    prev_space = False
    for i, ch in enumerate(quote):
        is_space = ch.isspace() or ch == "\u00a0"
        if is_space and prev_space:
            continue
        mapping.append(i)
        prev_space = is_space
    mapping.append(len(quote))
    return [(mapping[min(s, len(mapping) - 1)], mapping[min(e, len(mapping) - 1)]) for s, e in spans]


def _strip_quotes(q: str) -> str:
    return q.replace('"', " ").replace("“", " ").replace("”", " ")


def _in_section(c: Chunk, section: str) -> bool:
    s = section.strip().lower()
    return any(s == t.lower() for t in c.section_path) or " › ".join(c.section_path).lower().startswith(s)
