"""What the learned re-ranker reads about a question and each candidate
chunk: signals the service already computes (dense cosine and rank, BM25
score and rank, fused score, best-sentence cosine) and a few about the
question's intent (a quantity or a time limit asked for, its words in the
section path, which document its words point to). Computed as one matrix per
question; the weights live in data/reranker.json (bench/train_reranker.py)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from . import analysis
from .query import Query
from .records import Chunk
from .vocabulary import Vocabulary

NAMES = (
    "fused", "dense_cos", "dense_rrank", "bm25", "bm25_rrank", "sentence_cos",
    "quantity_x_numbers", "time_x_durations", "path_overlap", "text_overlap",
    "log_length", "scope", "kind_key", "kind_list", "neighbour_cos", "section_max_cos", "part_max_cos",
)

# The answer a question wants: a quantity ("how many", "what share", "how
# often") or a time limit ("how long", "within how many days").
_QUANTITY = re.compile(r"\b(how (many|much|often|common|likely)|what (percentage|proportion|share|fraction|number|rate)|"
                       r"percent|per cent|percentage|proportion|statistics?|stats|figures?|numbers?|most common|majority)\b|%", re.I)
_TIME = re.compile(r"\b(how (long|soon|quickly|often)|within|deadline|time ?limit|timescales?|by when|days?|weeks?|months?|hours?)\b", re.I)
_NUMBER = re.compile(r"\b\d[\d,.]*\b|per cent|%|\b(half|third|quarter|two-thirds|three-quarters|majority)\b", re.I)
_DURATION = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|ten|twenty|28)\s+(working\s+)?(days?|weeks?|months?|hours?|years?)\b|"
                       r"\bwithin\b|\bno later than\b|\bas soon as\b", re.I)


def _groups(keys: list) -> np.ndarray:
    ids: dict = {}
    return np.array([ids.setdefault(k, len(ids)) for k in keys], dtype=np.int64)


def chunk_terms(chunks: list[Chunk]) -> tuple[frozenset, ...]:
    """Each chunk's meaning words, stemmed (analysis.terms)."""
    return tuple(frozenset(analysis.terms(c.text)) for c in chunks)


def wants_quantity(q: Query) -> bool:
    return bool(_QUANTITY.search(q.normal))


def wants_time(q: Query) -> bool:
    return bool(_TIME.search(q.normal)) and not wants_quantity(q)


@dataclass(frozen=True)
class ChunkFacts:
    """Per-chunk facts computed once per index version."""

    numbers: np.ndarray  # how many numbers/shares the text holds (capped)
    durations: np.ndarray  # how many durations / time limits
    log_length: np.ndarray
    kind_key: np.ndarray  # key message or learning points: the briefing's answers in brief
    kind_list: np.ndarray  # reflective questions: questions, not answers
    text_terms: tuple[frozenset, ...]
    path_terms: tuple[frozenset, ...]  # document title and section path
    doc_index: np.ndarray  # which document (position in `documents`)
    documents: tuple[str, ...]
    doc_logp: np.ndarray  # documents x vocabulary: smoothed log P(stem | document)
    stem_index: dict
    section: np.ndarray  # group number of the chunk's section
    part: np.ndarray  # group number of its top-level section (document, first title)
    prev: np.ndarray  # the chunk before it in its document, or itself
    next: np.ndarray

    @classmethod
    def build(cls, chunks: list[Chunk], titles: dict[str, str], mu: float = 2000.0,
              text_terms: tuple[frozenset, ...] | None = None) -> ChunkFacts:
        """`text_terms`: each chunk's terms (chunk_terms), when the caller has them."""
        docs = tuple(sorted({c.document_id for c in chunks}))
        pos = {d: i for i, d in enumerate(docs)}
        text_terms = text_terms if text_terms is not None else chunk_terms(chunks)
        path_terms = tuple(frozenset(analysis.terms(" ".join((titles.get(c.document_id, ""), *c.section_path))))
                           for c in chunks)
        # Which document a question's words point to: Dirichlet-smoothed
        # unigram models of each document (learned from the corpus, no list).
        stems: dict[str, int] = {}
        counts: list[dict[int, int]] = [dict() for _ in docs]
        for c in chunks:
            row = counts[pos[c.document_id]]
            for t in analysis.terms(c.text):
                j = stems.setdefault(t, len(stems))
                row[j] = row.get(j, 0) + 1
        mat = np.zeros((len(docs), max(1, len(stems))), dtype="float64")
        for i, row in enumerate(counts):
            for j, n in row.items():
                mat[i, j] = n
        corpus = (mat.sum(axis=0) + 1.0) / (mat.sum() + mat.shape[1])
        logp = np.log((mat + mu * corpus) / (mat.sum(axis=1, keepdims=True) + mu))
        return cls(
            numbers=np.array([min(5, len(_NUMBER.findall(c.text))) for c in chunks], dtype="float64"),
            durations=np.array([min(3, len(_DURATION.findall(c.text))) for c in chunks], dtype="float64"),
            log_length=np.array([math.log(1 + len(c.text)) for c in chunks], dtype="float64"),
            kind_key=np.array([c.kind in ("key_message", "learning_points") for c in chunks], dtype="float64"),
            kind_list=np.array([c.kind == "reflective_questions" for c in chunks], dtype="float64"),
            text_terms=text_terms, path_terms=path_terms,
            doc_index=np.array([pos[c.document_id] for c in chunks], dtype=np.int64),
            documents=docs, doc_logp=logp.astype("float32"), stem_index=stems,
            section=_groups([(c.document_id, c.section_id) for c in chunks]),
            part=_groups([(c.document_id, c.section_path[:1]) for c in chunks]),
            prev=np.array([i - 1 if i > 0 and chunks[i - 1].document_id == c.document_id else i for i, c in enumerate(chunks)]),
            next=np.array([i + 1 if i + 1 < len(chunks) and chunks[i + 1].document_id == c.document_id else i
                           for i, c in enumerate(chunks)]),
        )

    def group_max(self, groups: np.ndarray, cos: np.ndarray) -> np.ndarray:
        """For each chunk, the best cosine among the chunks of its group."""
        best = np.full(int(groups.max()) + 1, -1.0)
        np.maximum.at(best, groups, np.where(np.isfinite(cos), cos, -1.0))
        return best[groups]

    def scope(self, q: Query) -> np.ndarray:
        """P(document | the question's words), from the documents' own
        vocabulary (uniform when none of its words is known)."""
        idx = [self.stem_index[t] for t in q.terms if t in self.stem_index]
        if not idx:
            return np.full(len(self.documents), 1.0 / max(1, len(self.documents)))
        s = self.doc_logp[:, idx].sum(axis=1).astype("float64")
        s = np.exp(s - s.max())
        return s / s.sum()


def matrix(q: Query, cand: list[int], facts: ChunkFacts, vocabulary: Vocabulary, cos: np.ndarray,
           dense_rank: dict[int, int], lexical: dict[int, tuple[int, float]], fused: dict[int, float],
           sentence_cos: np.ndarray) -> np.ndarray:
    """One row of NAMES per candidate chunk."""
    n = len(cand)
    idx = np.asarray(cand, dtype=np.int64)
    f = np.zeros((n, len(NAMES)), dtype="float64")
    fz = np.array([fused[i] for i in cand])
    f[:, 0] = fz / max(1e-9, float(fz.max()))
    f[:, 1] = cos[idx]
    f[:, 2] = [1.0 / (1 + dense_rank[i]) if i in dense_rank else 0.0 for i in cand]
    top_bm25 = max((s for _, s in lexical.values()), default=1.0) or 1.0
    f[:, 3] = [lexical[i][1] / top_bm25 if i in lexical else 0.0 for i in cand]
    f[:, 4] = [1.0 / (1 + lexical[i][0]) if i in lexical else 0.0 for i in cand]
    f[:, 5] = sentence_cos
    f[:, 6] = facts.numbers[idx] if wants_quantity(q) else 0.0
    f[:, 7] = facts.durations[idx] if wants_time(q) else 0.0
    terms = q.term_set
    total = sum(vocabulary.weight(t) for t in terms) or 1.0
    f[:, 8] = [sum(vocabulary.weight(t) for t in terms & facts.path_terms[i]) / total for i in cand]
    f[:, 9] = [sum(vocabulary.weight(t) for t in terms & facts.text_terms[i]) / total for i in cand]
    f[:, 10] = facts.log_length[idx]
    f[:, 11] = facts.scope(q)[facts.doc_index[idx]]
    f[:, 12] = facts.kind_key[idx]
    f[:, 13] = facts.kind_list[idx]
    # The company a chunk keeps: its neighbours, its section, its part.
    f[:, 14] = np.maximum(cos[facts.prev[idx]], cos[facts.next[idx]])
    f[:, 15] = facts.group_max(facts.section, cos)[idx]
    f[:, 16] = facts.group_max(facts.part, cos)[idx]
    return f


MODEL = __import__("pathlib").Path(__file__).parent / "data" / "reranker.json"


@dataclass(frozen=True)
class Model:
    """A linear model over NAMES (standardised), from data/reranker.json:
    plain numbers, no pickle. Higher scores rank first."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    depth: int
    version: int

    @classmethod
    def load(cls, path=MODEL) -> Model | None:
        import json

        if not path.is_file():
            return None
        d = json.loads(path.read_text(encoding="utf-8"))
        if tuple(d["features"]) != NAMES:
            return None  # trained on other features: retrain (bench/train_reranker.py)
        return cls(tuple(d["features"]), np.asarray(d["mean"]), np.asarray(d["scale"]), np.asarray(d["weights"]),
                   int(d["depth"]), int(d["version"]))

    def score(self, f: np.ndarray) -> np.ndarray:
        return ((f - self.mean) / self.scale) @ self.weights
