"""Retrieval: the façade the API, the CLI, evaluation and the benchmarks
call. A question is analysed once into a `Query` (query.py), then flows one
way: candidates (dense FAISS-style cosines and tantivy BM25) -> fusion ->
re-rank by best sentence (ranking.py) -> passages (passages.py) ->
highlights (highlight.py) -> citations. docs/evaluation.md measures each step."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from . import analysis, features, ranking
from .abstention import Abstention, Signals
from .citations import cite
from .embedding import Embedder
from .highlight import Highlighter
from .lexical import DEFAULT_BOOSTS, LexicalIndex
from .passages import PassageDraft, Shingles, assemble
from .query import Query, analyse, asking_words, holds
from .records import Chunk, Passage
from .store import StoredIndex
from .tokens import TokenTable, maxsim
from .vocabulary import Synonyms, Vocabulary

CANDIDATES = 100
# Passages are always assembled up to the API's largest top_k and then cut,
# so the first passages of an answer never depend on how many were asked for.
MAX_PASSAGES = 20
COVERAGE_DEPTH = 5  # chunks that must hold the question's words for the learned abstention to stand down (or the value it asks for)
NEAR_WORDS = 2  # of the question's rarest words, one must stand near the value (one alone can be a filler, "too")
# Below this cosine similarity of the best chunk, the documents are taken not
# to answer the question. Calibrated on the best cosines of 30 general-knowledge
# questions (bench/offtopic.jsonl: 29 of 30 at most 0.213) against 27 answerable
# ones (dev + bench/check.jsonl: lowest 0.309): 0.25 sits in the gap, with the
# wider margin on the answerable side. See docs/evaluation.md.
ABSTAIN_COSINE = 0.25
# (Abstaining also when the best MaxSim of word pieces was low abstained on
# 56 of 129 answerable questions once two of their words were mistyped:
# rejected, docs/evaluation.md.)


@dataclass(frozen=True)
class AskResult:
    abstained: bool
    passages: list[Passage]
    best_cosine: float
    context: tuple[str, ...] = ()  # the earlier question(s) it was answered in the light of
    corrections: tuple[tuple[str, str], ...] = ()  # (as typed, read as) for its mistyped words
    signals: Signals | None = None  # what the abstention was decided on

    def to_json(self, question: str) -> dict:
        """The API's answer (api.AskResponse); `briefing-qa ask --json` prints the same."""
        return {"question": question, "abstained": self.abstained,
                "missing": self.signals.lacks if self.abstained and self.signals is not None else None,
                "context_used": list(self.context),
                "corrections": [{"typed": a, "read_as": b} for a, b in self.corrections],
                "passages": [p.to_json() for p in self.passages]}


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
    # Weight of the best sentence's cosine in re-ranking the fused head (needs
    # the index's sentence vectors). The largest weight that costs nothing on
    # the dev questions with the service's int8 encoder (0.5 lost a first hit);
    # SciFact train 0.7119 -> 0.7181 (docs/evaluation.md).
    sentence_dense: float = 0.3
    rerank_depth: int = 30  # how many fused candidates sentence scores re-rank
    dedupe: bool = True  # near-duplicates: show the first occurrence, cite the others
    # BM25 weight of the documents' terms for a question's everyday words
    # (data/synonyms.json); 0 switches them off.
    synonyms: float = 0.0
    # Re-rank the fused head with the learned model (data/reranker.json)
    # instead of the fixed best-sentence weight, when the model is there.
    # Measured on the blind report half: 0.486/0.892/0.625 -> 0.459/0.811/0.593
    # (hit@1/hit@5/MRR@10), so off until more blind questions train it.
    learned: bool = False
    # Share of the late-interaction list (tokens.py: MaxSim over word-piece
    # vectors of the dense and BM25 candidates) in the fusion; 0 switches it
    # off. Blind tune/report hit@1, hit@5, MRR@10 in docs/evaluation.md.
    late_weight: float = 0.5
    # Read a mistyped word as the corpus word one edit away ("chlidren"),
    # unless general English uses it (vocabulary.py). Blind questions with two
    # words mistyped (bench/typos.py): hit@1 tune 0.388 -> 0.535, report
    # 0.380 -> 0.598; spelled right, nothing changes (docs/evaluation.md).
    typos: bool = True
    # Abstain also when the model of data/abstention.json (fitted for the
    # index's encoder) reads the ranking as not answering: near-domain
    # questions the cosine floor lets through (docs/evaluation.md).
    learned_abstention: bool = True


@dataclass(frozen=True)
class Ranking:
    order: list[tuple[int, float]]  # chunk numbers and fused scores, best first
    cosines: np.ndarray  # every chunk's cosine with the question (-inf outside the filter)
    signals: Signals  # whether the documents seem to answer (abstention.py)


class Retriever:
    def __init__(self, stored: StoredIndex, embedder: Embedder, lexical: LexicalIndex,
                 abstain_cosine: float = ABSTAIN_COSINE, options: Options | None = None, **overrides) -> None:
        self.stored = stored
        self.embedder = embedder
        self.lexical = lexical
        self.chunks: list[Chunk] = stored.chunks
        self.documents = stored.documents
        self.abstain_cosine = abstain_cosine
        self.options = replace(options or Options(), **overrides)
        self.vectors = stored.vector_array()
        self.vocabulary = Vocabulary.build([c.text for c in self.chunks], (d.text for d in self.documents.values()),
                                           abbreviations=self.options.abbreviations)
        self.sentences = ranking.SentenceTable.of(stored.sentences, len(self.chunks))
        self.tokens = (TokenTable.of(stored.tokens, len(self.chunks))
                       if self.options.late_weight > 0 and hasattr(embedder, "embed_tokens") else None)
        self.highlighter = Highlighter(self.chunks, self.vocabulary, self.sentences, self.tokens)
        self._shingles = Shingles(self.chunks)
        self.synonyms = Synonyms.load() if self.options.synonyms > 0 else None
        self.model = features.Model.load() if self.options.learned else None
        self._facts: features.ChunkFacts | None = None
        self.abstention = Abstention.load(stored.manifest.model) if self.options.learned_abstention else None
        # Each chunk's words, for the abstention's coverage check: built now
        # (0.1 s), not on the first question; the re-ranker's facts share them.
        self._terms = features.chunk_terms(self.chunks) if self.abstention is not None else None

    @property
    def facts(self) -> features.ChunkFacts:
        """Built on first use: only the learned re-ranker and its training read them."""
        if self._facts is None:
            self._facts = features.ChunkFacts.build(self.chunks, {d.id: d.title for d in self.documents.values()},
                                                    text_terms=self._terms)
        return self._facts

    def analyse(self, text: str, with_vector: bool = True, context: tuple[str, ...] | list[str] = (),
                typos: bool | None = None) -> Query:
        """`typos`: put mistyped words right (default: the options' choice)."""
        o = self.options
        query = analyse(text, self.vocabulary, self.embedder.embed if with_vector else None,
                        abbreviations=o.abbreviations, spelling=o.spelling, context=context, synonyms=self.synonyms,
                        embed_tokens=self.embedder.embed_tokens if with_vector and self.tokens is not None else None,
                        typos=o.typos if typos is None else typos)
        if self.tokens is not None and query.tokens is not None:
            query = replace(query, pieces=self.tokens.prepare(query.tokens))
        return query

    # -- ranking -----------------------------------------------------------
    def rank(self, question: str | Query, document_ids: list[str] | None = None) -> list[tuple[int, float]]:
        """Chunks (number, score), best first: what ask() turns into passages."""
        query = question if isinstance(question, Query) else self.analyse(question)
        return self._ranking(query, self._allowed(document_ids), document_ids).order

    def _fused(self, query: Query, allowed: np.ndarray | None, document_ids: list[str] | None):
        """Both candidate lists and their fusion: cosines, dense, BM25, fused scores."""
        o = self.options
        cos = ranking.masked(self.vectors @ query.vector, allowed)
        dense = ranking.dense_candidates(cos, CANDIDATES)
        # Expansions go to BM25 only: appended to the question they moved the
        # dense vector off topic (SciFact train -0.005 nDCG@10).
        lex = self.lexical.search(query.lexical_terms, CANDIDATES, boosts=o.boosts, document_ids=document_ids,
                                  also=query.synonyms, also_weight=o.synonyms)
        late: list[tuple[int, float]] = []
        if self.tokens is not None and query.pieces is not None:
            pool = list(dict.fromkeys(dense + [i for i, _ in lex]))
            scores = maxsim(self.tokens, pool, query.pieces)
            late = [(pool[k], float(scores[k])) for k in np.argsort(-scores, kind="stable")[:CANDIDATES]]
        fused = (ranking.fuse_convex(cos, dense, lex, o.dense_weight, late, o.late_weight) if o.fusion == "convex"
                 else ranking.fuse_rrf(dense, lex, o.dense_weight, o.rrf_k))
        return cos, dense, lex, fused

    def _ranking(self, query: Query, allowed: np.ndarray | None, document_ids: list[str] | None) -> Ranking:
        o = self.options
        cos, dense, lex, fused = self._fused(query, allowed, document_ids)
        order = ranking.ordered(fused)
        best_sentence = None
        if self.model is not None and order:
            head = [i for i, _ in order[: self.model.depth]]
            scores = self.model.score(self.features(query, head, cos, dense, lex, fused))
            order = ranking.reorder(order, scores, self.model.depth)
        elif o.sentence_dense > 0 and self.sentences is not None and order:
            head = [i for i, _ in order[: o.rerank_depth]]
            feature = ranking.best_sentence_cosines(self.sentences, self.vectors, head, query.vector)
            order = ranking.rerank(order, [(o.sentence_dense, feature)], o.rerank_depth)
            best_sentence = float(np.max(feature)) if len(feature) else None
        best = float(cos[dense[0]]) if dense else 0.0
        signals = Signals(best, best if best_sentence is None else best_sentence, float(lex[0][1]) if lex else 0.0,
                          sum(self.vocabulary.weight(t) for t in query.terms), self._covered(query, order),
                          len(query.term_set), self._lacks(query, order))
        return Ranking(order, cos, signals)

    def _lacks(self, query: Query, order: list[tuple[int, float]]) -> str | None:
        """The kind of value the question asks for (a sum, a phone number),
        or the nation it asks about, when none of the first chunks holds one
        near its words."""
        kind = query.asks_for
        if kind is None:
            return None
        # What the value must be about: the question's rarest words the
        # documents use ("lado" in "LADO phone number for Kent"), not the
        # asking words. When they use none of its words, nothing is about it.
        rest = query.term_set - asking_words(kind)
        about = [t for t in rest if t in self.vocabulary.idf]
        if rest and not about:
            return kind
        near = frozenset(sorted(about, key=lambda t: (self.vocabulary.weight(t), t))[-NEAR_WORDS:])
        if any(holds(kind, self.chunks[i].text, near) for i, _ in order[:COVERAGE_DEPTH]):
            return None
        return kind

    def _covered(self, query: Query, order: list[tuple[int, float]]) -> bool:
        """Every meaning word of the question stands in one of the first chunks."""
        if self._terms is None or not query.terms or not order:
            return False
        found = frozenset().union(*(self._terms[i] for i, _ in order[:COVERAGE_DEPTH]))
        return query.term_set <= found

    def features(self, query: Query, head: list[int], cos: np.ndarray, dense: list[int],
                 lex: list[tuple[int, float]], fused: dict[int, float]) -> np.ndarray:
        """The learned re-ranker's features of the head chunks (features.NAMES)."""
        sent = (ranking.best_sentence_cosines(self.sentences, self.vectors, head, query.vector)
                if self.sentences is not None else cos[np.asarray(head, dtype=np.int64)])
        return features.matrix(query, head, self.facts, self.vocabulary, cos, {i: r for r, i in enumerate(dense)},
                               {i: (r, sc) for r, (i, sc) in enumerate(lex)}, fused, sent)

    def candidates(self, question: str, depth: int, context: tuple[str, ...] = ()) -> tuple[list[int], np.ndarray]:
        """The fused head (before any re-rank) and its features: what
        bench/train_reranker.py learns from."""
        query = self.analyse(question, context=context)
        cos, dense, lex, fused = self._fused(query, None, None)
        head = [i for i, _ in ranking.ordered(fused)[:depth]]
        return head, self.features(query, head, cos, dense, lex, fused)

    # -- ask ---------------------------------------------------------------
    def ask(self, question: str, top_k: int = 5, document_ids: list[str] | None = None, base_url: str = "",
            context: tuple[str, ...] | list[str] = ()) -> AskResult:
        """`context`: earlier questions of the same conversation, oldest first."""
        allowed = self._allowed(document_ids)
        if not self.chunks or (allowed is not None and not len(allowed)):
            return AskResult(True, [], 0.0)
        query = self.analyse(question, context=context)
        r = self._ranking(query, allowed, document_ids)
        drafts = assemble([i for i, _ in r.order], self.chunks, MAX_PASSAGES,
                          self._shingles if self.options.dedupe else None)[:top_k]
        passages = [self._passage(d, rank, self._relevance(d, r.cosines), base_url,
                                  lambda d, quote: self.highlighter.for_question(d, quote, query))
                    for rank, d in enumerate(drafts, start=1)]
        return AskResult(self.abstains(r.signals), passages, r.signals.best_cosine, query.context, query.corrections,
                         r.signals)

    def abstains(self, s: Signals) -> bool:
        """The documents do not seem to answer: the question asks for a sum
        or a phone number, or about another nation of the UK, and the first
        passages hold none near its words (Signals.lacks); the best chunk
        is far off; or (the learned rule) its sentences and words are too
        weak together; never otherwise for a keyword the documents use (Signals.keyword)."""
        if s.lacks:
            return True
        if s.keyword:
            return False
        return s.best_cosine < self.abstain_cosine or (self.abstention is not None and self.abstention.abstains(s))

    # -- search ------------------------------------------------------------
    def search(self, q: str, document_id: str | None = None, section: str | None = None, kind: str | None = None,
               limit: int = 10, offset: int = 0, base_url: str = "") -> tuple[int, list[Passage]]:
        """Words and "exact phrases" (every phrase must stand in the passage,
        case and quote marks folded), or every chunk in document order."""
        # Searched as typed: a trainer looking for a word should learn that
        # no passage uses it, not get another word's passages.
        query = self.analyse(q, with_vector=False, typos=False)
        ids = [document_id] if document_id else None
        if query.normal:
            hits = [i for i, _ in self.lexical.search(query.stems, len(self.chunks) or 1, phrases=query.phrases, document_ids=ids)]
            need = [analysis.fold(p) for p in query.phrase_texts]
            hits = [i for i in hits if all(p in analysis.fold(self.chunks[i].text) for p in need)]
        else:  # browsing: everything that passes the filters, in document order
            hits = list(range(len(self.chunks)))
        want = _section_titles(section) if section else None
        hits = [i for i in hits if (document_id is None or self.chunks[i].document_id == document_id)
                and (kind is None or self.chunks[i].kind == kind) and (want is None or _in_section(self.chunks[i], want))]
        drafts = assemble(hits[offset : offset + limit], self.chunks, limit, merge=False)
        passages = [self._passage(d, rank, self._coverage(d, query), base_url,
                                  lambda d, quote: self.highlighter.for_search(quote, query))
                    for rank, d in enumerate(drafts, start=offset + 1)]
        return len(hits), passages

    def suggest(self, q: str) -> str | None:
        """The search with its mistyped words put right ("negelct" ->
        "neglect"; quoted phrases as typed), or None when nothing changes."""
        text, fixes = self.vocabulary.corrected(q)
        return text if fixes else None

    # -- helpers -----------------------------------------------------------
    def _allowed(self, document_ids: list[str] | None) -> np.ndarray | None:
        if not document_ids:
            return None
        ids = set(document_ids)
        return np.fromiter((i for i, c in enumerate(self.chunks) if c.document_id in ids), dtype=np.int64)

    def _relevance(self, d: PassageDraft, cosines: np.ndarray) -> float:
        """The passage's score: the cosine of its closest chunk to the
        question, the same measure across questions (abstention below 0.25)."""
        base = d.chunk - self.chunks[d.chunk].ordinal
        return max(0.0, float(np.max(cosines[base + d.first : base + d.last + 1])))

    def _coverage(self, d: PassageDraft, query: Query) -> float:
        """A search result's score: the share of the query's words it holds."""
        if not query.terms:
            return 0.0
        have = set(analysis.terms(self.documents[d.document_id].text[d.start : d.end]))
        return sum(t in have for t in query.terms) / len(query.terms)

    def _passage(self, d: PassageDraft, rank: int, score: float, base_url: str, highlight) -> Passage:
        doc = self.documents[d.document_id]
        quote = doc.text[d.start : d.end]
        return Passage(
            id=f"{doc.id}:{d.start}-{d.end}", rank=rank, score=round(score, 4), quote=quote,
            highlights=tuple(highlight(d, quote)), kind=d.kind, source_offsets=(d.start, d.end),
            citation=cite(doc, d.section_id, d.start, d.end, base_url),
            also_in=tuple(cite(self.documents[a], sec, s, e, base_url) for a, sec, s, e in d.also),
        )


def _section_titles(section: str) -> tuple[list[str], bool]:
    """A section filter as folded titles, written with › or >; a leading
    separator ("› Neglect") anchors it at the top of the path."""
    path = section.strip().replace("›", ">")
    return [analysis.fold(t) for t in path.split(">") if t.strip()], path.startswith(">")


def _in_section(c: Chunk, want: tuple[list[str], bool]) -> bool:
    """The chunk stands in a section whose path holds the titles as
    consecutive titles, at any level ("Part one", or an inner title alone),
    or from the top when anchored."""
    titles, anchored = want
    have = [analysis.fold(t) for t in c.section_path]
    n = len(titles)
    starts = range(1) if anchored else range(len(have) - n + 1)
    return n > 0 and len(have) >= n and any(all(_title_is(h, w) for h, w in zip(have[k : k + n], titles)) for k in starts)


def _title_is(title: str, want: str) -> bool:
    """The whole title, or its lead before a colon or dash: "Part one" names
    "Part one: Safeguarding information for all staff"."""
    if title == want:
        return True
    rest = title[len(want):].lstrip() if title.startswith(want) else ""
    return rest[:1] in (":", "-", "(")
