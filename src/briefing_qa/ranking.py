"""Ranking, as pure functions over arrays: dense candidates, the fusion of
the dense and BM25 lists, and the re-rank of the fused head by each chunk's
best sentence. docs/evaluation.md measures each step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SentenceTable:
    """The index's sentence vectors as rows of one matrix (rows in chunk
    order), the chunk of each row, and where each chunk's rows begin."""

    vectors: np.ndarray
    owner: np.ndarray
    first: np.ndarray  # len(chunks) + 1: chunk i's rows are first[i]:first[i + 1]

    @classmethod
    def of(cls, sentences, n_chunks: int) -> SentenceTable | None:
        if sentences is None:
            return None
        owner = np.asarray(sentences.owner, dtype=np.int64)
        first = np.searchsorted(owner, np.arange(n_chunks + 1), side="left")
        return cls(np.asarray(sentences.vectors, dtype="float32"), owner, first)


def minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(x)), float(np.max(x))
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def dense_candidates(cos: np.ndarray, n: int) -> list[int]:
    """The n best chunk numbers by cosine (those not masked out with -inf)."""
    n = min(n, len(cos))
    if n <= 0:
        return []
    top = np.argpartition(-cos, n - 1)[:n] if n < len(cos) else np.arange(len(cos))
    top = top[np.argsort(-cos[top], kind="stable")]
    return top[np.isfinite(cos[top])].tolist()


def masked(cos: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
    """Cosines with every chunk outside `allowed` (chunk numbers) at -inf."""
    if allowed is None:
        return cos
    out = np.full(len(cos), -np.inf, dtype="float32")
    out[allowed] = cos[allowed]
    return out


def fuse_convex(cos: np.ndarray, dense: list[int], lexical: list[tuple[int, float]], dense_weight: float,
                late: list[tuple[int, float]] = (), late_weight: float = 0.0) -> dict[int, float]:
    """Weighted sum of min-max scaled scores over each list: the dense and
    BM25 lists share 1 - late_weight, the late-interaction list (best first)
    takes late_weight."""
    fused: dict[int, float] = {}
    lists = [([(i, float(cos[i])) for i in dense], (1.0 - late_weight) * dense_weight),
             (lexical, (1.0 - late_weight) * (1.0 - dense_weight)), (late, late_weight if late else 0.0)]
    for items, weight in lists:
        if not items or weight <= 0:
            continue
        hi, lo = items[0][1], items[-1][1]
        for i, sc in items:
            fused[i] = fused.get(i, 0.0) + weight * (sc - lo) / max(1e-6, hi - lo)
    return fused


def fuse_rrf(dense: list[int], lexical: list[tuple[int, float]], dense_weight: float, k: int) -> dict[int, float]:
    """Reciprocal-rank fusion (the stock baseline in bench/ablation.py)."""
    fused: dict[int, float] = {}
    for rank, i in enumerate(dense):
        fused[i] = fused.get(i, 0.0) + 2 * dense_weight / (k + rank + 1)
    for rank, (i, _) in enumerate(lexical):
        fused[i] = fused.get(i, 0.0) + 2 * (1.0 - dense_weight) / (k + rank + 1)
    return fused


def ordered(scores: dict[int, float]) -> list[tuple[int, float]]:
    """Best first; ties by chunk number, so an order never depends on a dict's history."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def best_sentence_cosines(table: SentenceTable, chunk_vectors: np.ndarray, idx: list[int], qv: np.ndarray) -> np.ndarray:
    """Each chunk's best sentence cosine (its chunk cosine when it has no
    sentence vector), from one product over the rows of all their sentences
    rather than a product per chunk."""
    idx_a = np.asarray(idx, dtype=np.int64)
    out = chunk_vectors[idx_a] @ qv
    best, has = grouped_max(table.vectors, table.first, idx_a, qv)
    if has.any():
        out[has] = best
    return out


def grouped_max(vectors: np.ndarray, first: np.ndarray, idx: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each chunk of `idx` that has rows (chunk i's rows are
    first[i]:first[i + 1] of `vectors`), the best product of one of its rows
    with `q` (a vector, or one column per question piece); and which chunks
    have rows. One gather and one product over all of them (np.take copies
    the ~12,000 rows of a question's candidates faster than indexing)."""
    rows, offsets, has = grouped_rows(first, np.asarray(idx, dtype=np.int64))
    if not has.any():
        return np.zeros((0,) + q.shape[1:], dtype="float32"), has
    return np.maximum.reduceat(np.take(vectors, rows, axis=0) @ q, offsets[has], axis=0), has


def grouped_rows(first: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of chunks `idx` (chunk i's rows are first[i]:first[i + 1]),
    one group after another; where each group begins among them; and which
    chunks have any. Made for np.maximum.reduceat(..., offsets[has])."""
    starts, ends = first[idx], first[idx + 1]
    lens = ends - starts
    offsets = np.cumsum(lens) - lens
    rows = np.repeat(starts - offsets, lens) + np.arange(int(lens.sum()))
    return rows, offsets, lens > 0


def rerank(order: list[tuple[int, float]], features: list[tuple[float, np.ndarray]], depth: int) -> list[tuple[int, float]]:
    """Re-rank the head (`depth` first) of a fused list: its min-max scaled
    score plus each (weight, feature over the head) min-max scaled. The tail
    keeps its order, below the head."""
    head, tail = order[:depth], order[depth:]
    if len(head) < 2 or not features:
        return order
    score = minmax(np.array([sc for _, sc in head]))
    for weight, feat in features:
        score = score + weight * minmax(np.asarray(feat, dtype="float64"))
    ranked = sorted(zip([i for i, _ in head], score.tolist()), key=lambda kv: (-kv[1], kv[0]))
    floor = min(sc for _, sc in ranked)
    return ranked + [(i, floor - 1e-6 * (k + 1)) for k, (i, _) in enumerate(tail)]


def reorder(order: list[tuple[int, float]], scores: np.ndarray, depth: int) -> list[tuple[int, float]]:
    """The head (`depth` first) in the order of `scores`; the tail keeps its
    order below it."""
    head, tail = order[:depth], order[depth:]
    ranked = sorted(zip([i for i, _ in head], np.asarray(scores, dtype="float64").tolist()), key=lambda kv: (-kv[1], kv[0]))
    floor = min((sc for _, sc in ranked), default=0.0)
    return ranked + [(i, floor - 1e-6 * (k + 1)) for k, (i, _) in enumerate(tail)]


def nearest_rows(table: SentenceTable, first_chunk: int, last_chunk: int, qv: np.ndarray) -> np.ndarray:
    """The sentence rows of chunks first..last, nearest the question first."""
    lo, hi = int(table.first[first_chunk]), int(table.first[last_chunk + 1])
    return lo + np.argsort(-(table.vectors[lo:hi] @ qv), kind="stable") if hi > lo else np.zeros(0, dtype=np.int64)
