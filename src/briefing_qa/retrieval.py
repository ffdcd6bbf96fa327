"""Retrieval: hybrid dense (FAISS) + lexical (tantivy BM25) search, fused as a
weighted sum of min-max scaled scores; the BM25 query also gets corpus-mined
abbreviation expansions and the corpus's British/American spellings.
Passages are exact slices of the canonical text, merged when adjacent; the
same or nearly the same text standing in several places is shown once (its
first occurrence) with the others cited in `also_in`; the sentence(s) that
best answer the question are highlighted. docs/evaluation.md measures each step."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from .chunking import embedded_sentence_spans
from .citations import cite
from .embedding import Embedder
from .lexical import DEFAULT_BOOSTS, LexicalIndex, mine_abbreviations, phrases, spelling_variants, words
from .records import Chunk, Passage
from .store import StoredIndex
from .structure import sentence_spans

RRF_K = 60
# Share of the shorter passage's word 4-grams found in the other: near-duplicates.
NEAR_DUPLICATE = 0.8
CANDIDATES = 100
# Below this cosine similarity of the best chunk, the documents are taken not
# to answer the question. Calibrated on the best cosines of 30 general-knowledge
# questions (bench/offtopic.jsonl: 29 of 30 at most 0.213) against 27 answerable
# ones (dev + bench/check.jsonl: lowest 0.309): 0.25 sits in the gap, with the
# wider margin on the answerable side. See docs/evaluation.md.
ABSTAIN_COSINE = 0.25

_STOP = set(
    ["a", "an", "and", "are", "as", "at", "be", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "may", "might", "must", "of", "on", "or", "our", "should", "so", "than", "that", "the", "their", "them", "there", "these", "they", "this", "those", "to", "was", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your", "about", "after", "all", "also", "any", "been", "being", "between", "both", "each", "more", "most", "other", "over", "such", "through", "under", "up", "very"]
    # Contractions a practitioner types ("isn't", "what's"): no topic, yet as
    # words the corpus never uses they would weigh most in highlights.
    + ["isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "won't", "can't", "couldn't",
       "shouldn't", "wouldn't", "haven't", "hasn't", "what's", "who's", "it's", "i'm", "i've", "we're", "we've"]
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


@functools.lru_cache(maxsize=200_000)
def _stem(w: str) -> str:
    # Cached: the same few thousand words are stemmed for every answer's sentences.
    w = w.lower().replace("’", "'")
    for suf in ("'s", "ing", "ies", "ed", "es", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[: -len(suf)]
    return w


def query_terms(text: str) -> set[str]:
    return {_stem(w) for w in words(text) if w.lower() not in _STOP}


@dataclass(frozen=True)
class Options:
    """How ask() ranks. The defaults are the measured best (docs/evaluation.md);
    the fields exist so bench/ablation.py can switch each step off."""

    fusion: str = "convex"  # "convex" (weighted, min-max normalised scores) or "rrf" (reciprocal rank)
    dense_weight: float = 0.5  # share of the dense list in the fusion
    rrf_k: int = 60
    boosts: dict = field(default_factory=lambda: dict(DEFAULT_BOOSTS))
    abbreviations: bool = True  # expand corpus-mined short/long forms in the question
    spelling: bool = True  # add the corpus's spelling of American/British variants
    sentence_lexical: float = 0.0  # weight of the best sentence's query-term coverage
    # Weight of the best sentence's cosine in re-ranking the fused head (needs
    # the index's sentence vectors). The largest weight that costs nothing on
    # the dev questions with the service's int8 encoder (0.5 lost a first hit);
    # SciFact train 0.7119 -> 0.7181 (docs/evaluation.md).
    sentence_dense: float = 0.3
    rerank_depth: int = 30  # how many fused candidates sentence scores re-rank
    dedupe: bool = True  # near-duplicates: show the first occurrence, cite the others


class Retriever:
    def __init__(self, stored: StoredIndex, embedder: Embedder, lexical: LexicalIndex,
                 abstain_cosine: float = ABSTAIN_COSINE, options: Options | None = None, **overrides) -> None:
        self.stored = stored
        self.embedder = embedder
        self.lexical = lexical
        self.chunks = stored.chunks
        self.documents = stored.documents
        self.abstain_cosine = abstain_cosine
        self.options = replace(options or Options(), **overrides)
        self._vectors = stored.vector_array()
        self._shingle_cache: dict[int, set] = {}
        self._sentence_cache: dict[tuple, list] = {}
        self._span_cache: dict[int, list] = {}
        self._chunk_index = {c.id: i for i, c in enumerate(self.chunks)}
        # Document frequency of stems over chunks, for highlight weights.
        df: dict[str, int] = {}
        vocab: set[str] = set()
        for c in self.chunks:
            ws = words(c.text)
            vocab.update(w.lower() for w in ws)
            for t in {_stem(w) for w in ws if w.lower() not in _STOP}:
                df[t] = df.get(t, 0) + 1
        n = max(1, len(self.chunks))
        self._idf = {t: math.log(1 + n / f) for t, f in df.items()}
        self._default_idf = math.log(1 + n)
        self._vocab = vocab
        self._abbr: dict[str, str] = {}
        self._long: dict[str, str] = {}
        if self.options.abbreviations:
            self._abbr = mine_abbreviations(d.text for d in self.documents.values())
            self._long = {v: k for k, v in self._abbr.items()}
        # Sentence vectors, when the index has them: rows of one matrix, with
        # the chunk each sentence belongs to.
        self._sent_vecs, self._sent_owner, self._sent_first = _sentence_table(stored)

    # -- query expansion -----------------------------------------------------
    def expansions(self, question: str) -> list[str]:
        """Extra words for the question: the long form of a short form it uses
        (and the other way round), and the corpus's spelling of its words."""
        extra: list[str] = []
        if self._abbr:
            for w in re.findall(r"[A-Za-z][A-Za-z&]+", question):
                key = w[:-1] if w.endswith("s") and w[:-1] in self._abbr else w
                if key in self._abbr or (key.upper() in self._abbr and key.lower() not in self._vocab):
                    extra.append(self._abbr.get(key) or self._abbr[key.upper()])
            fq = " " + " ".join(words(question)).lower() + " "
            for form, abbr in self._long.items():
                if " " + form + " " in fq or " " + form + "s " in fq:
                    extra.append(abbr)
        if self.options.spelling:
            for w in words(question):
                lw = w.lower()
                if lw in _STOP:
                    continue
                extra += [v for v in spelling_variants(lw) if v in self._vocab and v != lw]
        return extra

    # -- ranking -----------------------------------------------------------
    def rank(self, question: str, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """Chunks (index, score), best first: what ask() turns into passages."""
        return self._rank(question, allowed)[0]

    def _rank(self, question: str, allowed: set[int] | None = None):
        o = self.options
        extra = self.expansions(question)
        # Expansions go to BM25 only: appended to the question they moved the
        # dense vector off topic (SciFact train -0.005 nDCG@10).
        qv = self.embedder.embed([question])[0]
        cos, dense = self._dense(qv, allowed)
        lq = (question + " " + " ".join(extra)).replace('"', " ")
        if allowed is None:
            lex_hits = self.lexical.search(lq, CANDIDATES, boosts=o.boosts)
        else:  # a document filter: ask for more, keep the allowed
            lex_hits = [(i, sc) for i, sc in self.lexical.search(lq, CANDIDATES * 3, boosts=o.boosts) if i in allowed][:CANDIDATES]
        order = self._fuse(cos, dense, lex_hits)
        best = float(cos[dense[0]]) if dense else 0.0
        if o.sentence_lexical > 0 or (o.sentence_dense > 0 and self._sent_vecs is not None):
            order = self._rerank(order, question + " " + " ".join(extra), qv)
        return order, best, qv

    def _dense(self, qv: np.ndarray, allowed: set[int] | None):
        """Cosines of every chunk, and the best CANDIDATES chunk numbers."""
        cos = self._vectors @ qv
        if allowed is not None:
            mask = np.full(len(cos), -np.inf, dtype="float32")
            idx = np.fromiter(allowed, dtype=np.int64)
            mask[idx] = cos[idx]
            cos = mask
        n_cand = min(CANDIDATES, len(cos))
        top = np.argpartition(-cos, n_cand - 1)[:n_cand] if n_cand < len(cos) else np.arange(len(cos))
        top = top[np.argsort(-cos[top])]
        return cos, top[np.isfinite(cos[top])].tolist()

    def _fuse(self, cos: np.ndarray, dense: list[int], lex_hits: list[tuple[int, float]]) -> list[tuple[int, float]]:
        o = self.options
        fused: dict[int, float] = {}
        wd, wl = o.dense_weight, 1.0 - o.dense_weight
        if o.fusion == "convex":
            if dense:
                hi, lo = float(cos[dense[0]]), float(cos[dense[-1]])
                for i in dense:
                    fused[i] = wd * (float(cos[i]) - lo) / max(1e-6, hi - lo)
            if lex_hits:
                hi, lo = lex_hits[0][1], lex_hits[-1][1]
                for i, sc in lex_hits:
                    fused[i] = fused.get(i, 0.0) + wl * (sc - lo) / max(1e-6, hi - lo)
        else:
            for rank, i in enumerate(dense):
                fused[i] = fused.get(i, 0.0) + 2 * wd / (o.rrf_k + rank + 1)
            for rank, (i, _) in enumerate(lex_hits):
                fused[i] = fused.get(i, 0.0) + 2 * wl / (o.rrf_k + rank + 1)
        return sorted(fused.items(), key=lambda kv: -kv[1])

    def _rerank(self, order: list[tuple[int, float]], question: str, qv: np.ndarray) -> list[tuple[int, float]]:
        """Re-rank the head of the fused list with each candidate's best
        sentence: the share of the question's idf-weighted terms one sentence
        holds, and the best sentence cosine. Each feature is min-max scaled
        over the head, as is the fused score, then weighted and summed."""
        o = self.options
        head, tail = order[: o.rerank_depth], order[o.rerank_depth :]
        if len(head) < 2:
            return order
        score = _minmax(np.array([sc for _, sc in head]))
        if o.sentence_lexical > 0:
            terms = query_terms(_strip_quotes(question))
            total = sum(self._weight(t) for t in terms) or 1.0
            feat = np.zeros(len(head))
            for k, (i, _) in enumerate(head):
                text = self.chunks[i].text
                best = 0.0
                for s, e in sentence_spans(text):
                    st = query_terms(text[s:e])
                    best = max(best, sum(self._weight(t) for t in terms & st) / total)
                feat[k] = best
            score = score + o.sentence_lexical * feat
        if o.sentence_dense > 0 and self._sent_vecs is not None:
            score = score + o.sentence_dense * _minmax(self._best_sentence_cosines([i for i, _ in head], qv))
        ranked = sorted(zip([i for i, _ in head], score.tolist()), key=lambda kv: -kv[1])
        floor = min(sc for _, sc in ranked)
        # The tail keeps its order, below the head.
        return ranked + [(i, floor - 1e-6 * (k + 1)) for k, (i, _) in enumerate(tail)]

    def _best_sentence_cosines(self, idx: list[int], qv: np.ndarray) -> np.ndarray:
        """Each chunk's best sentence cosine (its chunk cosine when it has no
        sentence vector), from one product over the rows of all their
        sentences rather than a product per chunk."""
        idx_a = np.asarray(idx, dtype=np.int64)
        starts, ends = self._sent_first[idx_a], self._sent_first[idx_a + 1]
        lens = ends - starts
        out = self._vectors[idx_a] @ qv
        has = lens > 0
        if has.any():
            offsets = np.cumsum(lens) - lens  # where each chunk's rows begin in `rows`
            rows = np.repeat(starts - offsets, lens) + np.arange(int(lens.sum()))
            sims = self._sent_vecs[rows] @ qv
            out[has] = np.maximum.reduceat(sims, offsets[has])
        return out

    # -- ask ---------------------------------------------------------------
    def ask(self, question: str, top_k: int = 5, document_ids: list[str] | None = None, base_url: str = "") -> AskResult:
        allowed = self._allowed(document_ids)
        if not self.chunks or (allowed is not None and not allowed):
            return AskResult(True, [], 0.0)
        ranked, best, qv = self._rank(question, allowed)
        fused = dict(ranked)
        passages = self._passages([i for i, _ in ranked], fused, top_k, question, base_url, mode="sentence", qv=qv)
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
                  mode: str, merge: bool = True, rank0: int = 0, qv: np.ndarray | None = None) -> list[Passage]:
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
                seen_text[key]["also"].append((c.document_id, c.section_id, c.start, c.end))
                continue
            if merge and self.options.dedupe:
                dup = next((p for p in picked if self._near_duplicate(c, p)), None)
                if dup is not None:
                    where = (c.document_id, c.section_id, c.start, c.end)
                    if c.document_id == dup["doc"] and c.start < dup["start"] and dup["first"] == dup["last"]:
                        # Show the first occurrence; cite the repeat.
                        dup["also"].append((dup["doc"], dup["section"], dup["start"], dup["end"]))
                        dup.update(section=c.section_id, first=c.ordinal, last=c.ordinal, start=c.start, end=c.end,
                                   kind=c.kind, chunk=i)
                    else:
                        dup["also"].append(where)
                    continue
            entry = {"doc": c.document_id, "section": c.section_id, "first": c.ordinal, "last": c.ordinal,
                     "start": c.start, "end": c.end, "score": scores[i], "kind": c.kind, "also": [], "chunk": i}
            seen_text[key] = entry
            picked.append(entry)
            if len(picked) >= top_k:
                break
        terms = query_terms(_strip_quotes(query))
        out = []
        for rank, p in enumerate(picked, start=rank0 + 1):
            doc = self.documents[p["doc"]]
            quote = doc.text[p["start"] : p["end"]]
            hl = (self._sentence_highlights((doc.id, p["start"], p["end"]), quote, terms, self._nearest_sentence(p, qv))
                  if mode == "sentence" else self._term_highlights(quote, query, terms))
            also = tuple(cite(self.documents[d], sec, a, b, base_url) for d, sec, a, b in p["also"])
            out.append(Passage(
                id=f"{doc.id}:{p['start']}-{p['end']}", rank=rank, score=round(float(p["score"]), 6), quote=quote,
                highlights=tuple(hl), kind=p["kind"], source_offsets=(p["start"], p["end"]),
                citation=cite(doc, p["section"], p["start"], p["end"], base_url), also_in=also,
            ))
        return out

    def _shingles(self, i: int) -> set:
        got = self._shingle_cache.get(i)
        if got is None:
            ws = [w.lower() for w in words(self.chunks[i].text)]
            got = {tuple(ws[k : k + 4]) for k in range(max(1, len(ws) - 3))}
            if len(self._shingle_cache) > 50_000:
                self._shingle_cache.clear()
            self._shingle_cache[i] = got
        return got

    def _near_duplicate(self, c: Chunk, p: dict) -> bool:
        """The same text standing elsewhere (Keeping children safe in education
        repeats Part one in Annex A; summaries restate chapters): most of the
        shorter one's word 4-grams are in the other."""
        if p["doc"] == c.document_id and p["section"] == c.section_id:
            return False
        a, b = self._shingles(p["chunk"]), self._shingles(self._index_of(c))
        small = min(len(a), len(b))
        return small >= 6 and len(a & b) / small >= NEAR_DUPLICATE

    def _index_of(self, c: Chunk) -> int:
        return self._chunk_index[c.id]

    def _weight(self, term: str) -> float:
        return self._idf.get(term, self._default_idf)

    def _sentences(self, key: tuple, quote: str) -> list[tuple[int, int, frozenset, float]]:
        """(start, end, terms, length norm) of each sentence of a passage;
        cached per passage span, as the same passages answer many questions."""
        got = self._sentence_cache.get(key)
        if got is None:
            got = []
            for s, e in sentence_spans(quote):
                st = frozenset(query_terms(quote[s:e]))
                got.append((s, e, st, math.sqrt(len(st) + 4)))
            if len(self._sentence_cache) > 50_000:
                self._sentence_cache.clear()
            self._sentence_cache[key] = got
        return got

    def _nearest_sentence(self, p: dict, qv: np.ndarray | None) -> tuple[int, int] | None:
        """The passage's sentence nearest the question by the stored sentence
        vectors (offsets within the quote); None without sentence vectors."""
        if qv is None or self._sent_vecs is None:
            return None
        # A document's chunks are stored in order (ordinal = position), so a
        # passage's chunks, and their sentence rows, are one run.
        base = p["chunk"] - self.chunks[p["chunk"]].ordinal
        a, b = base + p["first"], base + p["last"]
        if not (0 <= a <= b < len(self.chunks)) or self.chunks[a].document_id != p["doc"] or self.chunks[b].document_id != p["doc"]:
            return None
        lo, hi = int(self._sent_first[a]), int(self._sent_first[b + 1])
        if hi <= lo:
            return None
        row = lo + int(np.argmax(self._sent_vecs[lo:hi] @ qv))
        i = int(self._sent_owner[row])
        spans = self._embedded_spans(i)
        if len(spans) != self._sent_first[i + 1] - self._sent_first[i]:  # vectors from another sentence split
            return None
        s, e = spans[row - self._sent_first[i]]
        start = self.chunks[i].start - p["start"]
        return start + s, start + e

    def _embedded_spans(self, i: int) -> list[tuple[int, int]]:
        got = self._span_cache.get(i)
        if got is None:
            if len(self._span_cache) > 50_000:
                self._span_cache.clear()
            got = self._span_cache[i] = embedded_sentence_spans(self.chunks[i].text)
        return got

    def _sentence_highlights(self, key: tuple, quote: str, terms: set[str],
                             nearest: tuple[int, int] | None = None) -> list[tuple[int, int]]:
        """The sentence nearest the question in meaning and the one holding
        most of its (idf-weighted) words; one sentence when they agree. On the
        51 dev/check/held-out questions answered in the top 5 this marks the
        answer in 38 with 74 highlighted sentences; words alone (the best and
        a close runner-up): 32 with 73; meaning alone: 34 with 66
        (docs/evaluation.md)."""
        sentences = self._sentences(key, quote)
        if not sentences:
            return []
        spans = [(s, e) for s, e, _, _ in sentences]
        scored = [(sum(self._weight(t) for t in terms & st) / norm, s, e) for s, e, st, norm in sentences]
        top = max(scored)
        if nearest is not None:
            overlaps = top[1] < nearest[1] and nearest[0] < top[2]
            return sorted([nearest] + ([(top[1], top[2])] if top[0] > 0 and not overlaps else []))
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


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(x)), float(np.max(x))
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def _sentence_table(stored: StoredIndex):
    """The index's sentence vectors (if it has them, see store.py), the chunk
    of each, and where each chunk's rows begin (rows are in chunk order)."""
    if stored.sentences is None:
        return None, None, None
    owner = np.asarray(stored.sentences.owner, dtype=np.int64)
    first = np.searchsorted(owner, np.arange(len(stored.chunks) + 1), side="left")
    return np.asarray(stored.sentences.vectors, dtype="float32"), owner, first


def _strip_quotes(q: str) -> str:
    return q.replace('"', " ").replace("“", " ").replace("”", " ")


def _in_section(c: Chunk, section: str) -> bool:
    """The section and the sections inside it: `section` is a path ("Neglect ›
    Impact of poverty") matched from the top, at whole titles."""
    want = [t.strip().lower() for t in section.split("›") if t.strip()]
    have = [t.lower() for t in c.section_path]
    return bool(want) and have[: len(want)] == want
