"""Late interaction: the model's own vector for each word piece of a chunk,
and MaxSim scoring of a question against them.

A chunk's single vector averages its meaning away; the question's words
then meet the chunk's words only through that average. Here each content
word piece of the question (analysis.STOP words, punctuation and the
model's markers left out, on both sides) finds its closest word piece in the
chunk, and the chunk scores the idf-weighted mean of those closest cosines
(ColBERT's MaxSim, with all-MiniLM-L6-v2's contextual token vectors as they
are). "kids" meets "children" and "jail" meets "prison" where BM25 sees
nothing. On the blind questions it is the strongest single signal there is
(docs/evaluation.md). The vectors are stored as int8 with a scale per row
(index/README.md). In memory they are projected on their 128 principal
directions (worked out when the index is loaded, so every stored row keeps
its full vector) and held as float32: a third of the arithmetic and memory,
with the same rankings on the blind questions."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .analysis import STOP
from .ranking import grouped_max

_WORD_PIECE = re.compile(r"^(##)?[^\W_]+$")
PROJECTED = 128  # principal directions kept in memory


@dataclass(frozen=True)
class TokenVectors:
    """A text's content word pieces: the model's ids and their L2-normalised vectors."""

    ids: np.ndarray  # int32
    vectors: np.ndarray  # float32, one row a piece
    starts: np.ndarray | None = None  # int32: where each piece starts in the text (highlights)


def content_mask(vocab: dict[str, int]) -> np.ndarray:
    """For each token id of a vocabulary: is it a content word piece (letters
    or digits, not a stop word, not [CLS]/[SEP]/[PAD])?"""
    mask = np.zeros(max(vocab.values()) + 1, dtype=bool)
    for tok, i in vocab.items():
        mask[i] = bool(_WORD_PIECE.match(tok)) and tok not in STOP
    return mask


def content_tokens(ids: np.ndarray, hidden: np.ndarray, attention: np.ndarray, mask: np.ndarray,
                   starts: np.ndarray | None = None) -> TokenVectors:
    """The rows of one text's last hidden state that are content pieces
    (within its attention mask), normalised; `starts`: each token's start
    offset in the text, kept for the same rows."""
    ids = np.asarray(ids, dtype=np.int64)
    keep = np.asarray(attention, dtype=bool) & mask[np.clip(ids, 0, len(mask) - 1)]
    vecs = np.asarray(hidden, dtype="float32")[keep]
    vecs = vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
    kept = np.asarray(starts, dtype=np.int64)[: len(ids)][keep[: len(starts)]].astype(np.int32) if starts is not None else None
    return TokenVectors(ids[keep].astype(np.int32), vecs.astype("float32"), kept)


def quantise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows with one float32 scale each: a quarter of the size of
    float32, and the same rankings (blind tune and report questions)."""
    v = np.asarray(vectors, dtype="float32")
    scale = np.abs(v).max(axis=1) / 127.0 if len(v) else np.zeros(0, dtype="float32")
    scale = np.where(scale > 0, scale, 1.0).astype("float32")
    return np.round(v / scale[:, None]).astype(np.int8), scale


@dataclass(frozen=True)
class TokenTable:
    """Every chunk's content-piece vectors as rows of one matrix (chunk
    order, projected and normalised), where each chunk's rows begin, each
    piece id's idf over the chunks, and the projection a question's pieces
    go through."""

    vectors: np.ndarray  # float32, rows x PROJECTED
    first: np.ndarray  # len(chunks) + 1
    idf: np.ndarray  # by token id; unseen ids get the highest
    starts: np.ndarray  # int32: each row's offset in its chunk's embedded text (context prefix + text)
    mean: np.ndarray  # what is taken off a vector before the projection
    basis: np.ndarray  # dimension x PROJECTED

    @classmethod
    def of(cls, stored, n_chunks: int) -> TokenTable | None:
        """From store.Tokens (int8 rows, scales, ids, counts, starts), or None."""
        if stored is None:
            return None
        full = stored.vectors.astype("float32") * stored.scales[:, None]
        mean, basis = _principal(full, PROJECTED)
        first = stored.first
        df = np.zeros(int(stored.ids.max(initial=0)) + 1, dtype=np.int64)
        for i in range(n_chunks):
            df[np.unique(stored.ids[first[i] : first[i + 1]])] += 1
        return cls(_project(full, mean, basis), first, np.log1p(n_chunks / (df + 1.0)), stored.starts, mean, basis)

    def weights(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        top = float(np.log1p(len(self.first) - 1))
        return np.where(ids < len(self.idf), self.idf[np.clip(ids, 0, len(self.idf) - 1)], top)

    def project(self, query: TokenVectors) -> np.ndarray:
        """The question's pieces as the rows are held (pieces x PROJECTED)."""
        return _project(np.asarray(query.vectors, dtype="float32"), self.mean, self.basis)

    def prepare(self, query: TokenVectors) -> QueryPieces:
        """The question's pieces projected and weighted once, for MaxSim and
        every passage's highlights alike (once a passage cost 0.15 ms each)."""
        if not len(query.ids):
            return QueryPieces(np.zeros((0, self.vectors.shape[1]), dtype="float32"), np.zeros(0))
        w = self.weights(query.ids)
        return QueryPieces(self.project(query), w / w.sum())


@dataclass(frozen=True)
class QueryPieces:
    """A question's content pieces as a TokenTable holds its rows."""

    vectors: np.ndarray  # float32, pieces x PROJECTED
    weights: np.ndarray  # each piece's idf, summing to 1


def _principal(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows' mean and top-k principal directions (all of them, unrotated,
    when there are no more than k)."""
    dim = rows.shape[1] if rows.ndim == 2 else 0
    if dim <= k or len(rows) <= k:
        return np.zeros(dim, dtype="float32"), np.eye(dim, dtype="float32")
    mean = rows.mean(axis=0)
    centred = rows[:: max(1, len(rows) // 50_000)] - mean  # a sample is plenty for 384 x 384
    _, vecs = np.linalg.eigh(centred.T @ centred)
    return mean.astype("float32"), np.ascontiguousarray(vecs[:, ::-1][:, :k], dtype="float32")


def _project(rows: np.ndarray, mean: np.ndarray, basis: np.ndarray) -> np.ndarray:
    out = (rows - mean) @ basis
    return (out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)).astype("float32")


def maxsim(table: TokenTable, idx: list[int], query: QueryPieces) -> np.ndarray:
    """Each chunk's idf-weighted mean, over the question's pieces, of the best
    cosine with one of the chunk's pieces (0 for a chunk with none, or a
    question with none): one product over the rows of all the chunks."""
    out = np.zeros(len(idx), dtype="float64")
    if not len(query.weights) or not len(idx):
        return out
    best, has = grouped_max(table.vectors, table.first, idx, query.vectors.T)  # chunks x pieces
    if has.any():
        out[has] = best @ query.weights
    return out


def sentence_scores(table: TokenTable, chunk: int, offset: int, spans: list[tuple[int, int]],
                    query: QueryPieces) -> np.ndarray:
    """MaxSim of the question's pieces against each span (offsets in the
    chunk's embedded text, shifted by `offset`; sorted, not overlapping),
    counting only the chunk's pieces that start inside it: which sentence
    holds the question's words."""
    out = np.zeros(len(spans))
    a, b = int(table.first[chunk]), int(table.first[chunk + 1])
    if b <= a or not len(query.weights) or not spans:
        return out
    pos = table.starts[a:b].astype(np.int64) + offset  # ascending: pieces in text order
    lo = np.array([s for s, _ in spans], dtype=np.int64)
    hi = np.array([e for _, e in spans], dtype=np.int64)
    k = np.searchsorted(lo, pos, side="right") - 1
    inside = (k >= 0) & (pos < hi[np.clip(k, 0, None)])
    if not inside.any():
        return out
    rows, which = np.nonzero(inside)[0], k[inside]
    sims = np.clip(table.vectors[a + rows] @ query.vectors.T, 0.0, None)
    cut = np.concatenate([[0], np.nonzero(np.diff(which))[0] + 1])  # each span's rows are contiguous
    out[which[cut]] = np.maximum.reduceat(sims, cut, axis=0) @ query.weights
    return out
