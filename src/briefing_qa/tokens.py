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
(index/README.md) and held as float32 (converting the rows of each
question's candidates cost more than the product itself)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .analysis import STOP

_WORD_PIECE = re.compile(r"^(##)?[^\W_]+$")


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
    order), where each chunk's rows begin, and each piece id's idf over the
    chunks."""

    vectors: np.ndarray  # float32
    first: np.ndarray  # len(chunks) + 1
    idf: np.ndarray  # by token id; unseen ids get the highest
    starts: np.ndarray  # int32: each row's offset in its chunk's embedded text (context prefix + text)

    @classmethod
    def of(cls, stored, n_chunks: int) -> TokenTable | None:
        """From store.Tokens (int8 rows, scales, ids, counts), or None."""
        if stored is None:
            return None
        vectors = stored.vectors.astype("float32") * stored.scales[:, None]
        first = np.concatenate([[0], np.cumsum(stored.counts, dtype=np.int64)])
        df = np.zeros(int(stored.ids.max(initial=0)) + 1, dtype=np.int64)
        for i in range(n_chunks):
            df[np.unique(stored.ids[first[i] : first[i + 1]])] += 1
        return cls(vectors, first, np.log1p(n_chunks / (df + 1.0)), stored.starts)

    def weights(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        top = float(np.log1p(len(self.first) - 1))
        return np.where(ids < len(self.idf), self.idf[np.clip(ids, 0, len(self.idf) - 1)], top)


def maxsim(table: TokenTable, idx: list[int], query: TokenVectors) -> np.ndarray:
    """Each chunk's idf-weighted mean, over the question's pieces, of the best
    cosine with one of the chunk's pieces (0 for a chunk with none, or a
    question with none). Candidates come in runs of neighbouring chunks,
    whose rows are contiguous: one product a run, on a view, no copy."""
    out = np.zeros(len(idx), dtype="float64")
    if not len(query.ids) or not len(idx):
        return out
    w = table.weights(query.ids)
    w = w / w.sum()
    qt = np.ascontiguousarray(query.vectors.T, dtype="float32")
    idx_a = np.asarray(idx, dtype=np.int64)
    order = np.argsort(idx_a, kind="stable")
    chunks = idx_a[order]
    breaks = np.nonzero(np.diff(chunks) != 1)[0] + 1
    f = table.first
    for run, pos in zip(np.split(chunks, breaks), np.split(order, breaks)):
        a, b = int(f[run[0]]), int(f[run[-1] + 1])
        starts = f[run] - a
        has = f[run + 1] > f[run]
        if b > a and has.any():
            best = np.maximum.reduceat(table.vectors[a:b] @ qt, starts[has], axis=0)
            out[pos[has]] = best @ w
    return out


def sentence_scores(table: TokenTable, chunk: int, offset: int, spans: list[tuple[int, int]],
                    query: TokenVectors) -> np.ndarray:
    """MaxSim of the question against each span (offsets in the chunk's
    embedded text, shifted by `offset`), counting only the chunk's pieces
    that start inside it: which sentence holds the question's words."""
    out = np.zeros(len(spans))
    a, b = int(table.first[chunk]), int(table.first[chunk + 1])
    if b <= a or not len(query.ids):
        return out
    sims = np.clip(table.vectors[a:b] @ query.vectors.T, 0.0, None)
    w = table.weights(query.ids)
    w = w / w.sum()
    pos = table.starts[a:b].astype(np.int64) + offset
    for k, (s, e) in enumerate(spans):
        inside = (pos >= s) & (pos < e)
        if inside.any():
            out[k] = float(sims[inside].max(axis=0) @ w)
    return out
